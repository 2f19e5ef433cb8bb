// Internal: a compiled pattern — NFA states and their TAKE / IGNORE / PROCEED edges, with
// FlinkCEP's construction (NFACompiler), so that matches, their order and the effect of
// every step option are FlinkCEP's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/condition.h"
#include "vigil/cep/rule.h"

namespace vigil::cep {

// A condition on an edge: the rule's conditions combined with not/and (FlinkCEP's
// RichNotCondition / RichAndCondition). Leaves index NfaProgram::leaves.
struct EdgeCond {
  enum class Kind : uint8_t { kTrue, kLeaf, kNot, kAnd };
  Kind kind = Kind::kTrue;
  uint32_t leaf = 0;
  std::shared_ptr<const EdgeCond> a, b;
};
using EdgeCondPtr = std::shared_ptr<const EdgeCond>;

enum class EdgeAction : uint8_t { kTake, kIgnore, kProceed };

struct NfaEdge {
  EdgeAction action;
  uint32_t target;
  EdgeCondPtr cond;  // null: always true
};

enum class NfaStateType : uint8_t { kNormal, kFinal, kStop, kPending };

struct NfaState {
  std::string name;     // unique: the step name, then "name:0", "name:1"... for more states of a step
  int32_t step = -1;    // the step whose events a TAKE from this state records; -1 for the end
  NfaStateType type = NfaStateType::kNormal;
  bool start = false;
  std::vector<NfaEdge> edges;
};

struct NfaLeaf {
  const Condition* condition;
  bool iterative;  // reads the partial match (steps.*): evaluated per partial match
};

struct NfaProgram {
  std::vector<NfaState> states;
  uint32_t start = 0;
  std::vector<NfaLeaf> leaves;
  Duration within = 0;
  // Whether any edge condition is iterative (needs the partial match's events).
  bool iterative = false;

  // One line per state with its edges, for tests and debugging.
  std::string DebugString() const;
};

// Compiles `rule`'s steps. REQUIRES: the rule was validated (rules/ does that): a
// non-empty pattern, no absent first step, absent last only with `within`.
std::shared_ptr<const NfaProgram> CompilePattern(const RuleSpec& rule);

}  // namespace vigil::cep
