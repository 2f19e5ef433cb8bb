#include "yaml_util.h"

#include <yaml-cpp/eventhandler.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
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

namespace {

// Appends `node`; fails once `out` would grow past `limit` bytes.
bool AppendJsonAt(const YAML::Node& node, int depth, size_t limit, std::string* out,
                  std::string* error) {
  if (depth > kMaxJsonDepth) {
    *error = "nests deeper than " + std::to_string(kMaxJsonDepth) +
             " levels (is there an alias inside the node it names?)";
    return false;
  }
  if (out->size() > limit) {
    *error = "is too large as JSON (are YAML aliases repeating a large value?)";
    return false;
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        cep::AppendJsonString(it->first.Scalar(), out);
        out->push_back(':');
        if (!AppendJsonAt(it->second, depth + 1, limit, out, error)) return false;
      }
      out->push_back('}');
      break;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        if (i) out->push_back(',');
        if (!AppendJsonAt(node[i], depth + 1, limit, out, error)) return false;
      }
      out->push_back(']');
      break;
    }
    case YAML::NodeType::Scalar: cep::AppendJson(ScalarValue(node).view(), out); break;
    default: out->append("null");
  }
  return true;
}

}  // namespace

bool AppendNodeJson(const YAML::Node& node, size_t* budget, std::string* out, std::string* error) {
  const size_t start = out->size();
  bool ok = AppendJsonAt(node, 0, start + *budget, out, error);
  size_t used = out->size() - start;
  if (ok && used > *budget) {
    *error = "is too large as JSON (are YAML aliases repeating a large value?)";
    ok = false;
  }
  *budget = ok ? *budget - used : 0;
  return ok;
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

// The byte offset in `doc` of a mark, or npos if the document is shorter.
size_t OffsetOf(std::string_view doc, const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return std::string_view::npos;
  size_t pos = 0;
  for (int line = 0; line < mark.line; ++line) {
    pos = doc.find('\n', pos);
    if (pos == std::string_view::npos) return pos;
    ++pos;
  }
  pos += static_cast<size_t>(mark.column);
  return pos <= doc.size() ? pos : std::string_view::npos;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsBreak(char c) { return c == '\n' || c == '\r'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Reads a flow scalar (plain, 'single' or "double" quoted) in `doc` from `mark` the way a
// YAML parser folds it, checking it against the parsed `value` byte by byte and recording
// where each byte was written.
class FlowScalarTrace {
 public:
  FlowScalarTrace(std::string_view doc, const YAML::Mark& mark) : doc_(doc) {
    p_ = OffsetOf(doc, mark);
    line_ = mark.line + 1;
    column_ = mark.column + 1;
  }

  FlowTrace Run(const std::string& value) {
    FlowTrace out;
    if (p_ == std::string_view::npos || p_ >= doc_.size()) return out;
    char quote = doc_[p_] == '\'' || doc_[p_] == '"' ? doc_[p_] : 0;
    if (quote) Step();
    size_t i = 0;
    while (i < value.size()) {
      if (p_ >= doc_.size()) return out;
      char c = doc_[p_];
      if (IsBlank(c) || IsBreak(c)) {
        if (!Fold(value, &i)) return out;
      } else if (quote == '"' && c == '\\') {
        if (!Escape(value, &i)) return out;
      } else if (quote == '\'' && c == '\'' && p_ + 1 < doc_.size() && doc_[p_ + 1] == '\'') {
        if (value[i] != '\'') return out;
        Emit(&i);
        Step();
        Step();
      } else {
        if (c != value[i] || c == quote) return out;
        Emit(&i);
        Step();
      }
    }
    if (quote) {
      while (p_ < doc_.size() && (IsBlank(doc_[p_]) || IsBreak(doc_[p_]))) Step();
      if (p_ >= doc_.size()) {
        out.unterminated = true;
        return out;
      }
      if (doc_[p_] != quote) return out;
    }
    out.ok = true;
    out.positions = std::move(positions_);
    return out;
  }

 private:
  void Step() {
    if (doc_[p_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++p_;
  }
  void Emit(size_t* i) {
    positions_.emplace_back(line_, column_);
    ++*i;
  }

  // Blanks inside a line are kept; blanks around line breaks fold: one break becomes a
  // space, n breaks become n - 1 newlines.
  bool Fold(const std::string& value, size_t* i) {
    size_t q = p_;
    while (q < doc_.size() && IsBlank(doc_[q])) ++q;
    if (q < doc_.size() && !IsBreak(doc_[q])) {
      while (p_ < q) {  // blanks inside a line: content
        if (*i >= value.size() || value[*i] != doc_[p_]) return false;
        Emit(i);
        Step();
      }
      return true;
    }
    int at_line = line_, at_column = column_;
    int breaks = 0;
    while (p_ < doc_.size() && (IsBlank(doc_[p_]) || IsBreak(doc_[p_]))) {
      if (doc_[p_] == '\n') ++breaks;
      Step();
    }
    std::string folded = breaks == 1 ? " " : std::string(breaks > 1 ? breaks - 1 : 0, '\n');
    if (breaks == 0) return true;  // blanks up to the end of the document
    for (char f : folded) {
      if (*i >= value.size() || value[*i] != f) return false;
      positions_.emplace_back(at_line, at_column);
      ++*i;
    }
    return true;
  }

  // A double-quoted escape: the bytes it stands for all point at its backslash.
  bool Escape(const std::string& value, size_t* i) {
    if (p_ + 1 >= doc_.size()) return false;
    char e = doc_[p_ + 1];
    if (IsBreak(e)) {  // an escaped line break joins the lines without a space
      Step();
      while (p_ < doc_.size() && (IsBlank(doc_[p_]) || IsBreak(doc_[p_]))) Step();
      return true;
    }
    size_t hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    size_t bytes = 1;
    if (hex) {
      if (p_ + 2 + hex > doc_.size()) return false;
      unsigned long cp = 0;
      for (size_t k = 0; k < hex; ++k) {
        char h = doc_[p_ + 2 + k];
        if (!IsHex(h)) return false;
        cp = cp * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(h))
                                                      ? h - '0'
                                                      : (std::tolower(h) - 'a' + 10));
      }
      bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    } else if (e == 'N' || e == '_') {
      bytes = 2;
    } else if (e == 'L' || e == 'P') {
      bytes = 3;
    }
    if (*i + bytes > value.size()) return false;
    for (size_t k = 0; k < bytes; ++k) Emit(i);
    for (size_t k = 0; k < 2 + hex; ++k) Step();
    return true;
  }

  std::string_view doc_;
  size_t p_ = 0;
  int line_ = 0, column_ = 0;
  std::vector<std::pair<int, int>> positions_;
};

}  // namespace

FlowTrace TraceFlowScalar(std::string_view doc, const YAML::Node& node) {
  if (!node.IsScalar() || doc.empty()) return {};
  return FlowScalarTrace(doc, node.Mark()).Run(node.Scalar());
}

namespace {

// Notes where a document's first node is, and where an empty one's null is.
class FirstNode final : public YAML::EventHandler {
 public:
  bool found = false;
  YAML::Mark mark;
  bool null = false;
  YAML::Mark null_mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override {
    if (!found && !null) null_mark = m;
    null = true;
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& m) {
    if (!found) mark = m;
    found = true;
  }
};

}  // namespace

LaterDocument FindLaterDocument(const std::string& text, YAML::Mark* at) {
  // YAML::LoadAll would tell, but yaml-cpp's parser does not move past a stray ',' outside
  // a flow collection: it hands out the same empty document for ever (LoadAll then takes
  // memory until the process is killed). That is noticed here, at the second repeat.
  std::istringstream in(text);
  YAML::Parser parser(in);
  YAML::Mark last_null;
  for (int i = 0;; ++i) {
    FirstNode doc;
    if (!parser.HandleNextDocument(doc)) return LaterDocument::kNone;
    if (i > 0 && doc.found) {
      *at = doc.mark;
      return LaterDocument::kSecond;
    }
    if (!doc.found && doc.null && i > 1 && doc.null_mark.pos == last_null.pos) {
      *at = doc.null_mark;
      return LaterDocument::kStuck;
    }
    if (!doc.found && doc.null) last_null = doc.null_mark;
  }
}

bool UnterminatedQuote(const std::string& file, std::string_view doc, const YAML::Node& root,
                       SourcePos* open) {
  // The last scalar of the document: the last entry of each collection, down. For a map
  // entry whose value was left empty, the key is the last scalar written.
  // yaml-cpp's Node::operator= writes through to the node it refers to; reset() rebinds.
  YAML::Node n = root;
  // Each step goes further into the file; an alias points back (to what it names), and
  // one inside the node it names would loop: either ends the walk.
  while (n.IsMap() || n.IsSequence()) {
    if (n.size() == 0) return false;
    YAML::Node next;
    if (n.IsSequence()) {
      next.reset(n[n.size() - 1]);
    } else {
      YAML::Node key, value;
      for (auto it = n.begin(); it != n.end(); ++it) {
        key.reset(it->first);
        value.reset(it->second);
      }
      next.reset(value.Mark().pos > key.Mark().pos ? value : key);
    }
    if (next.Mark().pos <= n.Mark().pos) return false;
    n.reset(next);
  }
  if (!n.IsScalar() || n.Tag() != "!") return false;
  if (!TraceFlowScalar(doc, n).unterminated) return false;
  *open = PosOf(file, n);
  return true;
}

ExprSource ExprSourceOf(const std::string& file, const YAML::Node& node, std::string_view doc) {
  ExprSource src;
  src.start = PosOf(file, node);
  src.quoted = node.Tag() == "!";
  src.text = node.Scalar();
  LocateBlockScalar(doc, node.Mark(), &src);
  if (src.block_lines.empty()) {
    FlowTrace trace = TraceFlowScalar(doc, node);
    if (trace.ok) src.byte_positions = std::move(trace.positions);
  }
  return src;
}

}  // namespace vigil::rules
