// Internal: pattern rules — per key, the partial matches of a compiled NFA over a shared
// buffer, processed as FlinkCEP's NFA does (doProcess / computeNextStates / advanceTime /
// processMatchesAccordingToSkipStrategy), including its queue order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nfa/java_heap.h"
#include "nfa/program.h"
#include "nfa/shared_buffer.h"
#include "rule_runtime.h"

namespace vigil::cep {

class PatternRule final : public RuleRuntime {
 public:
  PatternRule(uint32_t index, const RuleSpec* spec);
  ~PatternRule() override;

  void OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) override;
  void OnTimer(KeyHandle& key, Timestamp deadline, RuntimeContext& ctx) override;
  void FinishKey(KeyHandle& key, RuntimeContext& ctx) override;
  void OnFinish(RuntimeContext& ctx) override;
  ConditionIndex StartIndex() const override;
  bool SeesAllEventsOfLiveKeys() const override { return true; }
  RuleStateStats StateStats() const override;

  const NfaProgram& program() const { return *program_; }
  size_t key_count() const { return states_.size(); }
  // Partial matches across keys (not counting each key's start state).
  size_t partial_match_count() const;
  size_t state_bytes() const;

 private:
  // One partial match (FlinkCEP ComputationState). The start state is a Run too, with no
  // start event, ordered after every other run.
  struct Run {
    uint32_t state = 0;
    BufferNode* prev = nullptr;  // last taken event; holds a reference
    Dewey version;
    bool has_start = false;
    Timestamp start_time = 0;    // of the first taken event
    uint64_t start_seq = 0;      // with start_time: the first event's place in time order
    Timestamp prev_time = 0;     // of the last taken event
  };
  // FlinkCEP's COMPUTATION_STATE_COMPARATOR: by the first event (time, then order).
  struct RunOrder {
    int operator()(const Run& a, const Run& b) const {
      if (a.has_start != b.has_start) return a.has_start ? -1 : 1;
      if (!a.has_start) return 0;
      if (a.start_time != b.start_time) return a.start_time < b.start_time ? -1 : 1;
      if (a.start_seq != b.start_seq) return a.start_seq < b.start_seq ? -1 : 1;
      return 0;
    }
  };
  using RunQueue = JavaHeap<Run, RunOrder>;

  struct KeyState {
    SharedBuffer buffer;
    RunQueue partial;    // includes the start state
    RunQueue completed;  // matches held back until earlier partial matches resolve
    // The earliest `within` deadline a timer is armed for; kMaxTimestamp: none.
    Timestamp timer_at = kMaxTimestamp;
    size_t index = 0;  // in states_
    explicit KeyState(NodePool* pool);
    bool empty() const { return partial.size() <= 1 && completed.empty(); }
  };

  class RunContext;  // what an iterative condition sees of a run

  void ProcessEvent(KeyState& ks, const EventPtr& event, std::string_view key,
                    RuntimeContext& ctx);
  void AdvanceTime(KeyState& ks, Timestamp time, std::string_view key, RuntimeContext& ctx);
  // Arms a timer for the earliest `within` deadline of the key's partial matches.
  void ArmTimer(KeyState& ks, const KeyHandle& key, RuntimeContext& ctx);
  // Keeps `ks` as the key's state if it holds anything, else frees it.
  void Settle(KeyState* ks, KeyHandle& key, RuntimeContext& ctx);
  std::unique_ptr<KeyState> NewKeyState();
  void ComputeNextStates(KeyState& ks, const Run& run, const EventPtr& event,
                         std::vector<Run>* out);
  bool EvalCond(const EdgeCondPtr& c, const Run& run, KeyState& ks);
  // FlinkCEP processMatchesAccordingToSkipStrategy. With `flush`, releases every held match.
  void ReleaseMatches(KeyState& ks, RunQueue& potential, RunQueue& partial,
                      std::string_view key, RuntimeContext& ctx, bool flush);
  // Emits `match`, whose events are in path_ (at the end of input: holds it in held_).
  void Emit(const Run& match, std::string_view key, RuntimeContext& ctx);
  void Prune(RunQueue& runs, KeyState& ks);
  void EnforceCap(KeyState& ks, RuntimeContext& ctx);
  void DropAll(KeyState& ks);
  // Drops a key's state, counting shared-buffer nodes that outlive it (a leak).
  void Forget(KeyState& ks);
  size_t leaked_nodes_ = 0;

  std::shared_ptr<const NfaProgram> program_;
  NodePool pool_;  // before the states, which return their nodes to it
  // Every key's state (owned; the engine's KeyTable holds the same pointers).
  std::vector<KeyState*> states_;
  std::unique_ptr<KeyState> scratch_;  // for keys without state, so most events allocate nothing
  std::vector<std::unique_ptr<KeyState>> free_states_;  // emptied states, for reuse
  static constexpr size_t kMaxFreeStates = 256;
  bool finishing_ = false;
  std::vector<Match> held_;  // at the end of input: matches released by FinishKey
  int32_t skip_step_ = -1;

  // Per event: results of non-iterative leaf conditions (0 unknown, 1 false, 2 true).
  std::vector<uint8_t> leaf_cache_;
  const EventPtr* current_event_ = nullptr;
  RunContext* current_view_ = nullptr;
  struct Branch {
    EdgeAction action;
    uint32_t source;
    uint32_t target;
  };
  std::vector<Branch> branches_;
  std::vector<uint32_t> dfs_;
  std::vector<SharedBuffer::Entry> path_;
  std::vector<Run> produced_;
  // Per-event queues, kept for their capacity (swapped with a key's queues).
  RunQueue next_partial_, potential_, timed_partial_, timed_potential_;
  Match match_;
};

}  // namespace vigil::cep
