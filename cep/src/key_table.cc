#include "key_table.h"

namespace vigil::cep {

namespace {
constexpr size_t kInitialBuckets = 16;
}  // namespace

KeyTable::KeyTable() { Rehash(kInitialBuckets); }

uint32_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  const uint32_t tag = Tag(hash);
  for (size_t i = Home(tag);; i = (i + 1) & mask_) {
    const Bucket& b = buckets_[i];
    if (b.slot_plus1 == 0) return kNone;
    if (b.tag == tag) {
      const KeyEntry& e = entries_[b.slot_plus1 - 1];
      if (e.hash == hash && e.key() == key) return b.slot_plus1 - 1;
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
  e.SetKey(key);
  key_heap_bytes_ += e.KeyHeapBytes();
  e.hash = hash;
  e.in_use = true;
  const uint32_t tag = Tag(hash);
  size_t i = Home(tag);
  while (buckets_[i].slot_plus1 != 0) i = (i + 1) & mask_;
  buckets_[i] = Bucket{slot + 1, tag, nullptr};
  ++size_;
  return slot;
}

void KeyTable::SetHint(uint32_t slot, void* hint) {
  size_t i = Home(Tag(entries_[slot].hash));
  while (buckets_[i].slot_plus1 != slot + 1) i = (i + 1) & mask_;
  buckets_[i].hint = hint;
}

void KeyTable::Erase(uint32_t slot) {
  KeyEntry& e = entries_[slot];
  size_t i = Home(Tag(e.hash));
  while (buckets_[i].slot_plus1 != slot + 1) i = (i + 1) & mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole, so that
  // every key stays reachable from its home bucket without tombstones.
  for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (buckets_[j].slot_plus1 == 0) break;
    size_t home = Home(buckets_[j].tag);
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
  key_heap_bytes_ -= e.KeyHeapBytes();
  e.ClearKey();  // a freed slot holds no key bytes
  free_.push_back(slot);
  --size_;
}

void KeyTable::Clear() {
  for (uint32_t s = 0; s < entries_.size(); ++s) {
    if (entries_[s].in_use) Erase(s);
  }
}

void KeyTable::Rehash(size_t buckets) {
  std::vector<Bucket> old(buckets);
  old.swap(buckets_);
  mask_ = buckets - 1;
  for (const Bucket& b : old) {
    if (b.slot_plus1 == 0) continue;
    size_t i = Home(b.tag);
    while (buckets_[i].slot_plus1 != 0) i = (i + 1) & mask_;
    buckets_[i] = b;
  }
}

size_t KeyTable::bytes() const {
  size_t n = buckets_.capacity() * sizeof(Bucket) + entries_.capacity() * sizeof(KeyEntry) +
             free_.capacity() * sizeof(uint32_t);
  for (const KeyEntry& e : entries_) {
    if (!e.in_use) continue;
    n += e.KeyHeapBytes() + e.live.HeapBytes();
  }
  return n;
}

}  // namespace vigil::cep
