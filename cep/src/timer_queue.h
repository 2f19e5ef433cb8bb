// Internal: the engine's timers, in (deadline, seq) order.
//
// Most timers are `within` deadlines, first event time plus a constant: with events in
// time order they are scheduled in deadline order. Those go to a FIFO ring (push and pop in
// O(1), no sifting through a heap of every live key); a timer earlier than the ring's last
// goes to a binary heap. The next timer is the smaller of the two fronts, so timers fire in
// exactly the order one heap would give: seq grows with every push, so the ring is sorted
// by (deadline, seq).
// Thread safety: none; owned by the engine's thread.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "vigil/cep/time.h"

namespace vigil::cep {

struct Timer {
  Timestamp deadline;
  uint64_t seq;  // scheduling order breaks ties, so firing order is deterministic
  uint32_t rule;
  uint32_t slot;        // the key, in the rule's key set's KeyTable
  uint32_t generation;  // of the slot when scheduled: a reused slot is another key
  void* hint;           // the rule's state for the key when scheduled (for prefetching)
};

class TimerQueue {
 public:
  // REQUIRES: t.seq is larger than that of every timer pushed before.
  void Push(const Timer& t) {
    if (ring_count_ == 0 || t.deadline >= RingAt(ring_count_ - 1).deadline) {
      if (ring_count_ == ring_.size()) GrowRing();
      RingAt(ring_count_) = t;
      ++ring_count_;
    } else {
      heap_.push(t);
    }
  }
  bool empty() const { return ring_count_ == 0 && heap_.empty(); }
  size_t size() const { return ring_count_ + heap_.size(); }
  // REQUIRES: !empty()
  const Timer& Top() const { return FromRing() ? RingAt(0) : heap_.top(); }
  // The i-th timer of the ring (0: its front), if any: the timers about to fire, for
  // prefetching. Null past the end.
  const Timer* RingNext(size_t i) const { return i < ring_count_ ? &RingAt(i) : nullptr; }
  // REQUIRES: !empty()
  void Pop() {
    if (FromRing()) {
      ring_head_ = (ring_head_ + 1) & (ring_.size() - 1);
      --ring_count_;
    } else {
      heap_.pop();
    }
  }

 private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
  };
  bool FromRing() const {
    if (ring_count_ == 0) return false;
    if (heap_.empty()) return true;
    return Later()(heap_.top(), RingAt(0));
  }
  Timer& RingAt(size_t i) { return ring_[(ring_head_ + i) & (ring_.size() - 1)]; }
  const Timer& RingAt(size_t i) const { return ring_[(ring_head_ + i) & (ring_.size() - 1)]; }
  void GrowRing() {
    std::vector<Timer> bigger(ring_.empty() ? 64 : ring_.size() * 2);
    for (size_t i = 0; i < ring_count_; ++i) bigger[i] = RingAt(i);
    ring_.swap(bigger);
    ring_head_ = 0;
  }

  std::vector<Timer> ring_;  // power-of-two size
  size_t ring_head_ = 0;
  size_t ring_count_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, Later> heap_;
};

}  // namespace vigil::cep
