#include "yaml_util.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

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

namespace {

// A block scalar's node is marked at its indicator ('|' or '>'); its text starts on the
// next line. Records where, and where each line as written begins in the text, in `src`.
void LocateBlockScalar(std::string_view doc, const YAML::Mark& mark, ExprSource* src) {
  if (mark.line < 0 || mark.column < 0) return;
  size_t pos = 0;
  for (int line = 0; line < mark.line; ++line) {
    pos = doc.find('\n', pos);
    if (pos == std::string_view::npos) return;
    ++pos;
  }
  pos += static_cast<size_t>(mark.column);
  if (pos >= doc.size() || (doc[pos] != '|' && doc[pos] != '>')) return;
  const bool folded = doc[pos] == '>';
  pos = doc.find('\n', pos);
  // Each line's length after the indentation, or npos for a blank line.
  constexpr size_t kBlank = std::string_view::npos;
  std::vector<size_t> lengths;
  size_t indent = kBlank;
  while (pos != std::string_view::npos && pos + 1 < doc.size()) {
    size_t begin = pos + 1;
    pos = doc.find('\n', begin);
    std::string_view line = doc.substr(begin, pos == std::string_view::npos ? pos : pos - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t spaces = line.find_first_not_of(' ');
    if (spaces == std::string_view::npos) {
      lengths.push_back(kBlank);
      continue;
    }
    if (indent == kBlank) indent = spaces;
    if (spaces < indent) break;  // the block has ended
    lengths.push_back(line.size() - indent);
  }
  if (indent == kBlank) return;
  // Every line break is one character of the text ('\n', or ' ' when folded), except
  // that folding drops the break before blank lines (they become the '\n's).
  size_t at = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    src->block_lines.push_back(at);
    bool blank = lengths[i] == kBlank;
    bool dropped = folded && !blank && i + 1 < lengths.size() && lengths[i + 1] == kBlank;
    at += (blank ? 0 : lengths[i]) + (dropped ? 0 : 1);
  }
  src->start.line = mark.line + 2;
  src->start.column = static_cast<int>(indent) + 1;
  src->quoted = false;
}

}  // namespace

ExprSource ExprSourceOf(const std::string& file, const YAML::Node& node, std::string_view doc) {
  ExprSource src;
  src.start = PosOf(file, node);
  src.quoted = node.Tag() == "!";
  src.text = node.Scalar();
  LocateBlockScalar(doc, node.Mark(), &src);
  return src;
}

}  // namespace vigil::rules
