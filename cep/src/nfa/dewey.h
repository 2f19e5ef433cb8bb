// Internal: Dewey version numbers (SASE, SIGMOD'08; FlinkCEP's DeweyNumber). A partial
// match carries a version; edges of the shared buffer carry the version of the partial
// match that created them, so that reading a match back follows only its own edges.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace vigil::cep {

// A sequence of digits with inline storage for short versions (the common case: one digit
// per pattern stage). Copyable value type.
class Dewey {
 public:
  Dewey() = default;
  explicit Dewey(uint32_t first) { Push(first); }
  Dewey(const Dewey& o) {
    if (o.capacity_ == kInline) {
      Bits(o);
    } else {
      CopyFrom(o);
    }
  }
  Dewey& operator=(const Dewey& o) {
    if (this == &o) return *this;
    if (capacity_ == kInline && o.capacity_ == kInline) {
      Bits(o);
    } else {
      FreeHeap();
      CopyFrom(o);
    }
    return *this;
  }
  // A move takes the bits (inline digits or the heap pointer) and leaves `o` empty.
  Dewey(Dewey&& o) noexcept {
    Bits(o);
    o.Reset();
  }
  Dewey& operator=(Dewey&& o) noexcept {
    if (this != &o) {
      FreeHeap();
      Bits(o);
      o.Reset();
    }
    return *this;
  }
  ~Dewey() { FreeHeap(); }

  size_t length() const { return size_; }
  uint32_t operator[](size_t i) const { return data()[i]; }

  // A copy with the last digit increased by `times`.
  Dewey Increase(uint32_t times) const {
    Dewey d(*this);
    if (d.size_ > 0) d.data()[d.size_ - 1] += times;
    return d;
  }
  // A copy with a new last digit 0.
  Dewey AddStage() const {
    Dewey d(*this);
    d.Push(0);
    return d;
  }
  // In place: `from` with the last digit increased by `times`, then (with add_stage) a new
  // last digit 0. The same as from.Increase(times) or from.Increase(times).AddStage(),
  // without the temporaries.
  void AssignIncreased(const Dewey& from, uint32_t times, bool add_stage) {
    *this = from;
    if (size_ > 0) data()[size_ - 1] += times;
    if (add_stage) Push(0);
  }

  // FlinkCEP's compatibility: `this` (the version being read) may follow an edge of
  // version `other` if other is a proper prefix of this, or both have the same length,
  // equal digits but the last, and this's last digit is >= other's.
  bool IsCompatibleWith(const Dewey& other) const {
    const uint32_t* a = data();
    const uint32_t* b = other.data();
    if (size_ > other.size_) {
      return std::memcmp(a, b, other.size_ * sizeof(uint32_t)) == 0;
    }
    if (size_ == other.size_ && size_ > 0) {
      size_t last = size_ - 1;
      return std::memcmp(a, b, last * sizeof(uint32_t)) == 0 && a[last] >= b[last];
    }
    return false;
  }

  // Whether a partial match of this version, or any it becomes, may follow an edge of
  // version `edge` out of the node it stands at. What it becomes keeps every digit but the
  // last, whose value may grow, and may get more digits; the edge is reachable if it is
  // compatible with one of those: a prefix of this's digits but the last, or a version
  // that shares them (when longer than this, with a digit at this's last place no smaller
  // than this's last). REQUIRES: length() > 0.
  bool MayReach(const Dewey& edge) const {
    const uint32_t stem = size_ - 1;
    const uint32_t* a = data();
    const uint32_t* b = edge.data();
    if (edge.size_ <= stem) return std::memcmp(a, b, edge.size_ * sizeof(uint32_t)) == 0;
    if (std::memcmp(a, b, stem * sizeof(uint32_t)) != 0) return false;
    return edge.size_ == size_ || b[stem] >= a[stem];
  }

  bool operator==(const Dewey& o) const {
    return size_ == o.size_ && std::memcmp(data(), o.data(), size_ * sizeof(uint32_t)) == 0;
  }

  std::string ToString() const {
    std::string s;
    for (size_t i = 0; i < size_; ++i) {
      if (i) s.push_back('.');
      s += std::to_string(data()[i]);
    }
    return s;
  }

  size_t HeapBytes() const { return capacity_ > kInline ? capacity_ * sizeof(uint32_t) : 0; }

 private:
  static constexpr uint32_t kInline = 6;

  uint32_t* data() { return capacity_ > kInline ? heap_ : inline_; }
  const uint32_t* data() const { return capacity_ > kInline ? heap_ : inline_; }

  // The whole object, bitwise: 32 bytes, a few moves. REQUIRES: this holds no heap digits.
  void Bits(const Dewey& o) { std::memcpy(static_cast<void*>(this), &o, sizeof(Dewey)); }
  void Reset() {
    size_ = 0;
    capacity_ = kInline;
  }
  void Push(uint32_t v) {
    if (size_ == capacity_) {
      uint32_t cap = capacity_ * 2;
      auto* p = new uint32_t[cap];
      std::memcpy(p, data(), size_ * sizeof(uint32_t));
      FreeHeap();
      heap_ = p;
      capacity_ = cap;
    }
    data()[size_++] = v;
  }
  // REQUIRES: this holds no heap digits.
  void CopyFrom(const Dewey& o) {
    size_ = o.size_;
    if (o.size_ <= kInline) {
      capacity_ = kInline;
      std::memcpy(inline_, o.data(), o.size_ * sizeof(uint32_t));
    } else {
      capacity_ = o.size_;
      heap_ = new uint32_t[capacity_];
      std::memcpy(heap_, o.data(), o.size_ * sizeof(uint32_t));
    }
  }
  void FreeHeap() {
    if (capacity_ > kInline) delete[] heap_;
    capacity_ = kInline;
  }

  uint32_t size_ = 0;
  uint32_t capacity_ = kInline;
  union {
    uint32_t inline_[kInline] = {};
    uint32_t* heap_;
  };
};

}  // namespace vigil::cep
