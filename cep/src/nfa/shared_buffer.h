// Internal: the shared buffer of one key's partial matches (FlinkCEP SharedBuffer, after
// SASE). Each node is one event taken by one step; its edges point to the node of the
// event taken before it in some partial match, labelled with that match's Dewey version.
// Partial matches that share a prefix share its nodes, so `any` contiguity and loops do
// not copy event lists.
//
// Ownership: nodes are reference counted. A reference is held by every partial match whose
// last taken event is the node, and by every edge that points to it. When the count drops
// to zero the node is freed and its edges release their targets (iteratively, so long
// chains cannot overflow the stack). Events are held through EventPtr by their nodes.
#pragma once

#include <cstdint>
#include <vector>

#include "nfa/dewey.h"
#include "vigil/cep/event.h"

namespace vigil::cep {

struct BufferNode;

struct BufferEdge {
  BufferNode* target;  // null: the first event of the match
  Dewey version;
};

struct BufferNode {
  EventPtr event;
  uint32_t step = 0;  // the pattern step that took the event
  uint32_t refs = 0;
  // Edges: most nodes have exactly one, so the first is inline.
  uint32_t edge_count = 0;
  BufferEdge first{nullptr, Dewey()};
  std::vector<BufferEdge> more;

  const BufferEdge& edge(uint32_t i) const { return i == 0 ? first : more[i - 1]; }
};

// Freed nodes of one rule, kept for reuse so that taking an event allocates nothing in the
// steady state. Bounded: beyond kMaxFree nodes go back to the allocator.
class NodePool {
 public:
  NodePool() = default;
  ~NodePool();
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  BufferNode* Get();
  // REQUIRES: node->refs == 0. Drops its event and edges.
  void Put(BufferNode* node);

 private:
  static constexpr size_t kMaxFree = 4096;
  std::vector<BufferNode*> free_;
};

// Thread safety: none; one key's state is used by one thread.
class SharedBuffer {
 public:
  // `pool` must outlive the buffer.
  explicit SharedBuffer(NodePool* pool) : pool_(pool) {}
  ~SharedBuffer();
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;

  // Starts processing a new event: nodes created for it can be shared by every partial
  // match that takes it into the same step.
  void BeginEvent() { current_event_nodes_.clear(); }

  // Records that `event` was taken by `step` after `previous` (null for a match's first
  // event) by the partial match of version `version`. Returns the node (one per event and
  // step), with no reference held for the caller: Acquire it for the new partial match.
  BufferNode* Put(const EventPtr& event, uint32_t step, BufferNode* previous, const Dewey& version);

  static void Acquire(BufferNode* node) {
    if (node) ++node->refs;
  }
  // Drops one reference; frees whatever is no longer referenced.
  void Release(BufferNode* node);

  // The events of the partial match whose last node is `node` with version `version`, in
  // match order (first event first), as (step, event) pairs. Follows FlinkCEP: a
  // depth-first walk over compatible edges, taking the first complete path.
  struct Entry {
    uint32_t step;
    const EventPtr* event;
  };
  void Extract(const BufferNode* node, const Dewey& version, std::vector<Entry>* out) const;

  size_t node_count() const { return nodes_; }
  // Approximate heap bytes of the nodes and edges (not the events).
  size_t bytes() const { return bytes_; }

 private:
  NodePool* const pool_;
  std::vector<std::pair<uint32_t, BufferNode*>> current_event_nodes_;
  std::vector<BufferNode*> release_stack_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

}  // namespace vigil::cep
