// Internal: the keys of one key set whose state lives only in the store (evicted under
// state.max_memory, architecture decision 5), so that an event or a timer for such a key
// loads it back, and an event for any other key costs one probe and no store read.
//
// Each entry is 8 bytes: 40 bits of the key's hash (a fingerprint) and the index of the
// rule whose state for the key was evicted. A multiset: two keys may share a fingerprint
// (about one key in 2^40 / n), and then their entries are indistinguishable; a lookup
// returns the rules of every entry with the fingerprint, the caller reads each rule's
// state for its key from the store, and removes one entry per state it found. So the
// index never loses an evicted key; a fingerprint collision only costs a store read that
// finds nothing. Open addressing (the home bucket derived from the fingerprint, so the
// table rehashes without the keys), linear probing, backward-shift deletion; in 256 shards.
// Thread safety: none; owned by the engine's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil::cep {

class EvictIndex {
 public:
  static constexpr uint32_t kMaxRules = (1u << 24) - 1;  // rule indexes below this

  static uint64_t Fingerprint(uint64_t key_hash) { return key_hash >> 24; }

  // REQUIRES: rule < kMaxRules.
  void Add(uint64_t fingerprint, uint32_t rule) {
    shards_[ShardOf(fingerprint)].Add(fingerprint, rule);
    ++size_;
  }
  // Calls fn(rule) for every entry with `fingerprint` (a rule may come more than once).
  template <typename Fn>
  void ForEach(uint64_t fingerprint, Fn&& fn) const {
    if (size_ != 0) shards_[ShardOf(fingerprint)].ForEach(fingerprint, fn);
  }
  // Removes one entry (fingerprint, rule); false if there is none.
  bool Remove(uint64_t fingerprint, uint32_t rule) {
    if (size_ == 0 || !shards_[ShardOf(fingerprint)].Remove(fingerprint, rule)) return false;
    --size_;
    return true;
  }
  size_t size() const { return size_; }
  size_t bytes() const {
    size_t n = 0;
    for (const Shard& s : shards_) n += s.bytes();
    return n;
  }

 private:
  // 256 tables by the fingerprint's top bits: one grows at a time, so doubling never
  // needs twice the memory of the whole index (10 million keys: 134 MB).
  static constexpr int kShardBits = 8;
  static size_t ShardOf(uint64_t fingerprint) { return static_cast<size_t>(fingerprint >> (40 - kShardBits)); }

  class Shard {
   public:
    void Add(uint64_t fingerprint, uint32_t rule) {
      if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
      const uint64_t entry = (fingerprint << 24) | rule;
      size_t i = Home(fingerprint);
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = entry;
      ++size_;
    }
    template <typename Fn>
    void ForEach(uint64_t fingerprint, Fn& fn) const {
      if (size_ == 0) return;
      for (size_t i = Home(fingerprint); slots_[i] != kEmpty; i = (i + 1) & mask_) {
        if ((slots_[i] >> 24) == fingerprint) fn(static_cast<uint32_t>(slots_[i] & kMaxRules));
      }
    }
    bool Remove(uint64_t fingerprint, uint32_t rule) {
      if (size_ == 0) return false;
      const uint64_t entry = (fingerprint << 24) | rule;
      size_t i = Home(fingerprint);
      while (slots_[i] != entry) {
        if (slots_[i] == kEmpty) return false;
        i = (i + 1) & mask_;
      }
      // Backward shift: move later entries of the cluster into the hole where their home
      // allows, so no lookup meets an empty slot before its entry.
      size_t hole = i;
      for (size_t j = (i + 1) & mask_; slots_[j] != kEmpty; j = (j + 1) & mask_) {
        const size_t home = Home(slots_[j] >> 24);
        // The entry at j may fill the hole if its home is not in (hole, j] (cyclically).
        const bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
          slots_[hole] = slots_[j];
          hole = j;
        }
      }
      slots_[hole] = kEmpty;
      --size_;
      if (size_ == 0) {  // a burst of evictions does not keep its table forever
        std::vector<uint64_t>().swap(slots_);
        mask_ = 0;
      }
      return true;
    }
    size_t bytes() const { return slots_.capacity() * sizeof(uint64_t); }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    size_t Home(uint64_t fingerprint) const {
      return static_cast<size_t>((fingerprint * 0x9e3779b97f4a7c15ull) >> 20) & mask_;
    }
    void Grow() {
      std::vector<uint64_t> old;
      old.swap(slots_);
      const size_t n = old.empty() ? 64 : old.size() * 2;
      slots_.assign(n, kEmpty);
      mask_ = n - 1;
      for (uint64_t e : old) {
        if (e == kEmpty) continue;
        size_t i = Home(e >> 24);
        while (slots_[i] != kEmpty) i = (i + 1) & mask_;
        slots_[i] = e;
      }
    }

    std::vector<uint64_t> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
  };

  std::vector<Shard> shards_ = std::vector<Shard>(size_t{1} << kShardBits);
  size_t size_ = 0;
};

}  // namespace vigil::cep
