// Checkpoints of a pattern rule's state for one key: its partial matches (in the array
// order of FlinkCEP's queue, which decides processing order), the completed matches held
// back, and the shared-buffer nodes they reach, each node once, targets before the nodes
// pointing to them. Reference counts are not stored: they are rebuilt from the runs and
// edges that hold them.
#include <unordered_map>

#include "nfa/pattern_rule.h"

namespace vigil::cep {

namespace {

void WriteDewey(Writer& w, const Dewey& d) {
  w.Varint(d.length());
  for (size_t i = 0; i < d.length(); ++i) w.Varint(d[i]);
}

bool ReadDewey(Reader& r, Dewey* out) {
  const uint64_t n = r.Count();
  if (!r.ok()) return false;
  Dewey d;
  for (uint64_t i = 0; i < n; ++i) {
    const auto digit = static_cast<uint32_t>(r.Varint());
    d = i == 0 ? Dewey(digit) : d.AddStage().Increase(digit);
  }
  *out = std::move(d);
  return r.ok();
}

}  // namespace

void PatternRule::SaveKey(const void* state, KeyedWriter& out) const {
  const auto& ks = *static_cast<const KeyState*>(state);
  // Number the reachable nodes in post-order: every edge's target before its node.
  std::unordered_map<const BufferNode*, uint32_t> ids;
  std::vector<const BufferNode*> order;
  std::vector<std::pair<const BufferNode*, uint32_t>> stack;
  auto visit = [&](const BufferNode* root) {
    if (root == nullptr || ids.count(root) != 0) return;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [node, next_edge] = stack.back();
      if (next_edge < node->edge_count) {
        const BufferNode* target = node->edge(next_edge++).target;
        if (target != nullptr && ids.count(target) == 0) stack.emplace_back(target, 0);
        continue;
      }
      if (ids.count(node) == 0) {  // a node reached twice on the stack is numbered once
        ids.emplace(node, static_cast<uint32_t>(order.size()));
        order.push_back(node);
      }
      stack.pop_back();
    }
  };
  for (const Run& r : ks.partial) visit(r.prev);
  for (const Run& r : ks.completed) visit(r.prev);

  Writer& w = out.body();
  w.Varint(order.size());
  for (const BufferNode* n : order) {
    out.EventRef(n->event);
    w.Varint(n->step);
    w.Varint(n->edge_count);
    for (uint32_t i = 0; i < n->edge_count; ++i) {
      const BufferEdge& e = n->edge(i);
      w.Varint(e.target == nullptr ? 0 : ids.at(e.target) + 1);
      WriteDewey(w, e.version);
    }
  }
  auto write_runs = [&](const auto& runs) {
    w.Varint(runs.size());
    for (const Run& r : runs) {
      w.Varint(r.prev == nullptr ? 0 : ids.at(r.prev) + 1);
      WriteDewey(w, r.version);
      w.Svarint(r.start_time);
      w.Varint(r.start_seq);
      w.Varint(r.state);
      w.U8(r.has_start ? 1 : 0);
    }
  };
  write_runs(ks.partial);
  write_runs(ks.completed);
}

bool PatternRule::LoadKey(KeyedReader& in, KeyHandle& key, RuntimeContext& ctx) {
  // Read and check everything first; build the buffer only from a blob that holds together.
  struct NodeIn {
    EventPtr event;
    uint32_t step;
    std::vector<std::pair<uint64_t, Dewey>> edges;  // target (0: none, else index + 1)
  };
  struct RunIn {
    uint64_t prev;
    Run run;
  };
  Reader& r = in.body();
  const uint64_t n_nodes = r.Count();
  std::vector<NodeIn> nodes;
  std::vector<uint32_t> refs;
  nodes.reserve(n_nodes);
  bool ok = r.ok();
  for (uint64_t i = 0; i < n_nodes && ok; ++i) {
    NodeIn n;
    n.event = in.EventRef();
    n.step = static_cast<uint32_t>(r.Varint());
    ok = n.event != nullptr && n.step < spec().steps.size();
    const uint64_t n_edges = ok ? r.Count() : 0;
    for (uint64_t j = 0; j < n_edges && ok; ++j) {
      const uint64_t target = r.Varint();
      Dewey version;
      ok = ReadDewey(r, &version) && target <= i;  // targets come first: edges point back
      if (ok) n.edges.emplace_back(target, std::move(version));
    }
    ok = ok && r.ok() && n.edges.size() >= 1;
    nodes.push_back(std::move(n));
  }
  refs.assign(nodes.size(), 0);
  for (const NodeIn& n : nodes) {
    for (const auto& e : n.edges) {
      if (e.first != 0) ++refs[e.first - 1];
    }
  }
  std::vector<RunIn> partial, completed;
  auto read_runs = [&](std::vector<RunIn>& runs) {
    const uint64_t n = r.Count();
    for (uint64_t i = 0; i < n && ok; ++i) {
      RunIn in_run;
      in_run.prev = r.Varint();
      ok = ReadDewey(r, &in_run.run.version) && in_run.prev <= nodes.size();
      in_run.run.start_time = r.Svarint();
      in_run.run.start_seq = r.Varint();
      in_run.run.state = static_cast<uint32_t>(r.Varint());
      in_run.run.has_start = r.U8() != 0;
      ok = ok && r.ok() && in_run.run.state < states_.size();
      if (ok && in_run.prev != 0) ++refs[in_run.prev - 1];
      runs.push_back(std::move(in_run));
    }
  };
  if (ok) read_runs(partial);
  if (ok) read_runs(completed);
  ok = ok && r.ok() && r.done() && !partial.empty();
  // Every node is held by a run or an edge, or the blob was not written by SaveKey.
  for (uint32_t c : refs) ok = ok && c > 0;
  if (!ok) return false;

  std::unique_ptr<KeyState> owned = NewKeyState();
  KeyState& ks = *owned;
  std::vector<BufferNode*> built;
  built.reserve(nodes.size());
  for (NodeIn& n : nodes) {
    BufferNode* node = ks.buffer.NewNode(n.event, n.step);
    for (const auto& [target, version] : n.edges) {
      ks.buffer.AddEdge(node, target == 0 ? nullptr : built[target - 1], version);
    }
    built.push_back(node);
  }
  auto place = [&](std::vector<RunIn>& runs, auto& queue) {
    for (RunIn& in_run : runs) {
      in_run.run.prev = in_run.prev == 0 ? nullptr : built[in_run.prev - 1];
      SharedBuffer::Acquire(in_run.run.prev);
      queue.AppendInOrder(std::move(in_run.run));
    }
  };
  place(partial, ks.partial);
  place(completed, ks.completed);

  KeyState* raw = owned.release();
  Register(raw, key);
  raw->timer_at = kMaxTimestamp;
  ArmTimer(*raw, key, ctx);
  return true;
}

}  // namespace vigil::cep
