#include "vigil/cep/key.h"

#include <cmath>
#include <cstring>

namespace vigil::cep {

namespace {

// Encoding, per field: one kind byte, then 1 byte (bool), 8 bytes (int, double), or a
// varint length and the bytes (string, JSON). Integral doubles are stored as ints so that
// 1 and 1.0 are one key.

uint64_t GetVarint(std::string_view s, size_t* pos) {
  uint64_t v = 0;
  int shift = 0;
  while (*pos < s.size()) {
    uint8_t b = static_cast<uint8_t>(s[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  return v;
}

uint64_t GetFixed64(std::string_view s, size_t* pos) {
  uint64_t v = 0;
  if (*pos + 8 <= s.size()) std::memcpy(&v, s.data() + *pos, 8);
  *pos += 8;
  return v;
}

// Reads the value at *pos and advances past it.
Value ReadValue(std::string_view s, size_t* pos) {
  if (*pos >= s.size()) return Value::Null();
  auto kind = static_cast<ValueKind>(s[(*pos)++]);
  switch (kind) {
    case ValueKind::kBool: return Value::Bool(s[(*pos)++] != 0);
    case ValueKind::kInt: return Value::Int(static_cast<int64_t>(GetFixed64(s, pos)));
    case ValueKind::kDouble: {
      uint64_t bits = GetFixed64(s, pos);
      double d;
      std::memcpy(&d, &bits, 8);
      return Value::Double(d);
    }
    case ValueKind::kString:
    case ValueKind::kJson: {
      uint64_t n = GetVarint(s, pos);
      std::string_view v = s.substr(*pos, n);
      *pos += n;
      return kind == ValueKind::kString ? Value::String(v) : Value::Json(v);
    }
    default: return Value::Null();
  }
}

}  // namespace

bool EncodeKey(const Event& event, const std::vector<FieldId>& fields, std::string* out) {
  out->clear();
  // Per field one append of the kind byte and fixed part (or varint length), then the
  // string bytes: a key costs no per-byte push_back.
  char head[16];
  for (FieldId id : fields) {
    const Value& v = event.field(id);
    size_t n = 0;
    switch (v.kind) {
      case ValueKind::kNull: return false;
      case ValueKind::kBool:
        head[n++] = static_cast<char>(ValueKind::kBool);
        head[n++] = v.b ? 1 : 0;
        break;
      case ValueKind::kInt: {
        head[n++] = static_cast<char>(ValueKind::kInt);
        const auto bits = static_cast<uint64_t>(v.i);
        std::memcpy(head + n, &bits, 8);
        n += 8;
        break;
      }
      case ValueKind::kDouble: {
        double d = v.d;
        uint64_t bits;
        if (std::trunc(d) == d && std::fabs(d) < 9.2e18) {
          head[n++] = static_cast<char>(ValueKind::kInt);
          bits = static_cast<uint64_t>(static_cast<int64_t>(d));
        } else {
          head[n++] = static_cast<char>(ValueKind::kDouble);
          std::memcpy(&bits, &d, 8);
        }
        std::memcpy(head + n, &bits, 8);
        n += 8;
        break;
      }
      case ValueKind::kString:
      case ValueKind::kJson: {
        head[n++] = static_cast<char>(v.kind);
        uint64_t len = v.s.size();
        while (len >= 0x80) {
          head[n++] = static_cast<char>(len | 0x80);
          len >>= 7;
        }
        head[n++] = static_cast<char>(len);
        break;
      }
    }
    out->append(head, n);
    if (v.kind == ValueKind::kString || v.kind == ValueKind::kJson) out->append(v.s);
  }
  return true;
}

Value KeyValueAt(std::string_view encoded, size_t i) {
  size_t pos = 0;
  for (size_t k = 0; k < i; ++k) ReadValue(encoded, &pos);
  return ReadValue(encoded, &pos);
}

void AppendKeyJson(std::string_view encoded, const std::vector<std::string>& names,
                   std::string* out) {
  out->push_back('{');
  size_t pos = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    if (k > 0) out->push_back(',');
    AppendJsonString(names[k], out);
    out->push_back(':');
    AppendJson(ReadValue(encoded, &pos), out);
  }
  out->push_back('}');
}

}  // namespace vigil::cep
