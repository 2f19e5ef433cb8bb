#include "nfa/shared_buffer.h"

#include <algorithm>

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

}  // namespace vigil::cep
