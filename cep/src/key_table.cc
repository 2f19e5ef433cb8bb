#include "key_table.h"

#include <functional>

namespace vigil::cep {

namespace {
constexpr size_t kInitialBuckets = 16;
}  // namespace

KeyTable::KeyTable() { Rehash(kInitialBuckets); }

uint64_t KeyTable::Hash(std::string_view key) {
  // libstdc++'s string hash is a 64-bit Murmur variant; its low bits pick the bucket and
  // its high bits are the tag, so both must be good, and they are.
  return std::hash<std::string_view>{}(key);
}

uint32_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t i = Home(hash);; i = (i + 1) & mask_) {
    const Bucket& b = buckets_[i];
    if (b.slot_plus1 == 0) return kNone;
    if (b.tag == tag) {
      const KeyEntry& e = entries_[b.slot_plus1 - 1];
      if (e.hash == hash && e.key == key) return b.slot_plus1 - 1;
    }
  }
}

uint32_t KeyTable::Insert(std::string_view key, uint64_t hash) {
  if ((size_ + 1) * 4 > buckets_.size() * 3) Rehash(buckets_.size() * 2);
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  KeyEntry& e = entries_[slot];
  e.key.assign(key);
  e.hash = hash;
  e.in_use = true;
  size_t i = Home(hash);
  while (buckets_[i].slot_plus1 != 0) i = (i + 1) & mask_;
  buckets_[i] = Bucket{slot + 1, static_cast<uint32_t>(hash >> 32)};
  ++size_;
  return slot;
}

void KeyTable::Erase(uint32_t slot) {
  KeyEntry& e = entries_[slot];
  size_t i = Home(e.hash);
  while (buckets_[i].slot_plus1 != slot + 1) i = (i + 1) & mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole, so that
  // every key stays reachable from its home bucket without tombstones.
  for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (buckets_[j].slot_plus1 == 0) break;
    size_t home = Home(entries_[buckets_[j].slot_plus1 - 1].hash);
    // Move j into the hole at i unless j's home lies cyclically in (i, j].
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    buckets_[i] = buckets_[j];
    i = j;
  }
  buckets_[i] = Bucket{};
  e.in_use = false;
  e.live.clear();
  ++e.generation;
  std::string().swap(e.key);  // a freed slot holds no key bytes
  free_.push_back(slot);
  --size_;
}

void KeyTable::Clear() {
  for (uint32_t s = 0; s < entries_.size(); ++s) {
    if (entries_[s].in_use) Erase(s);
  }
}

void KeyTable::Rehash(size_t buckets) {
  buckets_.assign(buckets, Bucket{});
  mask_ = buckets - 1;
  for (uint32_t s = 0; s < entries_.size(); ++s) {
    const KeyEntry& e = entries_[s];
    if (!e.in_use) continue;
    size_t i = Home(e.hash);
    while (buckets_[i].slot_plus1 != 0) i = (i + 1) & mask_;
    buckets_[i] = Bucket{s + 1, static_cast<uint32_t>(e.hash >> 32)};
  }
}

size_t KeyTable::bytes() const {
  size_t n = buckets_.capacity() * sizeof(Bucket) + entries_.capacity() * sizeof(KeyEntry) +
             free_.capacity() * sizeof(uint32_t);
  for (const KeyEntry& e : entries_) {
    if (!e.in_use) continue;
    n += e.key.capacity() > 15 ? e.key.capacity() + 1 : 0;
    n += e.live.HeapBytes();
  }
  return n;
}

}  // namespace vigil::cep
