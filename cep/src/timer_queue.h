// Internal: the engine's timers, in (deadline, seq) order.
//
// Most timers are `within` deadlines, first event time plus a constant: with events in
// time order they are scheduled in deadline order. Those go to a FIFO ring (push and pop in
// O(1), no sifting through a heap of every live key); a timer earlier than the ring's last
// (a deadline re-armed for a key's next partial match) goes to a binary heap. In front of
// both, the next kAhead timers wait in a small sorted array: the engine sees which timers
// fire next, whichever structure they came from, and prefetches what they will read.
//
// Order is exactly that of one heap over all timers: seq grows with every push, so the ring
// is sorted by (deadline, seq); every timer ahead is earlier than every timer behind.
// Thread safety: none; owned by the engine's thread.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <queue>
#include <vector>

#include "prefetch.h"

#include "vigil/cep/time.h"

namespace vigil::cep {

struct Timer {
  Timestamp deadline;
  uint64_t seq;  // scheduling order breaks ties, so firing order is deterministic
  uint32_t rule;
  uint32_t key_set;     // the rule's
  uint32_t slot;        // the key, in the key set's KeyTable
  uint32_t generation;  // of the slot when scheduled: a reused slot is another key
  void* hint;           // the rule's state for the key when scheduled (for prefetching)
};

class TimerQueue {
 public:
  static constexpr uint32_t kAhead = 16;

  // REQUIRES: t.seq is larger than that of every timer pushed before.
  void Push(const Timer& t) {
    if (ahead_count_ > 0 && Earlier(t, At(ahead_count_ - 1))) {
      // Belongs ahead: insert in order; the last one ahead goes behind if there is no room.
      uint32_t i = ahead_count_;
      if (i == kAhead) {
        PushBehind(At(kAhead - 1));
        --i;
      } else {
        ++ahead_count_;
      }
      while (i > 0 && Earlier(t, At(i - 1))) {
        At(i) = At(i - 1);
        --i;
      }
      At(i) = t;
      return;
    }
    if (ahead_count_ < kAhead && behind_empty()) {
      At(ahead_count_++) = t;  // nothing behind: t is the latest
      return;
    }
    PushBehind(t);
  }
  bool empty() const { return ahead_count_ == 0; }
  size_t size() const { return ahead_count_ + ring_count_ + heap_.size(); }
  // REQUIRES: !empty()
  const Timer& Top() const { return At(0); }
  // The i-th next timer (0: Top()), for i < kAhead; null if there are fewer timers.
  const Timer* Ahead(uint32_t i) const { return i < ahead_count_ ? &At(i) : nullptr; }
  // Calls fn(timer) for every timer, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t i = 0; i < ahead_count_; ++i) fn(At(i));
    for (size_t i = 0; i < ring_count_; ++i) fn(RingAt(i));
    ForEachInHeap(heap_, fn);
  }
  // Removes every timer for which drop(timer) is true; O(n log n). The rest keep their
  // order (and are all in the ring afterwards).
  template <typename Pred>
  void RemoveIf(Pred&& drop) {
    std::vector<Timer> kept;
    kept.reserve(size());
    ForEach([&](const Timer& t) {
      if (!drop(t)) kept.push_back(t);
    });
    std::sort(kept.begin(), kept.end(), Earlier);
    ahead_head_ = 0;
    ahead_count_ = 0;
    ring_head_ = 0;
    ring_count_ = 0;
    heap_ = {};
    size_t ring = 64;
    while (ring < kept.size()) ring *= 2;
    ring_.assign(ring, Timer{});
    for (const Timer& t : kept) {
      if (ahead_count_ < kAhead) {
        At(ahead_count_++) = t;
      } else {
        RingAt(ring_count_++) = t;
      }
    }
    if (ring_count_ == 0) std::vector<Timer>().swap(ring_);
    else if (ring_.size() > 4 * ring_count_ + 64) {
      std::vector<Timer> smaller(ring_count_ <= 64 ? 64 : std::bit_ceil(ring_count_));
      for (size_t i = 0; i < ring_count_; ++i) smaller[i] = RingAt(i);
      ring_.swap(smaller);
    }
  }
  // Approximate heap bytes.
  size_t bytes() const { return (ring_.capacity() + heap_.size()) * sizeof(Timer); }

  // REQUIRES: !empty()
  void Pop() {
    ahead_head_ = (ahead_head_ + 1) & (kAhead - 1);
    --ahead_count_;
    if (!behind_empty()) At(ahead_count_++) = PopBehind();
  }

 private:
  static bool Earlier(const Timer& a, const Timer& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
  }
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const { return Earlier(b, a); }
  };
  using Heap = std::priority_queue<Timer, std::vector<Timer>, Later>;
  // priority_queue keeps its container protected: read it through a derived class.
  template <typename Fn>
  static void ForEachInHeap(const Heap& h, Fn& fn) {
    struct Open : Heap {
      static const std::vector<Timer>& Items(const Heap& q) { return q.*(&Open::c); }
    };
    for (const Timer& t : Open::Items(h)) fn(t);
  }
  bool behind_empty() const { return ring_count_ == 0 && heap_.empty(); }
  void PushBehind(const Timer& t) {
    // The ring stays sorted: a timer goes there if it is not earlier than its last.
    if (ring_count_ == 0 || !Earlier(t, RingAt(ring_count_ - 1))) {
      if (ring_count_ == ring_.size()) GrowRing();
      RingAt(ring_count_) = t;
      ++ring_count_;
    } else {
      heap_.push(t);
    }
  }
  // REQUIRES: !behind_empty()
  Timer PopBehind() {
    if (ring_count_ > 0 && (heap_.empty() || !Earlier(heap_.top(), RingAt(0)))) {
      Timer t = RingAt(0);
      ring_head_ = (ring_head_ + 1) & (ring_.size() - 1);
      --ring_count_;
      // The ring is read front to back: fetch ahead of the reads.
      if (ring_count_ > 8) Prefetch(&RingAt(8));
      return t;
    }
    Timer t = heap_.top();
    heap_.pop();
    return t;
  }
  static_assert((kAhead & (kAhead - 1)) == 0, "kAhead is a power of two");
  Timer& At(uint32_t i) { return ahead_[(ahead_head_ + i) & (kAhead - 1)]; }
  const Timer& At(uint32_t i) const { return ahead_[(ahead_head_ + i) & (kAhead - 1)]; }
  Timer& RingAt(size_t i) { return ring_[(ring_head_ + i) & (ring_.size() - 1)]; }
  const Timer& RingAt(size_t i) const { return ring_[(ring_head_ + i) & (ring_.size() - 1)]; }
  void GrowRing() {
    std::vector<Timer> bigger(ring_.empty() ? 64 : ring_.size() * 2);
    for (size_t i = 0; i < ring_count_; ++i) bigger[i] = RingAt(i);
    ring_.swap(bigger);
    ring_head_ = 0;
  }

  // The next timers, sorted, in a circular array from ahead_head_; every timer behind
  // (ring, heap) is later than all of them. While anything is behind, ahead_ is full.
  Timer ahead_[kAhead];
  uint32_t ahead_head_ = 0;
  uint32_t ahead_count_ = 0;
  std::vector<Timer> ring_;  // power-of-two size
  size_t ring_head_ = 0;
  size_t ring_count_ = 0;
  Heap heap_;
};

}  // namespace vigil::cep
