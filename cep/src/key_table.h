// Internal: the keys of one key set (a rule `key:` list) that hold state, and which rules
// hold it. One lookup per event and key set finds every rule's state for the event's key,
// so per-rule state needs no map of its own and timers refer to keys by slot.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cep {

// A vector of trivially copyable T with room for N elements inline: the rules live for
// one key are almost always one or two, and a key must not cost an allocation for them.
template <typename T, uint32_t N>
class SmallVec {
 public:
  SmallVec() = default;
  SmallVec(const SmallVec&) = delete;
  SmallVec& operator=(const SmallVec&) = delete;
  SmallVec(SmallVec&& o) noexcept { *this = std::move(o); }
  SmallVec& operator=(SmallVec&& o) noexcept {
    if (this == &o) return *this;
    size_ = o.size_;
    cap_ = o.cap_;
    heap_ = std::move(o.heap_);
    std::memcpy(inline_, o.inline_, sizeof(inline_));
    o.size_ = 0;
    o.cap_ = N;
    return *this;
  }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](uint32_t i) { return data()[i]; }
  const T& operator[](uint32_t i) const { return data()[i]; }

  void Insert(uint32_t at, const T& v) {
    if (size_ == cap_) Grow();
    T* d = data();
    std::memmove(d + at + 1, d + at, (size_ - at) * sizeof(T));
    d[at] = v;
    ++size_;
  }
  void Erase(uint32_t at) {
    T* d = data();
    std::memmove(d + at, d + at + 1, (size_ - at - 1) * sizeof(T));
    --size_;
  }
  void clear() { size_ = 0; }
  size_t HeapBytes() const { return cap_ > N ? cap_ * sizeof(T) : 0; }

 private:
  T* data() { return cap_ > N ? heap_.get() : inline_; }
  const T* data() const { return cap_ > N ? heap_.get() : inline_; }
  void Grow() {
    uint32_t cap = cap_ * 2;
    std::unique_ptr<T[]> p(new T[cap]);
    std::memcpy(p.get(), data(), size_ * sizeof(T));
    heap_ = std::move(p);
    cap_ = cap;
  }

  uint32_t size_ = 0;
  uint32_t cap_ = N;
  T inline_[N];
  std::unique_ptr<T[]> heap_;
};

// A rule's state for one key. The runtime owns the object behind `state`.
struct LiveRule {
  uint32_t rule;
  void* state;
  // The rule sees every event of the key while it holds state (patterns: strict
  // contiguity, stop conditions and reset_on need them), not only those its start index
  // admits.
  bool sees_all;
};

struct KeyEntry {
  std::string key;  // encoded (key.h)
  uint64_t hash = 0;
  // Bumped whenever the slot is freed, so a timer scheduled for an earlier key that used
  // the slot is recognised as stale.
  uint32_t generation = 0;
  bool in_use = false;
  SmallVec<LiveRule, 2> live;  // sorted by rule index
};

// Keys with state, by encoded key. Open addressing with linear probing over 8-byte
// buckets (slot and 32 bits of the hash), backward-shift deletion (no tombstones); entries
// live in a slab indexed by slot, so a slot is a stable handle while the key has state.
// Thread safety: none; owned by the engine's thread.
class KeyTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  KeyTable();
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;
  KeyTable(KeyTable&&) = default;
  KeyTable& operator=(KeyTable&&) = default;

  static uint64_t Hash(std::string_view key);

  // The slot of `key`, or kNone.
  uint32_t Find(std::string_view key, uint64_t hash) const;
  // Adds `key`. REQUIRES: Find(key, hash) == kNone.
  uint32_t Insert(std::string_view key, uint64_t hash);
  // Frees `slot`'s entry. REQUIRES: the entry is in use.
  void Erase(uint32_t slot);
  // Forgets every key.
  void Clear();

  KeyEntry& at(uint32_t slot) { return entries_[slot]; }
  const KeyEntry& at(uint32_t slot) const { return entries_[slot]; }
  // Slots [0, slot_limit()) cover every entry in use (check KeyEntry::in_use).
  uint32_t slot_limit() const { return static_cast<uint32_t>(entries_.size()); }
  size_t size() const { return size_; }
  size_t bytes() const;

 private:
  struct Bucket {
    uint32_t slot_plus1 = 0;  // 0: empty
    uint32_t tag = 0;         // high bits of the hash
  };
  size_t Home(uint64_t hash) const { return static_cast<size_t>(hash) & mask_; }
  void Rehash(size_t buckets);

  std::vector<Bucket> buckets_;
  size_t mask_ = 0;
  std::vector<KeyEntry> entries_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
};

}  // namespace vigil::cep
