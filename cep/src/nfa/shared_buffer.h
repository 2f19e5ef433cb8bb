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
// steady state, and the rule's scratch space for its keys' buffers (one key is processed
// at a time). The free list holds at most max(kMinFree, nodes in use): enough to serve the
// churn of a steady state, given back once the state shrinks.
class NodePool {
 public:
  NodePool() = default;
  ~NodePool();
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  BufferNode* Get() {
    ++in_use_;
    if (free_.empty()) return new BufferNode();
    BufferNode* n = free_.back();
    free_.pop_back();
    return n;
  }
  // REQUIRES: node->refs == 0. Drops its event and edges.
  void Put(BufferNode* node);

 private:
  friend class SharedBuffer;
  static constexpr size_t kMinFree = 4096;
  std::vector<BufferNode*> free_;
  size_t in_use_ = 0;
  // The nodes created for the event being processed, by step (see SharedBuffer::Put).
  std::vector<std::pair<uint32_t, BufferNode*>> current_event_nodes_;
  std::vector<BufferNode*> release_stack_;
  struct Frame {
    const BufferNode* node;
    const Dewey* version;
    size_t depth;
  };
  std::vector<Frame> extract_stack_;
  std::vector<const BufferNode*> extract_path_;
};

// Thread safety: none; one key's state is used by one thread.
class SharedBuffer {
 public:
  // `pool` must outlive the buffer.
  explicit SharedBuffer(NodePool* pool) : pool_(pool) {}
  ~SharedBuffer();
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;

  // Brackets the processing of one event: nodes created for it in between can be shared by
  // every partial match that takes it into the same step. Calls for different keys of
  // one pool must not interleave.
  void BeginEvent() { pool_->current_event_nodes_.clear(); }
  void EndEvent() { pool_->current_event_nodes_.clear(); }

  // Records that `event` was taken by `step` after `previous` (null for a match's first
  // event) by the partial match of version `version`. Returns the node (one per event and
  // step), with no reference held for the caller: Acquire it for the new partial match.
  // The new edge needs a reference to `previous` that the caller provides (Acquire, or
  // handing over one it holds): Put does not touch `previous`.
  BufferNode* Put(const EventPtr& event, uint32_t step, BufferNode* previous, const Dewey& version) {
    BufferNode* node = nullptr;
    for (const auto& [s, n] : pool_->current_event_nodes_) {
      if (s == step) {
        node = n;
        break;
      }
    }
    if (node == nullptr) {
      node = pool_->Get();
      node->event = event;
      node->step = step;
      pool_->current_event_nodes_.emplace_back(step, node);
      ++nodes_;
      bytes_ += sizeof(BufferNode);
      event_bytes_ += event->MemoryUsage();
    }
    if (node->edge_count == 0) {
      node->first.target = previous;
      node->first.version = version;
    } else {
      node->more.push_back(BufferEdge{previous, version});
    }
    ++node->edge_count;
    bytes_ += sizeof(BufferEdge) + version.HeapBytes();
    return node;
  }

  // Restoring a checkpoint: a node for `event` taken by `step`, without edges or
  // references, and an edge from `node` to `target` (which gets a reference).
  BufferNode* NewNode(const EventPtr& event, uint32_t step) {
    BufferNode* node = pool_->Get();
    node->event = event;
    node->step = step;
    ++nodes_;
    bytes_ += sizeof(BufferNode);
    event_bytes_ += event->MemoryUsage();
    return node;
  }
  void AddEdge(BufferNode* node, BufferNode* target, const Dewey& version) {
    if (node->edge_count == 0) {
      node->first.target = target;
      node->first.version = version;
    } else {
      node->more.push_back(BufferEdge{target, version});
    }
    ++node->edge_count;
    bytes_ += sizeof(BufferEdge) + version.HeapBytes();
    Acquire(target);
  }

  static void Acquire(BufferNode* node) {
    if (node) ++node->refs;
  }
  // Drops one reference; frees whatever is no longer referenced.
  void Release(BufferNode* node) {
    if (node != nullptr && --node->refs == 0) Free(node);
  }

  // The events of the partial match whose last node is `node` with version `version`, in
  // match order (first event first), as (step, event) pairs. Follows FlinkCEP: a
  // depth-first walk over compatible edges, taking the first complete path.
  struct Entry {
    uint32_t step;
    const EventPtr* event;
  };
  void Extract(const BufferNode* node, const Dewey& version, std::vector<Entry>* out) const;

  // Removes the edges that no extraction can follow any more and frees the nodes only they
  // held. `roots` are the (last node, version) of every partial match and held match of the
  // buffer's key; each holds its node. An edge is kept if a root at its node, or any
  // version the root becomes (Dewey::MayReach), or a kept edge into its node, is compatible
  // with it: every walk Extract can make now or later uses kept edges only, in the same
  // order, so matches do not change. O(nodes + edges + compatibility tests).
  struct Root {
    BufferNode* node;
    const Dewey* version;
  };
  void Collect(const std::vector<Root>& roots);

  size_t node_count() const { return nodes_; }
  // Approximate heap bytes of the nodes and edges (not the events).
  size_t bytes() const { return bytes_; }
  // Event::MemoryUsage of the nodes' events (an event taken by several steps or keys
  // counts for each node).
  size_t event_bytes() const { return event_bytes_; }

 private:
  // Frees `node` (no references left) and whatever only it referenced.
  void Free(BufferNode* node);

  NodePool* const pool_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  size_t event_bytes_ = 0;
};

}  // namespace vigil::cep
