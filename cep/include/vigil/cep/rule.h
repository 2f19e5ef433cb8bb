// The engine's view of a rule: what to match and how, with conditions already compiled.
// Built by rules/ from YAML; cep/ never sees YAML.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigil/cep/condition.h"
#include "vigil/cep/event.h"
#include "vigil/cep/time.h"

namespace vigil::cep {

enum class RuleKind { kSingleEvent, kPattern, kThreshold };

// How a step relates to the previous one (FlinkCEP next / followedBy / followedByAny).
enum class Contiguity { kStrict, kRelaxed, kAny };

struct StepSpec {
  std::string name;
  std::shared_ptr<const Condition> where;
  Contiguity contiguity = Contiguity::kRelaxed;
  // Events taken: [min_count, max_count]; max_count == kUnbounded for {min: N}.
  static constexpr uint32_t kUnbounded = UINT32_MAX;
  uint32_t min_count = 1;
  uint32_t max_count = 1;
  bool optional = false;
  bool greedy = false;
  bool consecutive = false;   // looping: taken events must be consecutive for the key
  bool combinations = false;  // looping: allowCombinations
  std::shared_ptr<const Condition> until;  // looping: ends the loop; null = none
  bool absent = false;        // notFollowedBy / notNext

  bool looping() const { return max_count > 1; }
};

enum class SkipStrategy { kNoSkip, kToNext, kPastLastEvent, kToFirst, kToLast };

struct ThresholdSpec {
  enum class Aggregate { kCount, kDistinct, kSum };
  Aggregate aggregate = Aggregate::kCount;
  FieldId field = 0;     // kDistinct, kSum
  double bound = 0;      // fires when the aggregate >= bound
  Duration window = 0;
};

struct RuleSpec {
  std::string id;
  // A hash of everything that decides what the rule matches: checkpointed state of the
  // rule is restored only into a rule with the same id and hash (rules' loader sets it).
  uint64_t semantics_hash = 0;
  // Stream index (Engine::AddStream); nullopt reads every stream.
  std::optional<uint32_t> stream;
  // Partition key: field ids and their paths (for alerts). Empty = one global key.
  std::vector<FieldId> key_fields;
  std::vector<std::string> key_names;

  RuleKind kind = RuleKind::kSingleEvent;
  // kSingleEvent and kThreshold: which events count.
  std::shared_ptr<const Condition> where;

  // kPattern.
  std::vector<StepSpec> steps;
  Duration within = 0;  // 0 = unbounded
  std::shared_ptr<const Condition> reset_on;
  SkipStrategy skip = SkipStrategy::kPastLastEvent;
  std::string skip_step;  // for kToFirst / kToLast
  size_t max_partial_matches = 10000;
  // Bound on one key's shared buffer (nodes, edges, versions; approximate bytes): past it
  // the oldest partial matches are dropped, counted as partial_matches_dropped, until the
  // buffer is under half of it. 0: no bound. Not a rule field yet (engine default).
  size_t max_state_bytes = size_t{16} << 20;

  // kThreshold.
  ThresholdSpec threshold;

  // After an alert for a key, further alerts for that key within this event-time span are
  // suppressed (counted). 0 = none.
  Duration suppress = 0;
};

}  // namespace vigil::cep
