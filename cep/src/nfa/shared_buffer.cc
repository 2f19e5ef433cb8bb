#include "nfa/shared_buffer.h"

#include <algorithm>
#include <unordered_map>

namespace vigil::cep {

namespace {
constexpr size_t kNodeBytes = sizeof(BufferNode);
constexpr size_t kEdgeBytes = sizeof(BufferEdge);
}  // namespace

NodePool::~NodePool() {
  for (BufferNode* n : free_) delete n;
}

void NodePool::Put(BufferNode* n) {
  --in_use_;
  n->event.reset();
  n->edge_count = 0;
  n->first.target = nullptr;
  n->more.clear();
  if (free_.size() < std::max(kMinFree, in_use_)) {
    free_.push_back(n);
  } else {
    delete n;
  }
}

SharedBuffer::~SharedBuffer() {
  // Every node is owned through references held by partial matches; the owner of this
  // buffer releases those before destroying it. Nothing to do here.
}

void SharedBuffer::Free(BufferNode* node) {
  std::vector<BufferNode*>& stack = pool_->release_stack_;
  auto& current = pool_->current_event_nodes_;
  BufferNode* n = node;  // refs == 0
  for (;;) {
    for (uint32_t i = 0; i < n->edge_count; ++i) {
      const BufferEdge& e = n->edge(i);
      bytes_ -= kEdgeBytes + e.version.HeapBytes();
      if (e.target != nullptr && --e.target->refs == 0) stack.push_back(e.target);
    }
    // A node created for the event being processed may die before the event is done
    // (a partial match that took it reached a stop state): forget it.
    for (size_t i = 0; i < current.size(); ++i) {
      if (current[i].second == n) {
        current.erase(current.begin() + static_cast<long>(i));
        break;
      }
    }
    --nodes_;
    bytes_ -= kNodeBytes;
    if (n->event) event_bytes_ -= n->event->MemoryUsage();
    pool_->Put(n);
    if (stack.empty()) return;
    n = stack.back();
    stack.pop_back();
  }
}

void SharedBuffer::Extract(const BufferNode* node, const Dewey& version,
                           std::vector<Entry>* out) const {
  out->clear();
  if (node == nullptr) return;
  auto& stack = pool_->extract_stack_;
  auto& path = pool_->extract_path_;
  stack.clear();
  path.clear();
  stack.push_back(NodePool::Frame{node, &version, 0});
  while (!stack.empty()) {
    NodePool::Frame f = stack.back();
    stack.pop_back();
    path.resize(f.depth);
    if (f.node == nullptr) {
      // Complete: path[0] is the last event.
      for (auto it = path.rbegin(); it != path.rend(); ++it) {
        out->push_back(Entry{(*it)->step, &(*it)->event});
      }
      return;
    }
    path.push_back(f.node);
    for (uint32_t i = 0; i < f.node->edge_count; ++i) {
      const BufferEdge& e = f.node->edge(i);
      if (f.version->IsCompatibleWith(e.version)) {
        stack.push_back(NodePool::Frame{e.target, &e.version, f.depth + 1});
      }
    }
  }
}

namespace {

// The versions that reach one node while collecting: of roots there (and what they
// become) and of kept edges into it. Versions of two or more digits are filed by their
// first digit, which every version compatible with them shares.
struct Arrivals {
  std::vector<const Dewey*> roots, edges;
  bool Reach(const Dewey& e) const {
    for (const Dewey* v : roots) {
      if (v->MayReach(e)) return true;
    }
    for (const Dewey* v : edges) {
      if (v->IsCompatibleWith(e)) return true;
    }
    return false;
  }
};

}  // namespace

void SharedBuffer::Collect(const std::vector<Root>& roots) {
  // Every node is reachable from a root: number them in post-order (targets first).
  std::unordered_map<const BufferNode*, uint32_t> id;
  std::vector<BufferNode*> order;
  std::vector<std::pair<BufferNode*, uint32_t>> stack;
  for (const Root& r : roots) {
    if (r.node == nullptr || id.count(r.node) != 0) continue;
    id.emplace(r.node, UINT32_MAX);
    stack.emplace_back(r.node, 0);
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->edge_count) {
        BufferNode* t = n->edge(next++).target;
        if (t != nullptr && id.emplace(t, UINT32_MAX).second) stack.emplace_back(t, 0);
        continue;
      }
      id[n] = static_cast<uint32_t>(order.size());
      order.push_back(n);
      stack.pop_back();
    }
  }
  // Reverse post-order: every node after the nodes whose edges point to it.
  std::vector<Arrivals> at(order.size());
  for (const Root& r : roots) {
    if (r.node != nullptr) at[id[r.node]].roots.push_back(r.version);
  }
  std::vector<std::vector<uint8_t>> keep(order.size());
  std::unordered_map<uint32_t, Arrivals> by_digit;
  for (size_t k = order.size(); k-- > 0;) {
    const BufferNode* n = order[k];
    Arrivals& in = at[k];
    std::vector<uint8_t>& kept = keep[k];
    kept.assign(n->edge_count, 0);
    // Many versions reaching a node with many edges: test each edge only against the
    // versions of its first digit (and the one-digit versions, which need not share it).
    const bool filed = n->edge_count > 8 && in.roots.size() + in.edges.size() > 8;
    Arrivals short_ones;
    if (filed) {
      by_digit.clear();
      for (const Dewey* v : in.roots) {
        (v->length() >= 2 ? by_digit[(*v)[0]] : short_ones).roots.push_back(v);
      }
      for (const Dewey* v : in.edges) {
        (v->length() >= 2 ? by_digit[(*v)[0]] : short_ones).edges.push_back(v);
      }
    }
    for (uint32_t i = 0; i < n->edge_count; ++i) {
      const BufferEdge& e = n->edge(i);
      bool reach;
      if (e.version.length() == 0) {
        reach = true;
      } else if (filed) {
        auto it = by_digit.find(e.version[0]);
        reach = short_ones.Reach(e.version) || (it != by_digit.end() && it->second.Reach(e.version));
      } else {
        reach = in.Reach(e.version);
      }
      if (!reach) continue;
      kept[i] = 1;
      if (e.target != nullptr) at[id[e.target]].edges.push_back(&e.version);
    }
  }
  // Drop the edges no walk takes, keeping the order of the others; a node that loses its
  // last reference had no arrivals, so it lost all its edges too, and goes back to the pool.
  std::vector<BufferEdge> rest;
  for (size_t k = 0; k < order.size(); ++k) {
    BufferNode* n = order[k];
    const std::vector<uint8_t>& kept = keep[k];
    if (std::find(kept.begin(), kept.end(), 0) == kept.end()) continue;
    rest.clear();
    for (uint32_t i = 0; i < n->edge_count; ++i) {
      BufferEdge& e = i == 0 ? n->first : n->more[i - 1];
      if (kept[i]) {
        rest.push_back(std::move(e));
        continue;
      }
      bytes_ -= kEdgeBytes + e.version.HeapBytes();
      if (e.target != nullptr) --e.target->refs;
    }
    n->edge_count = static_cast<uint32_t>(rest.size());
    n->first = rest.empty() ? BufferEdge{nullptr, Dewey()} : std::move(rest[0]);
    std::vector<BufferEdge> more;
    if (rest.size() > 1) {
      more.reserve(rest.size() - 1);
      for (size_t i = 1; i < rest.size(); ++i) more.push_back(std::move(rest[i]));
    }
    n->more.swap(more);  // frees what the dropped edges took
  }
  for (BufferNode* n : order) {
    if (n->refs != 0) continue;
    --nodes_;
    bytes_ -= kNodeBytes;
    if (n->event) event_bytes_ -= n->event->MemoryUsage();
    pool_->Put(n);
  }
}

}  // namespace vigil::cep
