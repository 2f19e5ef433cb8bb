#include "nfa/shared_buffer.h"

namespace vigil::cep {

namespace {
constexpr size_t kNodeBytes = sizeof(BufferNode);
constexpr size_t kEdgeBytes = sizeof(BufferEdge);
}  // namespace

SharedBuffer::~SharedBuffer() {
  // Every node is owned through references held by partial matches; the owner of this
  // buffer releases those before destroying it. Nothing to do here.
}

BufferNode* SharedBuffer::Put(const EventPtr& event, uint32_t step, BufferNode* previous,
                              const Dewey& version) {
  BufferNode* node = nullptr;
  for (auto& [s, n] : current_event_nodes_) {
    if (s == step) {
      node = n;
      break;
    }
  }
  if (node == nullptr) {
    node = new BufferNode();
    node->event = event;
    node->step = step;
    current_event_nodes_.emplace_back(step, node);
    ++nodes_;
    bytes_ += kNodeBytes;
  }
  Acquire(previous);  // held by the edge
  node->edges.push_back(BufferEdge{previous, version});
  bytes_ += kEdgeBytes + version.HeapBytes();
  return node;
}

void SharedBuffer::Release(BufferNode* node) {
  if (node == nullptr) return;
  release_stack_.push_back(node);
  while (!release_stack_.empty()) {
    BufferNode* n = release_stack_.back();
    release_stack_.pop_back();
    if (--n->refs > 0) continue;
    for (BufferEdge& e : n->edges) {
      bytes_ -= kEdgeBytes + e.version.HeapBytes();
      if (e.target) release_stack_.push_back(e.target);
    }
    // A node created for the event being processed may die before the event is done
    // (a partial match that took it reached a stop state): forget it.
    for (size_t i = 0; i < current_event_nodes_.size(); ++i) {
      if (current_event_nodes_[i].second == n) {
        current_event_nodes_.erase(current_event_nodes_.begin() + static_cast<long>(i));
        break;
      }
    }
    --nodes_;
    bytes_ -= kNodeBytes;
    delete n;
  }
}

void SharedBuffer::Extract(const BufferNode* node, const Dewey& version,
                           std::vector<Entry>* out) const {
  out->clear();
  if (node == nullptr) return;
  struct Frame {
    const BufferNode* node;
    Dewey version;
    size_t depth;
  };
  std::vector<Frame> stack;
  std::vector<const BufferNode*> path;
  stack.push_back(Frame{node, version, 0});
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
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
    for (const BufferEdge& e : f.node->edges) {
      if (f.version.IsCompatibleWith(e.version)) {
        stack.push_back(Frame{e.target, e.version, f.depth + 1});
      }
    }
  }
}

}  // namespace vigil::cep
