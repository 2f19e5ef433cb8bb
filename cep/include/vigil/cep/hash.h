// A fast, stable 64-bit hash (the same value on every run and machine), for identities
// and state keys. Not cryptographic.
#pragma once

#include <cstdint>
#include <string_view>

namespace vigil::cep {

uint64_t Hash64(std::string_view data, uint64_t seed = 0);
// Combines a hash with another value, order-sensitively.
uint64_t HashCombine(uint64_t h, uint64_t v);

}  // namespace vigil::cep
