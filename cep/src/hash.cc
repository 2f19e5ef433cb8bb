#include "vigil/cep/hash.h"

#include <cstring>

namespace vigil::cep {

namespace {

inline uint64_t Mix(uint64_t x) {
  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  uint64_t h = Mix(seed ^ (0x9e3779b97f4a7c15ull * (data.size() + 1)));
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = Mix(h ^ w) + 0x9e3779b97f4a7c15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, data.data() + i, data.size() - i);
  return Mix(h ^ tail ^ (static_cast<uint64_t>(data.size() - i) << 56));
}

uint64_t HashCombine(uint64_t h, uint64_t v) { return Mix(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2))); }

}  // namespace vigil::cep
