// Internal: the engine's start index for one field, from string value to the rules whose
// start filter admits it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "key_table.h"

namespace vigil::cep {

// The rules whose start filter admits each string value of one field: open addressing
// over a power-of-two table, at most half full, probed with KeyTable::Hash.
class ValueIndex {
 public:
  void Add(std::string_view value, uint32_t rule) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    Slot& s = Locate(value, KeyTable::Hash(value));
    if (!s.used) {
      s.used = true;
      s.hash = KeyTable::Hash(value);
      s.value.assign(value);
      ++count_;
    }
    if (s.rules.empty() || s.rules.back() != rule) s.rules.push_back(rule);
  }
  const std::vector<uint32_t>* Find(std::string_view value) const {
    if (count_ == 0) return nullptr;
    const uint64_t h = KeyTable::Hash(value);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.hash == h && s.value == value) return &s.rules;
    }
  }

 private:
  struct Slot {
    bool used = false;
    uint64_t hash = 0;
    std::string value;
    std::vector<uint32_t> rules;  // ascending
  };
  Slot& Locate(std::string_view value, uint64_t h) {
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[i];
      if (!s.used || (s.hash == h && s.value == value)) return s;
    }
  }
  void Grow() {
    std::vector<Slot> old(slots_.empty() ? 16 : slots_.size() * 2);
    old.swap(slots_);
    for (Slot& s : old) {
      if (s.used) Locate(s.value, s.hash) = std::move(s);
    }
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace vigil::cep
