#include "nfa/pattern_rule.h"

#include "vigil/cep/json_array.h"

#include <algorithm>
#include <cstring>

namespace vigil::cep {

namespace {

uint32_t SelfIncrease(int ignores, int takes) {
  return takes == 0 && ignores == 0 ? 0 : static_cast<uint32_t>(ignores + std::max(1, takes));
}

}  // namespace

// The events a run has taken so far, grouped by step, read from the shared buffer the
// first time an iterative condition asks (FlinkCEP ConditionContext.getEventsForPattern).
class PatternRule::RunContext final : public StepEvents {
 public:
  explicit RunContext(size_t steps) : steps_(steps) {}

  // Shows `run` of the key whose buffer is `buffer` from now on.
  void Reset(const SharedBuffer* buffer, const Run* run) {
    buffer_ = buffer;
    run_ = run;
    done_ = false;
  }

  size_t Count(uint32_t step) const override {
    Materialize();
    return step < by_step_.size() ? by_step_[step].size() : 0;
  }
  const Event& Get(uint32_t step, size_t i) const override {
    Materialize();
    return *by_step_[step][i];
  }

 private:
  void Materialize() const {
    if (done_) return;
    done_ = true;
    by_step_.resize(steps_);
    for (auto& v : by_step_) v.clear();
    buffer_->Extract(run_->prev, run_->version, &path_);
    for (const auto& e : path_) by_step_[e.step].push_back(e.event->get());
  }

  const SharedBuffer* buffer_ = nullptr;
  const Run* run_ = nullptr;
  size_t steps_;
  mutable bool done_ = false;
  mutable std::vector<std::vector<const Event*>> by_step_;
  mutable std::vector<SharedBuffer::Entry> path_;
};

PatternRule::KeyState::KeyState(NodePool* pool) : buffer(pool) {}

PatternRule::PatternRule(uint32_t index, const RuleSpec* spec)
    : RuleRuntime(index, spec), program_(CompilePattern(*spec)), within_(program_->within) {
  for (const NfaLeaf& l : program_->leaves) {
    Leaf leaf;
    leaf.condition = l.condition;
    leaf.iterative = l.iterative;
    ConditionIndex ci = l.condition->Index();
    // A few candidate strings are cheaper to compare than the condition is to evaluate.
    if (ci.kind == ConditionIndex::Kind::kFieldEquals && ci.values.size() <= 4) {
      leaf.pre = ci.kind;
      leaf.field = ci.field;
      leaf.values = ci.values;
    } else if (ci.kind == ConditionIndex::Kind::kPredicateBit) {
      leaf.pre = ci.kind;
      leaf.bit = ci.bit;
    }
    leaves_.push_back(std::move(leaf));
  }
  for (const NfaState& st : program_->states) {
    State flat{static_cast<uint32_t>(edges_.size()), 0, st.type,
               static_cast<uint32_t>(st.step), false};
    for (const NfaEdge& e : st.edges) {
      Edge edge{e.action, Test::kAlways, e.target, 0};
      if (!e.cond || e.cond->kind == EdgeCond::Kind::kTrue) {
        edge.test = Test::kAlways;
      } else if (e.cond->kind == EdgeCond::Kind::kLeaf) {
        edge.test = Test::kLeaf;
        edge.arg = e.cond->leaf;
      } else if (e.cond->kind == EdgeCond::Kind::kNot && e.cond->a &&
                 e.cond->a->kind == EdgeCond::Kind::kLeaf) {
        edge.test = Test::kNotLeaf;
        edge.arg = e.cond->a->leaf;
      } else {
        edge.test = Test::kTree;
        edge.arg = Flatten(e.cond);
      }
      edges_.push_back(edge);
      flat.has_proceed |= e.action == EdgeAction::kProceed;
    }
    flat.end_edge = static_cast<uint32_t>(edges_.size());
    has_stop_ |= st.type == NfaStateType::kStop;
    states_.push_back(flat);
  }
  leaf_epoch_.assign(leaves_.size(), 0);
  leaf_value_.assign(leaves_.size(), 0);
  view_ = std::make_unique<RunContext>(spec->steps.size());
  if (spec->skip == SkipStrategy::kToFirst || spec->skip == SkipStrategy::kToLast) {
    for (size_t i = 0; i < spec->steps.size(); ++i) {
      if (spec->steps[i].name == spec->skip_step) skip_step_ = static_cast<int32_t>(i);
    }
  }
  scratch_ = std::make_unique<KeyState>(&pool_);
}

PatternRule::~PatternRule() {
  // The engine frees nothing it does not own; states still held (a run that never
  // finished) are freed here.
  for (KeyState* ks : key_states_) {
    if (ks == nullptr) continue;
    DropAll(*ks);
    delete ks;
  }
  if (scratch_) DropAll(*scratch_);
}

std::unique_ptr<PatternRule::KeyState> PatternRule::NewKeyState() {
  if (free_states_.empty()) return std::make_unique<KeyState>(&pool_);
  std::unique_ptr<KeyState> ks = std::move(free_states_.back());
  free_states_.pop_back();
  return ks;
}

void PatternRule::Forget(KeyState& ks) {
  DropAll(ks);
  leaked_nodes_ += ks.buffer.node_count();
}

void PatternRule::OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) {
  KeyState* ks = static_cast<KeyState*>(key.state);
  if (ks == nullptr) {
    ks = scratch_.get();
    if (ks->partial.empty()) {
      Run start;
      start.state = program_->start;
      start.version = Dewey(1);
      ks->partial.Add(std::move(start));
    }
  }
  ProcessEvent(*ks, event, key.key, ctx);
  Settle(ks, key, ctx);
}

void PatternRule::OnTimer(KeyHandle& key, Timestamp deadline, RuntimeContext& ctx) {
  auto* ks = static_cast<KeyState*>(key.state);
  if (deadline >= ks->timer_at) ks->timer_at = kMaxTimestamp;  // the armed timer fired
  AdvanceTime(*ks, deadline, key.key, ctx);
  Settle(ks, key, ctx);
}

void PatternRule::Register(KeyState* ks, KeyHandle& key) {
  if (free_indexes_.empty()) {
    ks->index = key_states_.size();
    key_states_.push_back(ks);
  } else {
    ks->index = free_indexes_.back();
    free_indexes_.pop_back();
    key_states_[ks->index] = ks;
  }
  ++live_states_;
  key.state = ks;
}

void PatternRule::Free(KeyState* ks, KeyHandle& key) {
  // The slot is left empty for the next key: moving the last state into it would touch
  // another key's state, a cache miss for nothing.
  key_states_[ks->index] = nullptr;
  free_indexes_.push_back(ks->index);
  --live_states_;
  ks->timer_at = kMaxTimestamp;
  ks->collect_at = kCollectFloor;
  if (free_states_.size() < std::max(kMinFreeStates, live_states_)) {
    free_states_.emplace_back(ks);
  } else {
    delete ks;
  }
  key.state = nullptr;
}

void PatternRule::EvictKey(KeyHandle& key) {
  auto* ks = static_cast<KeyState*>(key.state);
  Forget(*ks);  // the store holds it; its nodes go back to the pool
  Free(ks, key);
}

size_t PatternRule::KeyBytes(const void* state) const {
  const auto& ks = *static_cast<const KeyState*>(state);
  size_t n = sizeof(KeyState) + ks.buffer.bytes() + ks.buffer.event_bytes() +
             ks.completed.size() * sizeof(Run);
  if (ks.partial.size() > 2) n += ks.partial.size() * sizeof(Run);  // beyond the inline two
  return n;
}

void PatternRule::Settle(KeyState* ks, KeyHandle& key, RuntimeContext& ctx) {
  if (ks == scratch_.get()) {
    if (ks->empty()) {
      Forget(*ks);  // back to a bare start state for the next key
      return;
    }
    ks = scratch_.release();
    scratch_ = NewKeyState();
    Register(ks, key);
  } else if (ks->empty()) {
    Forget(*ks);  // a key without partial matches holds no state
    Free(ks, key);
    return;
  }
  ArmTimer(*ks, key, ctx);
}

void PatternRule::ProcessEvent(KeyState& ks, const EventPtr& event, std::string_view key,
                               RuntimeContext& ctx) {
  // FlinkCEP's operator advances time to the event's timestamp before processing it.
  AdvanceTime(ks, event->time, key, ctx);

  if (spec().reset_on) {
    EvalContext plain{*event, nullptr};
    if (spec().reset_on->Eval(plain)) {
      // EQL `until`: the key's pending partial matches are discarded; the event is in none.
      RunQueue survivors;
      for (Run& r : ks.partial) {
        if (r.has_start) ks.buffer.Release(r.prev);
        else survivors.Add(std::move(r));
      }
      ks.partial.swap(survivors);
      MatchQueue none;
      ReleaseMatches(ks, none, ks.partial, key, ctx, false);
      return;
    }
  }

  current_event_ = event.get();
  if (++epoch_ == 0) {  // forgets the previous event's leaf results
    std::fill(leaf_epoch_.begin(), leaf_epoch_.end(), 0);
    epoch_ = 1;
  }
  ks.buffer.BeginEvent();

  RunQueue& next_partial = next_partial_;
  MatchQueue& potential = potential_;
  next_partial.clear();
  potential.clear();
  if (!has_stop_) {
    // Without stop states no branch is discarded: each next state goes straight to its
    // queue (finals are matches, everything else waits for the next event).
    for (Run& run : ks.partial) {
      ComputeNextStates(ks, run, event, [&](Run&& n) {
        if (states_[n.state].type == NfaStateType::kFinal) {
          potential.Add(std::move(n));
        } else {
          next_partial.Add(std::move(n));
        }
      });
    }
  } else {
    for (Run& run : ks.partial) {
      produced_.clear();
      ComputeNextStates(ks, run, event, [&](Run&& n) { produced_.push_back(std::move(n)); });
      // Finals are matches; a stop state kills the whole branch (a notFollowedBy / notNext
      // condition held); everything else waits for the next event.
      bool discard = false;
      size_t kept = 0;
      for (Run& n : produced_) {
        switch (states_[n.state].type) {
          case NfaStateType::kFinal: potential.Add(std::move(n)); break;
          case NfaStateType::kStop:
            discard = true;
            ks.buffer.Release(n.prev);
            break;
          default:
            if (&produced_[kept] != &n) produced_[kept] = std::move(n);
            ++kept;
        }
      }
      produced_.resize(kept);
      for (Run& n : produced_) {
        if (discard && n.has_start) {
          ks.buffer.Release(n.prev);
          continue;
        }
        // The start state always survives (FlinkCEP would lose it in this corner case, and
        // the key could never match again).
        next_partial.Add(std::move(n));
      }
    }
  }
  ks.partial.TakeFrom(next_partial);  // consumed runs released their references as they went
  ks.buffer.EndEvent();
  current_event_ = nullptr;

  if (spec().skip != SkipStrategy::kNoSkip) {
    ReleaseMatches(ks, potential, ks.partial, key, ctx, false);
  } else {
    for (Run& m : potential) {
      ks.buffer.Extract(m.prev, m.version, &path_);
      Emit(m, key, ctx);
      ks.buffer.Release(m.prev);
    }
    potential.clear();
  }
  EnforceCap(ks, ctx);
}

void PatternRule::ExpireRuns(KeyState& ks, Timestamp time, std::string_view key,
                             RuntimeContext& ctx) {
  const Duration within = within_;
  if (ks.completed.empty()) {
    // The usual expiry: every partial match timed out, none is an absence that completes,
    // nothing is held back. The general loop below would leave the start state alone (the
    // one run without a start) and release no match: do that without rebuilding the queue.
    bool all = true;
    size_t survivors = 0;
    for (const Run& r : ks.partial) {
      if (!r.has_start) {
        ++survivors;
      } else if (time - r.start_time < within || states_[r.state].type == NfaStateType::kPending) {
        all = false;
        break;
      }
    }
    if (all && survivors <= 1) {
      for (size_t i = 0; i < ks.partial.size(); ++i) {
        Run& r = ks.partial[i];
        if (r.has_start) {
          ks.buffer.Release(r.prev);
        } else if (i != 0) {
          ks.partial[0] = std::move(r);
        }
      }
      ks.partial.Truncate(survivors);
      return;
    }
  }
  RunQueue& next_partial = timed_partial_;
  MatchQueue& potential = timed_potential_;
  next_partial.clear();
  potential.clear();
  for (Run& r : ks.partial) {
    if (r.has_start && time - r.start_time >= within) {
      if (states_[r.state].type == NfaStateType::kPending) {
        potential.Add(std::move(r));  // an absence that lasted until its deadline: a match
      } else {
        ks.buffer.Release(r.prev);  // could not finish in time
      }
    } else {
      next_partial.Add(std::move(r));
    }
  }
  ReleaseMatches(ks, potential, next_partial, key, ctx, false);
  ks.partial.TakeFrom(next_partial);
}

bool PatternRule::EvalLeafSlow(uint32_t i) {
  const Leaf& leaf = leaves_[i];
  // Condition::Index is necessary for Eval: where it fails, so would the condition.
  bool pass = true;
  if (leaf.pre == ConditionIndex::Kind::kFieldEquals) {
    const Value& v = current_event_->field(leaf.field);
    auto listed = [&leaf](std::string_view text) {
      for (const std::string& s : leaf.values) {
        if (s.size() == text.size() && std::memcmp(s.data(), text.data(), s.size()) == 0) return true;
      }
      return false;
    };
    if (v.kind == ValueKind::kString) {
      pass = listed(v.s);
    } else if (IsJsonArray(v)) {  // an array passes when any element does
      pass = AnyArrayElement(v.s, [&](const Value& e) { return e.kind == ValueKind::kString && listed(e.s); });
    } else {
      pass = false;
    }
  } else if (leaf.pre == ConditionIndex::Kind::kPredicateBit) {
    pass = current_event_->predicate_bit(leaf.bit);
  }
  if (leaf.iterative) {
    if (!pass) return false;
    EvalContext ec{*current_event_, view_.get()};  // showing `run` (ComputeNextStates)
    return leaf.condition->Eval(ec);
  }
  if (pass) {
    EvalContext ec{*current_event_, nullptr};
    pass = leaf.condition->Eval(ec);
  }
  leaf_epoch_[i] = epoch_;  // iterative leaves never get here: their epoch stays 0
  leaf_value_[i] = pass ? 1 : 0;
  return pass;
}

bool PatternRule::EvalCond(uint32_t c) {
  if (c == kAlways) return true;
  const Cond& n = conds_[c];
  switch (n.kind) {
    case EdgeCond::Kind::kTrue: return true;
    case EdgeCond::Kind::kNot: return !EvalCond(n.a);
    case EdgeCond::Kind::kAnd: return EvalCond(n.a) && EvalCond(n.b);
    case EdgeCond::Kind::kLeaf: return EvalLeaf(n.leaf);
  }
  return false;
}

template <typename Sink>
void PatternRule::ComputeNextStates(KeyState& ks, const Run& run, const EventPtr& event,
                                    Sink&& sink) {
  const bool is_start = !run.has_start;
  if (program_->iterative) view_->Reset(&ks.buffer, &run);

  // FlinkCEP createDecisionGraph: follow PROCEED edges (epsilon moves) whose condition holds
  // and collect the TAKE and IGNORE edges that apply to this event.
  branches_.clear();
  int takes = 0, ignores = 0;
  auto visit = [&](uint32_t st) {
    const State& s = states_[st];
    for (uint32_t i = s.first_edge; i < s.end_edge; ++i) {
      const Edge& e = edges_[i];
      if (!EvalEdge(e)) continue;
      if (e.action == EdgeAction::kProceed) {
        dfs_.push_back(e.target);
        continue;
      }
      branches_.push_back(Branch{e.action, st, e.target});
      bool self_ignore = e.action == EdgeAction::kIgnore && e.target == run.state;
      if (!self_ignore) (e.action == EdgeAction::kTake ? takes : ignores)++;
    }
  };
  dfs_.clear();
  visit(run.state);
  while (!dfs_.empty()) {
    uint32_t st = dfs_.back();
    dfs_.pop_back();
    visit(st);
  }

  // Every branch gets its own Dewey version (FlinkCEP computeNextStates). Each IGNORE
  // branch and each buffer edge of a TAKE holds a reference to run.prev; the consumed run's
  // own reference is handed to them at the end, so the common single-branch step does not
  // touch run.prev (another key's node, rarely in cache) at all.
  uint32_t prev_refs = 0;
  int take_to_visit = std::max(0, takes - 1);
  int ignore_to_visit = ignores;
  const int take_to_skip = std::max(0, takes - 1);
  for (const Branch& b : branches_) {
    if (b.action == EdgeAction::kIgnore) {
      if (is_start) continue;
      Run n;
      if (b.target == run.state) {
        n.version.AssignIncreased(run.version, SelfIncrease(ignores, takes), false);
      } else {
        n.version.AssignIncreased(
            run.version, static_cast<uint32_t>(take_to_skip + ignore_to_visit), true);
        --ignore_to_visit;
      }
      ++prev_refs;
      n.prev = run.prev;
      n.start_time = run.start_time;
      n.start_seq = run.start_seq;
      n.state = b.target;
      n.has_start = true;
      sink(std::move(n));
      continue;
    }
    // TAKE: the event goes into the buffer under the current version; the new run carries
    // the version one stage deeper.
    Dewey current;
    current.AssignIncreased(run.version, static_cast<uint32_t>(std::max(0, take_to_visit)), false);
    --take_to_visit;
    const uint32_t step = states_[b.source].step;
    BufferNode* node = ks.buffer.Put(event, step, run.prev, current);
    ++prev_refs;  // the new edge to run.prev
    const Timestamp start_time = is_start ? event->time : run.start_time;
    const uint64_t start_seq = is_start ? event->seq : run.start_seq;
    // If the new state reaches the end through PROCEED edges, the match is complete now
    // (FlinkCEP findFinalStateAfterProceed, evaluated in the consumed run's context).
    uint32_t final_state = UINT32_MAX;
    if (states_[b.target].has_proceed) {
      dfs_.clear();
      dfs_.push_back(b.target);
      while (!dfs_.empty() && final_state == UINT32_MAX) {
        uint32_t st = dfs_.back();
        dfs_.pop_back();
        const State& s = states_[st];
        for (uint32_t i = s.first_edge; i < s.end_edge; ++i) {
          const Edge& e = edges_[i];
          if (e.action != EdgeAction::kProceed || !EvalEdge(e)) continue;
          if (states_[e.target].type == NfaStateType::kFinal) {
            final_state = e.target;
            break;
          }
          dfs_.push_back(e.target);
        }
      }
    }
    Run n;
    n.version.AssignIncreased(current, 0, true);
    SharedBuffer::Acquire(node);
    n.prev = node;
    n.start_time = start_time;
    n.start_seq = start_seq;
    n.state = b.target;
    n.has_start = true;
    if (final_state == UINT32_MAX) {
      sink(std::move(n));
      continue;
    }
    Run done;
    done.version = n.version;
    sink(std::move(n));
    SharedBuffer::Acquire(node);
    done.prev = node;
    done.start_time = start_time;
    done.start_seq = start_seq;
    done.state = final_state;
    done.has_start = true;
    sink(std::move(done));
  }
  if (is_start) {
    Run start;
    start.state = run.state;
    start.version.AssignIncreased(run.version, SelfIncrease(ignores, takes), false);
    sink(std::move(start));
  } else if (prev_refs == 0) {
    ks.buffer.Release(run.prev);  // the run ends here
  } else {
    run.prev->refs += prev_refs - 1;  // its own reference went to the first branch
  }
}

template <typename Queue>
void PatternRule::Prune(Queue& runs, KeyState& ks) {
  if (path_.empty()) return;
  const Event* pivot = nullptr;
  bool inclusive = true;
  switch (spec().skip) {
    case SkipStrategy::kNoSkip: return;
    case SkipStrategy::kToNext: pivot = path_.front().event->get(); break;
    case SkipStrategy::kPastLastEvent: pivot = path_.back().event->get(); break;
    case SkipStrategy::kToFirst:
    case SkipStrategy::kToLast:
      inclusive = false;
      for (const auto& e : path_) {
        if (static_cast<int32_t>(e.step) != skip_step_) continue;
        pivot = e.event->get();
        if (spec().skip == SkipStrategy::kToFirst) break;
      }
      if (!pivot) return;  // the step took no event in this match
      break;
  }
  runs.RemoveIf(
      [&](const Run& r) {
        if (!r.has_start) return false;
        if (r.start_time != pivot->time) return r.start_time < pivot->time;
        return inclusive ? r.start_seq <= pivot->seq : r.start_seq < pivot->seq;
      },
      [&](Run& r) { ks.buffer.Release(r.prev); });
}

void PatternRule::ReleaseMatchesSlow(KeyState& ks, MatchQueue& potential, RunQueue& partial,
                                     std::string_view key, RuntimeContext& ctx, bool flush) {
  for (Run& m : potential) ks.completed.Add(std::move(m));
  potential.clear();
  while (!ks.completed.empty()) {
    // A match waits while a partial match that started earlier may still complete.
    if (!flush && !partial.empty() && RunOrder()(ks.completed.Peek(), partial.Peek()) > 0) break;
    Run m = ks.completed.Poll();
    ks.buffer.Extract(m.prev, m.version, &path_);
    Prune(partial, ks);
    Prune(ks.completed, ks);
    Emit(m, key, ctx);
    ks.buffer.Release(m.prev);
  }
}

void PatternRule::Emit(const Run& m, std::string_view key, RuntimeContext& ctx) {
  match_.rule = index();
  match_.key.assign(key);
  match_.value.reset();
  match_.events.clear();
  for (const auto& e : path_) {
    match_.events.push_back(MatchedEvent{spec().steps[e.step].name, *e.event});
  }
  match_.time = states_[m.state].type == NfaStateType::kPending
                    ? SaturatingAdd(m.start_time, program_->within)
                    : m.prev->event->time;
  if (finishing_) {
    held_.push_back(match_);
  } else {
    ctx.Emit(match_);
  }
  match_.events.clear();
}

void PatternRule::DropOldest(KeyState& ks, RuntimeContext& ctx) {
  const size_t cap = spec().max_partial_matches;
  while (ks.partial.size() > cap + 1) {
    Run oldest = ks.partial.Poll();
    ks.buffer.Release(oldest.prev);
    ++ctx.stats(index()).partial_matches_dropped;
  }
}

void PatternRule::DropAll(KeyState& ks) {
  for (Run& r : ks.partial) ks.buffer.Release(r.prev);
  for (Run& r : ks.completed) ks.buffer.Release(r.prev);
  ks.partial.clear();
  ks.completed.clear();
}

void PatternRule::FinishKey(KeyHandle& key, RuntimeContext& ctx) {
  // The input ended: incomplete partial matches are dropped without an alert; matches the
  // skip strategy was holding back are released, and emitted in OnFinish across keys in
  // the order they started.
  auto* ks = static_cast<KeyState*>(key.state);
  finishing_ = true;
  for (Run& r : ks->partial) ks->buffer.Release(r.prev);
  ks->partial.clear();
  MatchQueue none;
  ReleaseMatches(*ks, none, ks->partial, key.key, ctx, true);
  finishing_ = false;
  Settle(ks, key, ctx);
}

void PatternRule::OnFinish(RuntimeContext& ctx) {
  std::stable_sort(held_.begin(), held_.end(), [](const Match& a, const Match& b) {
    const Event& x = *a.events.front().event;
    const Event& y = *b.events.front().event;
    return x.time != y.time ? x.time < y.time : x.seq < y.seq;
  });
  for (Match& m : held_) ctx.Emit(m);
  held_.clear();
}

}  // namespace vigil::cep
