#include "yaml_util.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "vigil/cep/value.h"

namespace vigil::rules {

SourcePos PosOf(const std::string& file, const YAML::Node& node) {
  SourcePos p;
  p.file = file;
  YAML::Mark m = node.Mark();
  if (m.line >= 0) {
    p.line = m.line + 1;
    p.column = m.column + 1;
  }
  return p;
}

bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

namespace {

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  int base = 10;
  if (s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o')) {
    base = s[i + 1] == 'x' ? 16 : 8;
    i += 2;
  }
  for (size_t k = i; k < s.size(); ++k) {
    char c = s[k];
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c <= (base == 8 ? '7' : '9'));
    if (!ok) return false;
  }
  errno = 0;
  long long v = std::strtoll(s.c_str() + i, nullptr, base);
  if (errno != 0) return false;
  *out = s[0] == '-' ? -v : v;
  return true;
}

bool ParseFloat(const std::string& s, double* out) {
  if (s.empty()) return false;
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') return false;
  }
  if (!digit) return false;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

}  // namespace

LiteralValue ScalarValue(const YAML::Node& node) {
  LiteralValue v;
  const std::string& s = node.Scalar();
  if (!IsPlainScalar(node)) {
    v.kind = cep::ValueKind::kString;
    v.s = s;
    return v;
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    v.kind = cep::ValueKind::kNull;
  } else if (s == "true" || s == "True" || s == "TRUE") {
    v.kind = cep::ValueKind::kBool;
    v.b = true;
  } else if (s == "false" || s == "False" || s == "FALSE") {
    v.kind = cep::ValueKind::kBool;
  } else if (ParseInt(s, &v.i)) {
    v.kind = cep::ValueKind::kInt;
  } else if (ParseFloat(s, &v.d)) {
    v.kind = cep::ValueKind::kDouble;
  } else {
    v.kind = cep::ValueKind::kString;
    v.s = s;
  }
  return v;
}

void AppendNodeJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        cep::AppendJsonString(it->first.Scalar(), out);
        out->push_back(':');
        AppendNodeJson(it->second, out);
      }
      out->push_back('}');
      break;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        if (i) out->push_back(',');
        AppendNodeJson(node[i], out);
      }
      out->push_back(']');
      break;
    }
    case YAML::NodeType::Scalar: cep::AppendJson(ScalarValue(node).view(), out); break;
    default: out->append("null");
  }
}

ExprSource ExprSourceOf(const std::string& file, const YAML::Node& node) {
  ExprSource src;
  src.start = PosOf(file, node);
  src.quoted = node.Tag() == "!";
  src.text = node.Scalar();
  return src;
}

}  // namespace vigil::rules
