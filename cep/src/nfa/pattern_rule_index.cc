// What the engine asks of a pattern rule besides its events and timers: the start index
// that decides which events reach it, its state statistics, prefetch hints; and the
// flattening of edge conditions the constructor uses.
#include <algorithm>
#include <cstdint>

#include "nfa/pattern_rule.h"
#include "prefetch.h"

namespace vigil::cep {

uint32_t PatternRule::Flatten(const EdgeCondPtr& c) {
  Cond flat{c->kind, c->leaf, kAlways, kAlways};
  if (c->a) flat.a = Flatten(c->a);
  if (c->b) flat.b = Flatten(c->b);
  conds_.push_back(flat);
  return static_cast<uint32_t>(conds_.size() - 1);
}

namespace {

ConditionIndex EdgeIndex(const EdgeCondPtr& c, const NfaProgram& p) {
  if (!c) return {};
  switch (c->kind) {
    case EdgeCond::Kind::kLeaf: return p.leaves[c->leaf].condition->Index();
    case EdgeCond::Kind::kAnd: {
      ConditionIndex a = EdgeIndex(c->a, p);
      return a.kind != ConditionIndex::Kind::kNone ? a : EdgeIndex(c->b, p);
    }
    default: return {};
  }
}

}  // namespace

ConditionIndex PatternRule::StartIndex() const {
  // Without state for a key, only a TAKE from the start state (directly or after PROCEED
  // edges) can do anything: the union of those TAKE conditions is necessary.
  std::vector<uint32_t> stack{program_->start};
  std::vector<bool> seen(program_->states.size());
  bool any = false;
  ConditionIndex u;
  while (!stack.empty()) {
    uint32_t st = stack.back();
    stack.pop_back();
    if (seen[st]) continue;
    seen[st] = true;
    for (const NfaEdge& e : program_->states[st].edges) {
      if (e.action == EdgeAction::kProceed) {
        stack.push_back(e.target);
      } else if (e.action == EdgeAction::kTake) {
        ConditionIndex i = EdgeIndex(e.cond, *program_);
        if (i.kind == ConditionIndex::Kind::kNone) return {};
        u = any ? ConditionIndex::Union(u, i) : i;
        any = true;
        if (u.kind == ConditionIndex::Kind::kNone) return {};
      }
    }
  }
  if (!any) {
    // Nothing can ever start: an index on no values.
    ConditionIndex never;
    never.kind = ConditionIndex::Kind::kFieldEquals;
    return never;
  }
  return u;
}

RuleStateStats PatternRule::StateStats() const {
  RuleStateStats st;
  st.keys = live_states_;
  st.partial_matches = partial_match_count();
  for (const KeyState* ks : key_states_) {
    if (ks != nullptr) st.buffered_nodes += ks->buffer.node_count();
  }
  st.bytes = state_bytes();
  st.leaked_nodes = leaked_nodes_;
  return st;
}

void PatternRule::Prefetch(const void* state, int level) const {
  // An expiring key releases its runs' last nodes, their events and the nodes and events
  // before them: level 1 fetches the last nodes, level n + 1 the events of the nodes n - 1
  // steps back and the nodes before those.
  const auto* ks = static_cast<const KeyState*>(state);
  const size_t n = std::min<size_t>(ks->partial.size(), 3);
  for (size_t i = 0; i < n; ++i) {
    const BufferNode* node = ks->partial[i].prev;
    for (int step = 2; step < level && node != nullptr; ++step) node = node->first.target;
    if (node == nullptr) continue;
    if (level > 1) {
      // make_shared puts the event's reference counts just before it.
      cep::Prefetch(
          reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(node->event.get()) - 16));
      node = node->first.target;
      if (node == nullptr) continue;
    }
    cep::Prefetch(node);
    cep::Prefetch(reinterpret_cast<const char*>(node) + 64);
  }
}

size_t PatternRule::partial_match_count() const {
  size_t n = 0;
  for (const KeyState* ks : key_states_) {
    if (ks != nullptr) n += ks->partial.size() - 1;
  }
  return n;
}

size_t PatternRule::state_bytes() const {
  size_t n = 0;
  for (const KeyState* ks : key_states_) {
    if (ks == nullptr) continue;
    n += sizeof(KeyState) + ks->buffer.bytes() + ks->completed.size() * sizeof(Run);
    if (ks->partial.size() > 2) n += ks->partial.size() * sizeof(Run);  // beyond the inline two
  }
  return n;
}

void PatternRule::Collect(KeyState& ks) {
  std::vector<SharedBuffer::Root> roots;
  roots.reserve(ks.partial.size() + ks.completed.size());
  for (Run& r : ks.partial) {
    if (r.prev != nullptr) roots.push_back({r.prev, &r.version});
  }
  for (Run& r : ks.completed) {
    if (r.prev != nullptr) roots.push_back({r.prev, &r.version});
  }
  ks.buffer.Collect(roots);
}

void PatternRule::LimitState(KeyState& ks, RuntimeContext& ctx) {
  Collect(ks);
  const size_t limit = spec().max_state_bytes;
  if (limit != 0 && ks.buffer.bytes() > limit) {
    // The oldest partial matches hold the longest paths: drop half of them at a time (the
    // start state, ordered last, stays) until the buffer is under half the limit.
    while (ks.buffer.bytes() > limit / 2 && ks.partial.size() > 1) {
      const size_t drop = std::max<size_t>(1, (ks.partial.size() - 1) / 2);
      for (size_t i = 0; i < drop; ++i) {
        Run oldest = ks.partial.Poll();
        ks.buffer.Release(oldest.prev);
        ++ctx.stats(index()).partial_matches_dropped;
      }
      Collect(ks);
    }
  }
  const size_t bytes = ks.buffer.bytes();
  ks.collect_at = std::max(kCollectFloor, 2 * bytes);
  // Under the limit, check again at the limit; over it (held matches), once it grew by half.
  if (limit != 0) ks.collect_at = std::min(ks.collect_at, std::max(limit, bytes + bytes / 2));
}

}  // namespace vigil::cep
