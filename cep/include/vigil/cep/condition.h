// Conditions: the compiled form of a rule's expressions, as the engine calls them.
// cep/ does not know how they were written; rules/ implements them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/cep/event.h"

namespace vigil::cep {

// What an iterative condition sees of the partial match it would extend: the events
// each earlier step took, and for a looping step the events it has taken so far.
// Valid only during the call that received it.
class StepEvents {
 public:
  virtual ~StepEvents() = default;
  // Number of events step `step` (its index in the rule) has taken.
  virtual size_t Count(uint32_t step) const = 0;
  // The i-th event (0 = first) taken by `step`. REQUIRES: i < Count(step).
  virtual const Event& Get(uint32_t step, size_t i) const = 0;
};

struct EvalContext {
  const Event& event;
  // Null outside pattern rules, and when the condition does not use steps.
  const StepEvents* steps = nullptr;
};

// A necessary condition for Condition::Eval to be true that the engine can test without
// evaluating it: "field F is one of these strings", "shared predicate bit B is set", or
// "one of these shared predicate bits is set". The engine indexes rules by it so that, per
// event, rules that cannot start a match are not called at all (architecture decision 1).
struct ConditionIndex {
  enum class Kind { kNone, kFieldEquals, kPredicateBit, kAnyPredicateBit };
  Kind kind = Kind::kNone;
  FieldId field = 0;
  std::vector<std::string> values;  // kFieldEquals: the field's string value is one of these
  uint32_t bit = 0;                 // kPredicateBit
  std::vector<uint32_t> bits;       // kAnyPredicateBit: sorted, no duplicates, two or more

  // The index that holds when either `a` or `b` holds (kNone if it cannot be expressed).
  static ConditionIndex Union(const ConditionIndex& a, const ConditionIndex& b);
};

// A boolean expression over one event (and, for pattern steps, the partial match).
// Thread safety: Eval is const and may run on several threads at once.
class Condition {
 public:
  virtual ~Condition() = default;
  virtual bool Eval(const EvalContext& ctx) const = 0;
  // True if Eval reads ctx.steps; the engine passes steps only then.
  virtual bool UsesSteps() const { return false; }
  // A necessary condition for Eval to be true, or kNone.
  virtual ConditionIndex Index() const { return {}; }
};

}  // namespace vigil::cep
