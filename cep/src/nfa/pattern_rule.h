// Internal: pattern rules — per key, the partial matches of a compiled NFA over a shared
// buffer, processed as FlinkCEP's NFA does (doProcess / computeNextStates / advanceTime /
// processMatchesAccordingToSkipStrategy), including its queue order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nfa/inline_vec.h"
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
  void SaveKey(const void* state, KeyedWriter& out) const override;      // pattern_rule_state.cc
  bool LoadKey(KeyedReader& in, KeyHandle& key, RuntimeContext& ctx) override;
  void Prefetch(const void* state, int level) const override;
  size_t KeyBytes(const void* state) const override;
  void EvictKey(KeyHandle& key) override;

  const NfaProgram& program() const { return *program_; }
  size_t key_count() const { return live_states_; }
  // Partial matches across keys (not counting each key's start state).
  size_t partial_match_count() const;
  size_t state_bytes() const;

 private:
  // One partial match (FlinkCEP ComputationState). The start state is a Run too, with no
  // start event, ordered after every other run. 64 bytes: the time of the last taken
  // event is prev->event->time.
  struct Run {
    BufferNode* prev = nullptr;  // last taken event; holds a reference
    Dewey version;
    Timestamp start_time = 0;    // of the first taken event
    uint64_t start_seq = 0;      // with start_time: the first event's place in time order
    uint32_t state = 0;
    bool has_start = false;
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
  // A key's partial matches: the start state and usually one or two runs, kept inline.
  using RunQueue = JavaHeap<Run, RunOrder, InlineVec<Run, 2>>;
  // Completed matches held back by the skip strategy: usually none.
  using MatchQueue = JavaHeap<Run, RunOrder>;

  // Four cache lines, aligned: the engine prefetches a state's first 256 bytes.
  struct alignas(64) KeyState {
    RunQueue partial;    // includes the start state
    // The earliest `within` deadline a timer is armed for; kMaxTimestamp: none.
    Timestamp timer_at = kMaxTimestamp;
    SharedBuffer buffer;
    // Buffer bytes past which its unreachable edges are collected (LimitState).
    size_t collect_at = kCollectFloor;
    MatchQueue completed;  // matches held back until earlier partial matches resolve
    size_t index = 0;  // in key_states_
    explicit KeyState(NodePool* pool);
    bool empty() const { return partial.size() <= 1 && completed.empty(); }
  };

  // The NFA in flat arrays, as this runtime walks it per event and partial match.
  static constexpr uint32_t kAlways = UINT32_MAX;  // an edge without condition
  struct Cond {  // EdgeCond, with children by index into conds_
    EdgeCond::Kind kind;
    uint32_t leaf;
    uint32_t a, b;
  };
  // An edge's condition by shape: most are true, one leaf, or a negated leaf (an IGNORE
  // of relaxed contiguity), tested without walking a tree.
  enum class Test : uint8_t { kAlways, kLeaf, kNotLeaf, kTree };
  struct Edge {
    EdgeAction action;
    Test test;
    uint32_t target;
    uint32_t arg;  // kLeaf, kNotLeaf: the leaf; kTree: the root in conds_
  };
  struct State {
    uint32_t first_edge, end_edge;  // into edges_
    NfaStateType type;
    uint32_t step;      // of a TAKE from here
    bool has_proceed;   // any PROCEED edge: the decision graph goes beyond this state
  };
  struct Leaf {
    const Condition* condition = nullptr;
    bool iterative = false;
    // Necessary condition (Condition::Index) tested before Eval: a field equal to one of
    // a few strings, or a predicate bit.
    ConditionIndex::Kind pre = ConditionIndex::Kind::kNone;
    FieldId field = 0;
    std::vector<std::string> values;
    uint32_t bit = 0;
  };
  uint32_t Flatten(const EdgeCondPtr& c);

  class RunContext;  // what an iterative condition sees of a run

  void ProcessEvent(KeyState& ks, const EventPtr& event, std::string_view key,
                    RuntimeContext& ctx);
  // FlinkCEP advanceTime: drops (or, for a pending absence, completes) the partial matches
  // whose `within` deadline passed by `time`.
  void AdvanceTime(KeyState& ks, Timestamp time, std::string_view key, RuntimeContext& ctx) {
    if (within_ <= 0 || ks.partial.empty()) return;
    const Run& earliest = ks.partial.Peek();
    if (!earliest.has_start || time - earliest.start_time < within_) return;  // none timed out
    ExpireRuns(ks, time, key, ctx);
  }
  void ExpireRuns(KeyState& ks, Timestamp time, std::string_view key, RuntimeContext& ctx);
  // Arms a timer for the earliest `within` deadline of the key's partial matches.
  void ArmTimer(KeyState& ks, const KeyHandle& key, RuntimeContext& ctx) {
    if (within_ <= 0 || ks.partial.empty()) return;
    const Run& earliest = ks.partial.Peek();
    if (!earliest.has_start) return;
    const Timestamp deadline = SaturatingAdd(earliest.start_time, within_);
    if (deadline >= ks.timer_at) return;  // the armed timer comes first
    ks.timer_at = deadline;
    ctx.ScheduleTimer(index(), deadline, key);
  }
  // Makes `ks` a key's state: in key_states_, counted, and in the handle.
  void Register(KeyState* ks, KeyHandle& key);
  // Frees a key's state whose runs are gone (Forget); sets key.state to null.
  void Free(KeyState* ks, KeyHandle& key);
  // Keeps `ks` as the key's state if it holds anything, else frees it.
  void Settle(KeyState* ks, KeyHandle& key, RuntimeContext& ctx);
  std::unique_ptr<KeyState> NewKeyState();
  // FlinkCEP computeNextStates: hands every run `run` becomes on `event` to sink(Run&&),
  // in FlinkCEP's order, and releases `run`'s reference.
  template <typename Sink>
  void ComputeNextStates(KeyState& ks, const Run& run, const EventPtr& event, Sink&& sink);
  bool EvalCond(uint32_t cond);
  bool EvalLeaf(uint32_t leaf) {
    if (leaf_epoch_[leaf] == epoch_) return leaf_value_[leaf] != 0;  // non-iterative, known
    return EvalLeafSlow(leaf);
  }
  bool EvalLeafSlow(uint32_t leaf);
  bool EvalEdge(const Edge& e) {
    switch (e.test) {
      case Test::kAlways: return true;
      case Test::kLeaf: return EvalLeaf(e.arg);
      case Test::kNotLeaf: return !EvalLeaf(e.arg);
      case Test::kTree: return EvalCond(e.arg);
    }
    return false;
  }
  // FlinkCEP processMatchesAccordingToSkipStrategy. With `flush`, releases every held match.
  void ReleaseMatches(KeyState& ks, MatchQueue& potential, RunQueue& partial,
                      std::string_view key, RuntimeContext& ctx, bool flush) {
    if (potential.empty() && ks.completed.empty()) return;
    ReleaseMatchesSlow(ks, potential, partial, key, ctx, flush);
  }
  void ReleaseMatchesSlow(KeyState& ks, MatchQueue& potential, RunQueue& partial,
                          std::string_view key, RuntimeContext& ctx, bool flush);
  // Emits `match`, whose events are in path_ (at the end of input: holds it in held_).
  void Emit(const Run& match, std::string_view key, RuntimeContext& ctx);
  template <typename Queue>
  void Prune(Queue& runs, KeyState& ks);
  void EnforceCap(KeyState& ks, RuntimeContext& ctx) {
    const size_t cap = spec().max_partial_matches;
    if (cap != 0 && ks.partial.size() > cap + 1) DropOldest(ks, ctx);  // +1: the start state
    if (ks.buffer.bytes() > ks.collect_at) LimitState(ks, ctx);
  }
  // A key's buffer only grows while it has partial matches: edges of partial matches that
  // ended stay on nodes that live ones share. Collected when the buffer has doubled since
  // the last time (at least kCollectFloor bytes), so the work is proportional to growth;
  // past max_state_bytes the oldest partial matches are dropped (pattern_rule_index.cc).
  static constexpr size_t kCollectFloor = size_t{1} << 20;
  void LimitState(KeyState& ks, RuntimeContext& ctx);
  void Collect(KeyState& ks);
  void DropOldest(KeyState& ks, RuntimeContext& ctx);
  void DropAll(KeyState& ks);
  // Drops a key's state, counting shared-buffer nodes that outlive it (a leak).
  void Forget(KeyState& ks);
  size_t leaked_nodes_ = 0;

  std::shared_ptr<const NfaProgram> program_;
  Duration within_ = 0;  // program_->within
  std::vector<State> states_;
  std::vector<Edge> edges_;
  std::vector<Cond> conds_;
  std::vector<Leaf> leaves_;
  bool has_stop_ = false;  // any stop state (notFollowedBy / notNext)
  NodePool pool_;  // before the states, which return their nodes to it
  // Every key's state (owned; the engine's KeyTable holds the same pointers).
  std::vector<KeyState*> key_states_;  // null where a key's state was freed
  std::vector<size_t> free_indexes_;    // the null slots of key_states_
  size_t live_states_ = 0;
  std::unique_ptr<KeyState> scratch_;  // for keys without state, so most events allocate nothing
  // Emptied states, for reuse: at most max(kMinFreeStates, keys with state).
  std::vector<std::unique_ptr<KeyState>> free_states_;
  static constexpr size_t kMinFreeStates = 256;
  bool finishing_ = false;
  std::vector<Match> held_;  // at the end of input: matches released by FinishKey
  int32_t skip_step_ = -1;

  // Per event: results of non-iterative leaf conditions, valid where leaf_epoch_ == epoch_.
  std::vector<uint32_t> leaf_epoch_;
  std::vector<uint8_t> leaf_value_;
  uint32_t epoch_ = 0;
  const Event* current_event_ = nullptr;
  std::unique_ptr<RunContext> view_;  // the current run, for iterative conditions
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
  RunQueue next_partial_, timed_partial_;
  MatchQueue potential_, timed_potential_;
  Match match_;
};

}  // namespace vigil::cep
