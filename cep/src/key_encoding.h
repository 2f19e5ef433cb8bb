// Internal: EncodeKey's byte format (key.h), written straight into a buffer. The engine
// encodes every event's keys; this costs one bound pass and one write pass over the key
// fields, with no per-byte appends.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "vigil/cep/event.h"

namespace vigil::cep {

// An upper bound of the encoded size, or SIZE_MAX if the event lacks one of the fields.
inline size_t EncodedKeyBound(const Event& event, const std::vector<FieldId>& fields) {
  size_t n = 0;
  for (FieldId id : fields) {
    const Value& v = event.field(id);
    switch (v.kind) {
      case ValueKind::kNull: return SIZE_MAX;
      case ValueKind::kBool: n += 2; break;
      case ValueKind::kInt:
      case ValueKind::kDouble: n += 9; break;
      case ValueKind::kString:
      case ValueKind::kJson: n += 11 + v.s.size(); break;  // kind, varint length, bytes
    }
  }
  return n;
}

// Writes the encoding to `out` (room for EncodedKeyBound bytes); returns its size.
// REQUIRES: the event has every field (EncodedKeyBound != SIZE_MAX).
//
// Per field: one kind byte, then 1 byte (bool), 8 bytes (int, double), or a varint length
// and the bytes (string, JSON). Integral doubles are stored as ints so that 1 and 1.0 are
// one key.
inline size_t EncodeKeyTo(const Event& event, const std::vector<FieldId>& fields, char* out) {
  char* p = out;
  for (FieldId id : fields) {
    const Value& v = event.field(id);
    switch (v.kind) {
      case ValueKind::kNull: break;  // excluded by the REQUIRES
      case ValueKind::kBool:
        *p++ = static_cast<char>(ValueKind::kBool);
        *p++ = v.b ? 1 : 0;
        break;
      case ValueKind::kInt: {
        *p++ = static_cast<char>(ValueKind::kInt);
        const auto bits = static_cast<uint64_t>(v.i);
        std::memcpy(p, &bits, 8);
        p += 8;
        break;
      }
      case ValueKind::kDouble: {
        const double d = v.d;
        uint64_t bits;
        if (std::trunc(d) == d && std::fabs(d) < 9.2e18) {
          *p++ = static_cast<char>(ValueKind::kInt);
          bits = static_cast<uint64_t>(static_cast<int64_t>(d));
        } else {
          *p++ = static_cast<char>(ValueKind::kDouble);
          std::memcpy(&bits, &d, 8);
        }
        std::memcpy(p, &bits, 8);
        p += 8;
        break;
      }
      case ValueKind::kString:
      case ValueKind::kJson: {
        *p++ = static_cast<char>(v.kind);
        uint64_t len = v.s.size();
        while (len >= 0x80) {
          *p++ = static_cast<char>(len | 0x80);
          len >>= 7;
        }
        *p++ = static_cast<char>(len);
        if (!v.s.empty()) std::memcpy(p, v.s.data(), v.s.size());  // empty: data may be null
        p += v.s.size();
        break;
      }
    }
  }
  return static_cast<size_t>(p - out);
}

}  // namespace vigil::cep
