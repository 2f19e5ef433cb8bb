#include "vigil/cep/key.h"

#include <cmath>
#include <cstring>

#include "key_encoding.h"

namespace vigil::cep {

namespace {

// The encoding is EncodeKeyTo's (key_encoding.h).

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
  const size_t bound = EncodedKeyBound(event, fields);
  if (bound == SIZE_MAX) {
    out->clear();
    return false;
  }
  out->resize(bound);
  out->resize(EncodeKeyTo(event, fields, out->data()));
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
