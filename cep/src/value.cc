#include "vigil/cep/value.h"

#include <charconv>
#include <cmath>

namespace vigil::cep {

bool ValuesEqual(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == ValueKind::kInt && b.kind == ValueKind::kInt) return a.i == b.i;
    return a.AsDouble() == b.AsDouble();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ValueKind::kNull: return true;
    case ValueKind::kBool: return a.b == b.b;
    case ValueKind::kString:
    case ValueKind::kJson: return a.s == b.s;
    default: return false;
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  (void)ec;
  out->append(buf, static_cast<size_t>(end - buf));
}

void AppendJson(const Value& v, std::string* out) {
  switch (v.kind) {
    case ValueKind::kNull: out->append("null"); break;
    case ValueKind::kBool: out->append(v.b ? "true" : "false"); break;
    case ValueKind::kInt: out->append(std::to_string(v.i)); break;
    case ValueKind::kDouble: AppendDouble(v.d, out); break;
    case ValueKind::kString: AppendJsonString(v.s, out); break;
    case ValueKind::kJson: out->append(v.s); break;
  }
}

void AppendText(const Value& v, std::string* out) {
  switch (v.kind) {
    case ValueKind::kNull: break;
    case ValueKind::kString:
    case ValueKind::kJson: out->append(v.s); break;
    default: AppendJson(v, out);
  }
}

}  // namespace vigil::cep
