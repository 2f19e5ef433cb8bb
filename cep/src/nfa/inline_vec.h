// Internal: a vector that keeps its first N elements inside the object. A key's queue of
// partial matches is almost always the start state and one or two runs: stored inline,
// reading it costs no pointer chase to a separate allocation (a cache miss per key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

namespace vigil::cep {

// REQUIRES: N > 0, and T is trivially relocatable: an element may be moved to another
// address by copying its bytes (it holds no pointer into itself), after which the old
// bytes are forgotten, not destroyed. That is how elements move between storages and
// vectors, without constructor or destructor calls. Not copyable; movable.
template <typename T, uint32_t N>
class InlineVec {
  static_assert(N > 0);

 public:
  InlineVec() = default;
  InlineVec(const InlineVec&) = delete;
  InlineVec& operator=(const InlineVec&) = delete;
  InlineVec(InlineVec&& o) noexcept { StealFrom(o); }
  InlineVec& operator=(InlineVec&& o) noexcept {
    if (this != &o) {
      clear();
      FreeHeap();
      StealFrom(o);
    }
    return *this;
  }
  ~InlineVec() {
    clear();
    FreeHeap();
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }

  // `args` may refer to an element of this vector (as with std::vector).
  template <typename... A>
  T& emplace_back(A&&... args) {
    if (size_ < cap_) [[likely]] {
      T* p = ::new (static_cast<void*>(data_ + size_)) T(std::forward<A>(args)...);
      ++size_;
      return *p;
    }
    const uint32_t cap = cap_ * 2;
    T* fresh = Allocate(cap);
    T* p = ::new (static_cast<void*>(fresh + size_)) T(std::forward<A>(args)...);
    Relocate(fresh, data_, size_);
    FreeHeap();
    data_ = fresh;
    cap_ = cap;
    ++size_;
    return *p;
  }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  void pop_back() { data_[--size_].~T(); }
  // Shrinks to n elements. REQUIRES: n <= size().
  void resize(size_t n) {
    while (size_ > n) pop_back();
  }
  void clear() { resize(0); }
  void reserve(size_t n) {
    if (n <= cap_) return;
    T* fresh = Allocate(static_cast<uint32_t>(n));
    Relocate(fresh, data_, size_);
    FreeHeap();
    data_ = fresh;
    cap_ = static_cast<uint32_t>(n);
  }
  void swap(InlineVec& o) {
    InlineVec tmp(std::move(*this));
    *this = std::move(o);
    o = std::move(tmp);
  }
  // Takes o's elements, leaving o empty; keeps heap storage on both sides where it can
  // (cheaper than swap() followed by o.clear()).
  void TakeFrom(InlineVec& o) {
    clear();
    if (on_heap() && o.on_heap()) {
      std::swap(data_, o.data_);
      std::swap(size_, o.size_);
      std::swap(cap_, o.cap_);
      return;
    }
    if (o.size_ > cap_) {
      FreeHeap();
      StealFrom(o);
      return;
    }
    Relocate(data_, o.data_, o.size_);
    size_ = o.size_;
    o.size_ = 0;
  }
  size_t HeapBytes() const { return on_heap() ? cap_ * sizeof(T) : 0; }

 private:
  T* inline_data() { return reinterpret_cast<T*>(storage_); }
  bool on_heap() const { return data_ != reinterpret_cast<const T*>(storage_); }
  static T* Allocate(uint32_t cap) {
    return static_cast<T*>(::operator new(cap * sizeof(T), std::align_val_t{alignof(T)}));
  }
  static void Relocate(T* to, T* from, size_t n) {
    std::memcpy(static_cast<void*>(to), static_cast<const void*>(from), n * sizeof(T));
  }
  // REQUIRES: this is empty and inline.
  void StealFrom(InlineVec& o) {
    if (o.on_heap()) {
      data_ = o.data_;
      size_ = o.size_;
      cap_ = o.cap_;
      o.data_ = o.inline_data();
      o.size_ = 0;
      o.cap_ = N;
      return;
    }
    Relocate(data_, o.data_, o.size_);
    size_ = o.size_;
    o.size_ = 0;
  }
  void FreeHeap() {
    if (on_heap()) ::operator delete(data_, std::align_val_t{alignof(T)});
    data_ = inline_data();
    cap_ = N;
  }

  T* data_ = inline_data();
  uint32_t size_ = 0;
  uint32_t cap_ = N;
  alignas(T) unsigned char storage_[sizeof(T) * N];
};

}  // namespace vigil::cep
