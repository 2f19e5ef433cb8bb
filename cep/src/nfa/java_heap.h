// Internal: a binary heap with exactly java.util.PriorityQueue's behaviour (OpenJDK 11+):
// the same array layout after add/poll/removeIf, and iteration in array order. FlinkCEP
// keeps partial and completed matches in such queues, and the order of equal elements
// (matches that started on the same event) decides which match a skip strategy keeps and
// the order matches are emitted in; reproducing the queue reproduces FlinkCEP.
#pragma once

#include <utility>
#include <vector>

namespace vigil::cep {

// Cmp(a, b) returns <0, 0 or >0 like a Java Comparator. Storage is a vector-like
// container of T (std::vector, or InlineVec for queues that are usually tiny).
template <typename T, typename Cmp, typename Storage = std::vector<T>>
class JavaHeap {
 public:
  explicit JavaHeap(Cmp cmp = Cmp()) : cmp_(cmp) {}

  bool empty() const { return a_.empty(); }
  size_t size() const { return a_.size(); }
  // Array order, as Java's iterator walks it.
  auto begin() { return a_.begin(); }
  auto end() { return a_.end(); }
  auto begin() const { return a_.begin(); }
  auto end() const { return a_.end(); }
  T& operator[](size_t i) { return a_[i]; }
  const T& operator[](size_t i) const { return a_[i]; }
  void clear() { a_.clear(); }
  // Keeps the first n elements of the array. REQUIRES: they form a heap (n <= 1 always does).
  void Truncate(size_t n) { a_.resize(n); }
  void reserve(size_t n) { a_.reserve(n); }
  void swap(JavaHeap& o) { a_.swap(o.a_); }
  // Becomes o (the same array, so the same order), leaving o empty.
  void TakeFrom(JavaHeap& o) { a_.TakeFrom(o.a_); }

  // Appends x as the new last slot without sifting: restoring an array saved in its
  // order. REQUIRES: the elements appended this way form a heap in the end.
  void AppendInOrder(T&& x) { a_.emplace_back(std::move(x)); }

  // PriorityQueue.offer (siftUp). The new last slot is constructed from x or from the
  // parent that moves down into it, never default-constructed.
  void Add(T&& x) {
    size_t k = a_.size();
    if (k == 0 || cmp_(x, a_[(k - 1) >> 1]) >= 0) {
      a_.emplace_back(std::move(x));
      return;
    }
    size_t parent = (k - 1) >> 1;
    a_.emplace_back(std::move(a_[parent]));
    k = parent;
    while (k > 0) {
      parent = (k - 1) >> 1;
      if (cmp_(x, a_[parent]) >= 0) break;
      a_[k] = std::move(a_[parent]);
      k = parent;
    }
    a_[k] = std::move(x);
  }

  // PriorityQueue.peek; REQUIRES: !empty()
  const T& Peek() const { return a_[0]; }

  // PriorityQueue.poll; REQUIRES: !empty()
  T Poll() {
    T result = std::move(a_[0]);
    size_t n = a_.size() - 1;
    T x = std::move(a_[n]);
    a_.pop_back();
    if (n > 0) SiftDown(0, std::move(x), n);
    return result;
  }

  // PriorityQueue.removeIf / removeAll (bulkRemove): survivors keep their relative order,
  // then the array is heapified. `on_remove` sees each removed element first.
  template <typename Pred, typename OnRemove>
  bool RemoveIf(Pred pred, OnRemove on_remove) {
    size_t i = 0;
    const size_t end = a_.size();
    while (i < end && !pred(a_[i])) ++i;
    if (i >= end) return false;
    size_t w = i;
    for (; i < end; ++i) {
      if (pred(a_[i])) {
        on_remove(a_[i]);
      } else {
        if (w != i) a_[w] = std::move(a_[i]);
        ++w;
      }
    }
    a_.resize(w);
    Heapify();
    return true;
  }

 private:
  void SiftDown(size_t k, T x, size_t n) {
    size_t half = n >> 1;
    while (k < half) {
      size_t child = (k << 1) + 1;
      size_t right = child + 1;
      if (right < n && cmp_(a_[child], a_[right]) > 0) child = right;
      if (cmp_(x, a_[child]) <= 0) break;
      a_[k] = std::move(a_[child]);
      k = child;
    }
    a_[k] = std::move(x);
  }

  void Heapify() {
    size_t n = a_.size();
    if (n < 2) return;
    for (size_t i = (n >> 1); i-- > 0;) {
      T x = std::move(a_[i]);
      SiftDown(i, std::move(x), n);
    }
  }

  Cmp cmp_;
  Storage a_;
};

}  // namespace vigil::cep
