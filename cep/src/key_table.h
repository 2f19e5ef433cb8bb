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

#include "prefetch.h"

namespace vigil::cep {

// A rule's state for one key. The runtime owns the object behind `state`.
struct LiveRule {
  uint32_t rule;
  // The rule sees every event of the key while it holds state (patterns: strict
  // contiguity, stop conditions and reset_on need them), not only those its start index
  // admits.
  bool sees_all : 1;
  // Checkpoints (Engine::TrackChanges): changed since the last checkpoint, and written by
  // one (so that freeing the state must delete it from the store).
  bool dirty : 1;
  bool persisted : 1;
  // Bounded memory (Engine::LimitMemory): used since the eviction sweep last passed, and
  // the state's accounted size in units of 64 bytes (saturating).
  bool touched : 1;
  uint16_t size64;
  void* state;
};
static_assert(sizeof(LiveRule) == 16);

// The rules holding state for one key, sorted by rule index: one inline (the common case:
// a key is live for one rule), more on the heap.
class LiveRules {
 public:
  LiveRules() = default;
  LiveRules(const LiveRules&) = delete;
  LiveRules& operator=(const LiveRules&) = delete;
  LiveRules(LiveRules&& o) noexcept { *this = std::move(o); }
  LiveRules& operator=(LiveRules&& o) noexcept {
    if (this == &o) return *this;
    Free();
    size_ = o.size_;
    cap_ = o.cap_;
    if (cap_ > 1) heap_ = o.heap_;
    else one_ = o.one_;
    o.size_ = 0;
    o.cap_ = 1;
    return *this;
  }
  ~LiveRules() { Free(); }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  LiveRule* begin() { return data(); }
  LiveRule* end() { return data() + size_; }
  const LiveRule* begin() const { return data(); }
  const LiveRule* end() const { return data() + size_; }
  LiveRule& operator[](uint32_t i) { return data()[i]; }
  const LiveRule& operator[](uint32_t i) const { return data()[i]; }

  void Insert(uint32_t at, const LiveRule& v) {
    if (size_ == cap_) Grow();
    LiveRule* d = data();
    std::memmove(static_cast<void*>(d + at + 1), d + at, (size_ - at) * sizeof(LiveRule));
    d[at] = v;
    ++size_;
  }
  void Erase(uint32_t at) {
    LiveRule* d = data();
    std::memmove(static_cast<void*>(d + at), d + at + 1, (size_ - at - 1) * sizeof(LiveRule));
    --size_;
  }
  void clear() { size_ = 0; }
  size_t HeapBytes() const { return cap_ > 1 ? cap_ * sizeof(LiveRule) : 0; }

 private:
  LiveRule* data() { return cap_ > 1 ? heap_ : &one_; }
  const LiveRule* data() const { return cap_ > 1 ? heap_ : &one_; }
  void Grow() {
    const uint32_t cap = cap_ * 2;
    auto* p = new LiveRule[cap];
    std::memcpy(static_cast<void*>(p), data(), size_ * sizeof(LiveRule));
    Free();
    heap_ = p;
    cap_ = cap;
  }
  void Free() {
    if (cap_ > 1) delete[] heap_;
    cap_ = 1;
  }

  uint32_t size_ = 0;
  uint32_t cap_ = 1;
  union {
    LiveRule one_;
    LiveRule* heap_;
  };
};

// One key with state: 64 bytes, one cache line, so that finding a key's rules costs one
// miss. Keys of up to kInlineKey bytes (an IPv4 address, a host or user name) are stored
// inline; a longer key's bytes are on the heap, their pointer in the inline bytes.
struct alignas(64) KeyEntry {
  static constexpr uint32_t kInlineKey = 23;

  uint64_t hash = 0;
  // Bumped whenever the slot is freed, so a timer scheduled for an earlier key that used
  // the slot is recognised as stale.
  uint32_t generation = 0;

 private:
  uint32_t key_size_ = 0;

 public:
  LiveRules live;

 private:
  char key_inline_[kInlineKey] = {};

 public:
  bool in_use = false;

  KeyEntry() = default;
  KeyEntry(const KeyEntry&) = delete;
  KeyEntry& operator=(const KeyEntry&) = delete;
  KeyEntry(KeyEntry&& o) noexcept
      : hash(o.hash), generation(o.generation), key_size_(o.key_size_), live(std::move(o.live)),
        in_use(o.in_use) {
    std::memcpy(key_inline_, o.key_inline_, sizeof(key_inline_));  // or the heap pointer
    o.key_size_ = 0;
  }
  KeyEntry& operator=(KeyEntry&&) = delete;
  ~KeyEntry() { ClearKey(); }

  std::string_view key() const {
    return {key_size_ > kInlineKey ? HeapKey() : key_inline_, key_size_};
  }
  void SetKey(std::string_view k) {
    ClearKey();
    char* dst = key_inline_;
    if (k.size() > kInlineKey) {
      dst = new char[k.size()];
      std::memcpy(key_inline_, &dst, sizeof(dst));
    }
    if (!k.empty()) std::memcpy(dst, k.data(), k.size());  // an empty key's data may be null
    key_size_ = static_cast<uint32_t>(k.size());
  }
  // Frees the key's bytes (a freed slot holds none).
  void ClearKey() {
    if (key_size_ > kInlineKey) delete[] HeapKey();
    key_size_ = 0;
  }
  size_t KeyHeapBytes() const { return key_size_ > kInlineKey ? key_size_ : 0; }

 private:
  char* HeapKey() const {
    char* p;
    std::memcpy(&p, key_inline_, sizeof(p));
    return p;
  }
};
static_assert(sizeof(KeyEntry) == 64);

// Keys with state, by encoded key. Open addressing with linear probing over 16-byte
// buckets (slot, 32 bits of the hash, a prefetch hint), backward-shift deletion (no
// tombstones); entries
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

  // A fast hash of short byte strings (encoded keys, field values): both its low bits
  // (bucket) and its high bits (tag) are well mixed. Not stable across versions; never
  // persisted.
  static uint64_t Hash(std::string_view key) {
    const auto* p = reinterpret_cast<const unsigned char*>(key.data());
    size_t n = key.size();
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = Fold(h ^ w, 0xbf58476d1ce4e5b9ull);
      p += 8;
      n -= 8;
    }
    uint64_t tail = 0;
    if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      tail = (static_cast<uint64_t>(hi) << 32) | lo;
    } else if (n > 0) {
      tail = (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[n >> 1]) << 8) | p[n - 1];
    }
    return Fold(h ^ tail, 0x94d049bb133111ebull) * 0x9e3779b97f4a7c15ull;
  }

  // The slot of `key`, or kNone.
  uint32_t Find(std::string_view key, uint64_t hash) const;
  // Prefetches the entry that Find(key, hash) will read and what the hint stored with it
  // points to.
  void Prefetch(uint64_t hash) const {
    const uint32_t tag = Tag(hash);
    const Bucket& b = buckets_[Home(tag)];
    if (b.slot_plus1 != 0 && b.tag == tag) {
      cep::Prefetch(&entries_[b.slot_plus1 - 1]);
      // A state's first 256 bytes: what a runtime reads first (its queue, its timer).
      for (int line = 0; line < 4; ++line) cep::Prefetch(static_cast<const char*>(b.hint) + 64 * line);
    }
  }
  // Prefetches the home bucket of `hash` (Erase and Insert start there).
  void PrefetchBucket(uint64_t hash) const { cep::Prefetch(&buckets_[Home(Tag(hash))]); }
  // Stores `hint` (the first live rule's state) with `slot`'s bucket, for Prefetch.
  void SetHint(uint32_t slot, void* hint);
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
  // Heap bytes: the buckets, entries and free list, the heap bytes of keys longer than
  // kInlineKey, and of the live-rule lists of keys held by several rules.
  size_t bytes() const;
  // The same without the live-rule lists, in O(1) (bounded memory reads it often).
  size_t approx_bytes() const {
    return buckets_.capacity() * sizeof(Bucket) + entries_.capacity() * sizeof(KeyEntry) +
           free_.capacity() * sizeof(uint32_t) + key_heap_bytes_;
  }

 private:
  // The high and low halves of the 128-bit product, xored (as in wyhash).
  static uint64_t Fold(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  // The bucket's home is its tag's low bits: probing, deleting and rehashing never read
  // the entries.
  struct Bucket {
    uint32_t slot_plus1 = 0;  // 0: empty
    uint32_t tag = 0;         // high bits of the hash
    void* hint = nullptr;     // prefetched with the entry; never dereferenced
  };
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  size_t Home(uint32_t tag) const { return tag & mask_; }
  void Rehash(size_t buckets);

  std::vector<Bucket> buckets_;
  size_t mask_ = 0;
  std::vector<KeyEntry> entries_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
  size_t key_heap_bytes_ = 0;
};

}  // namespace vigil::cep
