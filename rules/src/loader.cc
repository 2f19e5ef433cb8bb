// Rule files → Ruleset: YAML reading, validation with positions, and compilation.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "expr_compiler.h"
#include "vigil/rules/ruleset.h"
#include "vigil/rules/template.h"
#include "yaml_util.h"

namespace vigil::rules {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "medium";
}

bool ParseSeverity(const std::string& text, Severity* out) {
  static constexpr Severity kAll[] = {Severity::kInfo, Severity::kLow, Severity::kMedium,
                                      Severity::kHigh, Severity::kCritical};
  for (Severity s : kAll) {
    if (text == SeverityName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

std::string Rule::RenderSummary(const cep::Match& match) const {
  if (!output) return title;
  std::string s;
  output->Render(match, &s);
  return s;
}

namespace {

namespace fs = std::filesystem;

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Names are checked by character class: libstdc++'s std::regex_match recurses once per
// character and overflowed the stack on a 30,000-character rule id.
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_' || c == '.' || c == '-'; }
bool IsStepNameChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_' || c == '-'; }
bool IsNameChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_'; }
bool AllOf(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }

// The entries of a YAML mapping, checked against the keys a context allows.
class MapView {
 public:
  MapView(const std::string& file, const YAML::Node& node, const char* what,
          const std::vector<std::string>& allowed, Diagnostics* diags) {
    if (!node.IsMap()) {
      diags->push_back({PosOf(file, node), std::string(what) + " must be a mapping"});
      ok_ = false;
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string msg = "unknown key '" + key + "' in " + what;
        std::string hint = SuggestClosest(key, allowed);
        if (!hint.empty()) {
          msg += "; did you mean '" + hint + "'?";
          misspelt_.push_back(hint);
        }
        diags->push_back({PosOf(file, it->first), msg});
        continue;
      }
      bool dup = false;
      for (const auto& e : entries_) dup |= e.key == key;
      if (dup) {
        diags->push_back({PosOf(file, it->first), "duplicate key '" + key + "' in " + what});
        continue;
      }
      entries_.push_back({key, it->first, it->second});
    }
  }

  bool ok() const { return ok_; }
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // A required key that is missing need not be reported again when an unknown key was
  // reported as its misspelling ("unknown key 'wher'; did you mean 'where'?").
  bool missing(const std::string& key) const {
    return !has(key) &&
           std::find(misspelt_.begin(), misspelt_.end(), key) == misspelt_.end();
  }
  bool missing_all(const std::vector<std::string>& keys) const {
    for (const std::string& k : keys) {
      if (!missing(k)) return false;
    }
    return true;
  }
  // The value node, or an invalid node when absent.
  YAML::Node get(const std::string& key) const {
    const Entry* e = find(key);
    return e ? e->value : YAML::Node(YAML::NodeType::Undefined);
  }
  YAML::Node key_node(const std::string& key) const {
    const Entry* e = find(key);
    return e ? e->key_node : YAML::Node(YAML::NodeType::Undefined);
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node, value;
  };
  const Entry* find(const std::string& key) const {
    for (const auto& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  std::vector<Entry> entries_;
  std::vector<std::string> misspelt_;  // the keys unknown keys were taken for
  bool ok_ = true;
};

struct FileDoc {
  std::string path;
  std::string text;  // as read, for positions inside block scalars
  YAML::Node root;
  bool parsed = false;
};

class Loader {
 public:
  Loader(cep::FieldRegistry* fields, Diagnostics* diags) : fields_(fields), diags_(diags) {}

  void AddDocument(const std::string& path, const std::string& text) {
    FileDoc doc;
    doc.path = path;
    doc.text = text;
    try {
      doc.root = YAML::Load(text);
      doc.parsed = true;
      YAML::Mark at;
      LaterDocument later = FindLaterDocument(text, &at);
      SourcePos later_pos{path, at.line + 1, at.column + 1};
      if (later == LaterDocument::kSecond) {
        Error(later_pos, "a rule file holds one YAML document; this is a second one (put it in "
                         "a file of its own)");
        doc.parsed = false;
      } else if (later == LaterDocument::kStuck) {
        size_t offset = static_cast<size_t>(std::max(at.pos, 0));
        std::string what = offset < text.size() && text[offset] > ' ' && text[offset] < 127
                               ? "'" + std::string(1, text[offset]) + "'"
                               : "text";
        Error(later_pos, "YAML syntax error: unexpected " + what);
        doc.parsed = false;
      }
      SourcePos open;
      if (doc.parsed && UnterminatedQuote(path, text, doc.root, &open)) {
        Error(open, "YAML syntax error: this quoted string has no closing quote");
        doc.parsed = false;
      }
    } catch (const YAML::ParserException& e) {
      SourcePos pos{path, e.mark.line + 1, e.mark.column + 1};
      std::string msg = "YAML syntax error: " + e.msg;
      // What yaml-cpp says when a key is indented less than the block it belongs to.
      size_t at = static_cast<size_t>(std::max(e.mark.pos, 0));
      if ((e.msg == "end of map not found" || e.msg == "end of sequence not found") &&
          at < text.size() && std::isalnum(static_cast<unsigned char>(text[at]))) {
        msg += " (check the indentation of this line)";
      }
      Error(pos, msg);
    } catch (const YAML::Exception& e) {
      Error(SourcePos{path, 0, 0}, std::string("YAML error: ") + e.what());
    }
    result_.files.push_back(path);
    docs_.push_back(std::move(doc));
  }

  void AddPath(const std::string& path) {
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      Error(SourcePos{path, 0, 0}, "no such file or directory");
      return;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::string ext = it->path().extension().string();
        if (ext == ".yaml" || ext == ".yml") files.push_back(it->path().string());
      }
      if (ec) Error(SourcePos{path, 0, 0}, "cannot read directory: " + ec.message());
      std::sort(files.begin(), files.end());
      for (const std::string& f : files) AddFile(f);
      return;
    }
    AddFile(path);
  }

  Ruleset Finish() {
    for (FileDoc& doc : docs_) CollectDefinitions(doc);
    struct Loaded {
      std::string file;
      uint32_t serial;  // its owner number for the shared predicates
      Rule rule;
    };
    std::vector<Loaded> loaded;
    uint32_t serial = 0;
    for (FileDoc& doc : docs_) {
      if (!doc.parsed || !doc.root.IsMap()) continue;
      test_json_budget_ = TestJsonBudget(doc);
      test_json_reported_ = false;
      for (auto it = doc.root.begin(); it != doc.root.end(); ++it) {
        if (it->first.Scalar() != "rules") continue;
        // A copy (a cheap handle): `it->` returns a temporary that a reference would outlive.
        const YAML::Node rules = it->second;
        if (rules.IsNull()) continue;
        if (!rules.IsSequence()) {
          Error(PosOf(doc.path, rules), "'rules' must be a list of rules");
          continue;
        }
        for (const YAML::Node& r : rules) {
          Rule rule;
          predicates_.SetOwner(serial);
          if (LoadRule(doc.path, r, &rule)) loaded.push_back({doc.path, serial, std::move(rule)});
          ++serial;
        }
      }
    }
    // Ids are unique across the ruleset.
    std::map<std::string, SourcePos> seen;
    for (const Loaded& l : loaded) {
      auto [it, inserted] = seen.emplace(l.rule.id, l.rule.pos);
      if (!inserted) {
        Error(l.rule.pos, "duplicate rule id '" + l.rule.id + "' (first defined at " +
                              it->second.file + ":" + std::to_string(it->second.line) + ":" +
                              std::to_string(it->second.column) + ")");
      }
    }
    // A file with any error contributes nothing. The shared predicates of the rules that
    // remain compile into one database per field; a pattern Hyperscan rejects only then
    // (resource limits) is an error where it is written, and its rules do not load either.
    std::set<std::string> bad_files;
    std::set<uint32_t> rejected;
    auto keep = [&](const Loaded& l) { return !bad_files.count(l.file) && !rejected.count(l.serial); };
    for (;;) {
      for (const Diagnostic& d : *diags_) bad_files.insert(d.pos.file);
      std::vector<bool> kept(serial, false);
      for (const Loaded& l : loaded) kept[l.serial] = keep(l);
      std::vector<PredicateSetBuilder::Rejection> rejections;
      result_.predicates =
          predicates_.Build([&](uint32_t owner) { return kept[owner]; }, &rejections);
      if (rejections.empty()) break;
      for (PredicateSetBuilder::Rejection& r : rejections) {
        rejected.insert(r.owner);
        diags_->push_back(std::move(r.diag));
      }
    }
    for (Loaded& l : loaded) {
      if (keep(l)) result_.rules.push_back(std::move(l.rule));
    }
    // In file order, and by position within a file, as a reader goes through them.
    std::map<std::string, size_t> file_order;
    for (const std::string& f : result_.files) file_order.emplace(f, file_order.size());
    for (const Diagnostic& d : *diags_) file_order.emplace(d.pos.file, file_order.size());
    std::stable_sort(diags_->begin(), diags_->end(), [&](const Diagnostic& a, const Diagnostic& b) {
      return std::make_tuple(file_order.at(a.pos.file), a.pos.line, a.pos.column) <
             std::make_tuple(file_order.at(b.pos.file), b.pos.line, b.pos.column);
    });
    // The same error reached through a macro used by several rules is reported once.
    std::vector<Diagnostic> unique;
    std::set<std::string> texts;
    for (Diagnostic& d : *diags_) {
      if (texts.insert(d.ToString()).second) unique.push_back(std::move(d));
    }
    *diags_ = std::move(unique);
    return std::move(result_);
  }

 private:
  void Error(const SourcePos& pos, std::string message) {
    diags_->push_back(Diagnostic{pos, std::move(message)});
  }

  ExprSource SourceOf(const std::string& file, const YAML::Node& node) const {
    for (const FileDoc& doc : docs_) {
      if (doc.path == file) return ExprSourceOf(file, node, doc.text);
    }
    return ExprSourceOf(file, node, {});
  }

  void AddFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      Error(SourcePos{path, 0, 0}, "cannot open file");
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    AddDocument(path, ss.str());
  }

  void CollectDefinitions(FileDoc& doc) {
    if (!doc.parsed) return;
    if (doc.root.IsNull()) return;  // an empty file
    if (!doc.root.IsMap()) {
      Error(PosOf(doc.path, doc.root), "a rule file must be a mapping with lists, macros or rules");
      return;
    }
    MapView top(doc.path, doc.root, "rule file", {"lists", "macros", "rules"}, diags_);
    YAML::Node lists = top.get("lists");
    if (lists.IsDefined() && !lists.IsNull()) {
      if (!lists.IsMap()) {
        Error(PosOf(doc.path, lists), "'lists' must map names to lists of values");
      } else {
        for (auto it = lists.begin(); it != lists.end(); ++it) AddList(doc.path, it->first, it->second);
      }
    }
    YAML::Node macros = top.get("macros");
    if (macros.IsDefined() && !macros.IsNull()) {
      if (!macros.IsMap()) {
        Error(PosOf(doc.path, macros), "'macros' must map names to expressions");
      } else {
        for (auto it = macros.begin(); it != macros.end(); ++it) {
          AddMacro(doc.path, it->first, it->second);
        }
      }
    }
  }

  bool CheckName(const std::string& file, const YAML::Node& key, const char* what) {
    const std::string& name = key.Scalar();
    if (name.empty() || IsDigit(name[0]) || !AllOf(name, IsNameChar)) {
      Error(PosOf(file, key), std::string(what) + " name '" + key.Scalar() +
                                  "' must be letters, digits and '_' (not starting with a digit)");
      return false;
    }
    return true;
  }

  void AddList(const std::string& file, const YAML::Node& key, const YAML::Node& value) {
    const std::string name = key.Scalar();
    if (!CheckName(file, key, "list")) return;
    if (auto it = lists_.find(name); it != lists_.end()) {
      Error(PosOf(file, key), "list '" + name + "' is already defined at " + it->second.pos.file +
                                  ":" + std::to_string(it->second.pos.line));
      return;
    }
    if (macros_.count(name)) {
      Error(PosOf(file, key), "'" + name + "' is already defined as a macro");
      return;
    }
    if (!value.IsSequence()) {
      Error(PosOf(file, value), "list '" + name + "' must be a sequence of values");
      return;
    }
    ListDef def;
    def.pos = PosOf(file, key);
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) {
        Error(PosOf(file, item), "list '" + name + "' items must be plain values");
        return;
      }
      def.items.push_back(ScalarValue(item));
    }
    lists_.emplace(name, std::move(def));
  }

  void AddMacro(const std::string& file, const YAML::Node& key, const YAML::Node& value) {
    const std::string name = key.Scalar();
    if (!CheckName(file, key, "macro")) return;
    if (auto it = macros_.find(name); it != macros_.end()) {
      Error(PosOf(file, key), "macro '" + name + "' is already defined at " +
                                  it->second.source.start.file + ":" +
                                  std::to_string(it->second.source.start.line));
      return;
    }
    if (lists_.count(name)) {
      Error(PosOf(file, key), "'" + name + "' is already defined as a list");
      return;
    }
    if (!value.IsScalar()) {
      Error(PosOf(file, value), "macro '" + name + "' must be an expression string");
      return;
    }
    MacroDef def;
    def.source = SourceOf(file, value);
    ParseError perr;
    def.ast = ParseExpression(def.source.text, &perr);
    if (!def.ast) Error(def.source.At(perr.offset), perr.message);
    macros_.emplace(name, std::move(def));
  }

  // ---- scalar readers: each reports its own error and returns false ----

  bool ReadString(const std::string& file, const YAML::Node& n, const std::string& what,
                  std::string* out) {
    if (!n.IsScalar() || n.IsNull() || (IsPlainScalar(n) && n.Scalar().empty())) {
      Error(PosOf(file, n), what + " must be a string");
      return false;
    }
    *out = n.Scalar();
    return true;
  }

  bool ReadBool(const std::string& file, const YAML::Node& n, const std::string& what, bool* out) {
    LiteralValue v = n.IsScalar() ? ScalarValue(n) : LiteralValue{};
    if (v.kind != cep::ValueKind::kBool) {
      Error(PosOf(file, n), what + " must be true or false");
      return false;
    }
    *out = v.b;
    return true;
  }

  bool ReadCount(const std::string& file, const YAML::Node& n, const std::string& what,
                 int64_t min, uint64_t* out) {
    LiteralValue v = n.IsScalar() ? ScalarValue(n) : LiteralValue{};
    if (v.kind != cep::ValueKind::kInt || v.i < min) {
      Error(PosOf(file, n), what + " must be a whole number >= " + std::to_string(min));
      return false;
    }
    *out = static_cast<uint64_t>(v.i);
    return true;
  }

  bool ReadNumber(const std::string& file, const YAML::Node& n, const std::string& what,
                  double* out) {
    LiteralValue v = n.IsScalar() ? ScalarValue(n) : LiteralValue{};
    if (v.kind != cep::ValueKind::kInt && v.kind != cep::ValueKind::kDouble) {
      Error(PosOf(file, n), what + " must be a number");
      return false;
    }
    *out = v.kind == cep::ValueKind::kInt ? static_cast<double>(v.i) : v.d;
    return true;
  }

  bool ReadDuration(const std::string& file, const YAML::Node& n, const std::string& what,
                    cep::Duration* out) {
    if (!n.IsScalar()) {
      Error(PosOf(file, n), what + " must be a duration such as 30s, 5m or 1h");
      return false;
    }
    auto d = cep::ParseDuration(n.Scalar());
    if (!d.ok()) {
      Error(PosOf(file, n), what + ": " + d.status().message());
      return false;
    }
    if (*d <= 0) {
      Error(PosOf(file, n), what + " must be longer than 0");
      return false;
    }
    *out = *d;
    return true;
  }

  bool ReadStringList(const std::string& file, const YAML::Node& n, const std::string& what,
                      std::vector<std::string>* out) {
    if (n.IsScalar() && !n.IsNull()) {
      out->push_back(n.Scalar());
      return true;
    }
    if (!n.IsSequence()) {
      Error(PosOf(file, n), what + " must be a list of strings");
      return false;
    }
    bool ok = true;
    for (const YAML::Node& item : n) {
      std::string s;
      if (ReadString(file, item, what + " entries", &s)) out->push_back(std::move(s));
      else ok = false;
    }
    return ok;
  }

  bool CheckFieldPath(const std::string& file, const YAML::Node& n, const std::string& path) {
    if (path.empty() || path.front() == '.' || path.back() == '.' ||
        path.find("..") != std::string::npos) {
      Error(PosOf(file, n), "'" + path + "' is not a field path");
      return false;
    }
    return true;
  }

  // ---- rules ----

  CompileScope BaseScope() {
    CompileScope scope;
    scope.macros = &macros_;
    scope.lists = &lists_;
    scope.fields = fields_;
    scope.predicates = &predicates_;
    return scope;
  }

  std::shared_ptr<const cep::Condition> Condition(const std::string& file, const YAML::Node& n,
                                                  const std::string& what,
                                                  const CompileScope& scope, std::string* canon) {
    if (!n.IsScalar() || n.IsNull()) {
      Error(PosOf(file, n), what + " must be an expression string");
      return nullptr;
    }
    ExprSource src = SourceOf(file, n);
    ExprCompiler compiler(scope, diags_);
    auto cond = compiler.CompileCondition(src);
    if (cond && canon) {
      *canon += what + "=" + CanonicalText(src.text, scope) + "\n";
    }
    return cond;
  }

  bool LoadRule(const std::string& file, const YAML::Node& node, Rule* rule) {
    static const std::vector<std::string> kRuleKeys = {
        "id",     "title",    "description", "severity", "tags",     "stream",
        "key",    "within",   "where",       "pattern",  "threshold", "reset_on",
        "skip",   "suppress", "output",      "sinks",    "tests",    "max_partial_matches",
        "enabled"};
    size_t errors_before = diags_->size();
    rule->file = file;
    rule->pos = PosOf(file, node);
    MapView m(file, node, "rule", kRuleKeys, diags_);
    if (!m.ok()) return false;

    // Identity and metadata.
    if (!m.has("id")) {
      if (m.missing("id")) Error(rule->pos, "rule has no 'id'");
    } else if (ReadString(file, m.get("id"), "id", &rule->id)) {
      if (rule->id.empty() || !AllOf(rule->id, IsIdChar)) {
        Error(PosOf(file, m.get("id")),
              "id '" + rule->id + "' must use only a-z, 0-9, '_', '.' and '-'");
      }
      rule->pos = PosOf(file, m.get("id"));
    }
    const std::string who = rule->id.empty() ? "rule" : "rule " + rule->id;
    if (m.has("title")) ReadString(file, m.get("title"), "title", &rule->title);
    if (rule->title.empty()) rule->title = rule->id;
    if (m.has("description")) ReadString(file, m.get("description"), "description", &rule->description);
    if (m.has("severity")) {
      std::string sev;
      if (ReadString(file, m.get("severity"), "severity", &sev) &&
          !ParseSeverity(sev, &rule->severity)) {
        std::string msg = "severity '" + sev + "' must be one of info, low, medium, high, critical";
        std::string hint = SuggestClosest(sev, {"info", "low", "medium", "high", "critical"});
        if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
        Error(PosOf(file, m.get("severity")), msg);
      }
    }
    if (m.has("tags")) ReadStringList(file, m.get("tags"), "tags", &rule->tags);
    if (m.has("stream")) ReadString(file, m.get("stream"), "stream", &rule->stream);
    if (m.has("sinks")) ReadStringList(file, m.get("sinks"), "sinks", &rule->sinks);
    if (m.has("enabled")) {
      ReadBool(file, m.get("enabled"), "enabled", &rule->enabled);
    }

    cep::RuleSpec& spec = rule->spec;
    spec.id = rule->id;
    std::string canon = "stream=" + rule->stream + "\n";

    // Key.
    if (m.has("key")) {
      std::vector<std::string> keys;
      YAML::Node kn = m.get("key");
      if (ReadStringList(file, kn, "key", &keys)) {
        for (const std::string& k : keys) {
          if (!CheckFieldPath(file, kn, k)) continue;
          if (std::find(spec.key_names.begin(), spec.key_names.end(), k) != spec.key_names.end()) {
            Error(PosOf(file, kn), "key field '" + k + "' is listed twice");
            continue;
          }
          spec.key_names.push_back(k);
          spec.key_fields.push_back(fields_->Intern(k));
        }
      }
    }
    for (const std::string& k : spec.key_names) canon += "key=" + k + "\n";

    // Kind.
    bool has_where = m.has("where"), has_pattern = m.has("pattern"),
         has_threshold = m.has("threshold");
    if (has_pattern && has_where) {
      Error(PosOf(file, m.key_node("where")),
            who + ": 'where' and 'pattern' do not go together; put the condition in the steps");
    } else if (has_pattern && has_threshold) {
      Error(PosOf(file, m.key_node("threshold")), who + ": 'pattern' and 'threshold' do not go together");
    } else if (m.missing_all({"where", "pattern", "threshold"})) {
      Error(rule->pos, who + " needs one of 'where', 'pattern' or 'threshold'");
    }

    CompileScope scope = BaseScope();
    std::vector<std::string> step_names;
    if (has_pattern) {
      spec.kind = cep::RuleKind::kPattern;
      LoadPattern(file, m.get("pattern"), who, &step_names, &spec, &canon);
    } else if (has_threshold) {
      spec.kind = cep::RuleKind::kThreshold;
      LoadThreshold(file, m.get("threshold"), &spec.threshold, &canon);
      if (has_where) {
        spec.where = Condition(file, m.get("where"), "where", scope, &canon);
      } else {
        ExprSource all;
        all.text = "true";
        spec.where = ExprCompiler(scope, diags_).CompileCondition(all);
      }
    } else if (has_where) {
      spec.kind = cep::RuleKind::kSingleEvent;
      spec.where = Condition(file, m.get("where"), "where", scope, &canon);
    }

    // Pattern-only options.
    auto pattern_only = [&](const char* key) {
      if (m.has(key) && !has_pattern) {
        Error(PosOf(file, m.key_node(key)), who + ": '" + key + "' applies to pattern rules only");
        return false;
      }
      return m.has(key);
    };
    if (pattern_only("within")) {
      ReadDuration(file, m.get("within"), "within", &spec.within);
      canon += "within=" + std::to_string(spec.within) + "\n";
    }
    if (pattern_only("reset_on")) {
      spec.reset_on = Condition(file, m.get("reset_on"), "reset_on", scope, &canon);
    }
    if (pattern_only("skip")) LoadSkip(file, m.get("skip"), step_names, &spec, &canon);
    if (pattern_only("max_partial_matches")) {
      uint64_t n = 0;
      if (ReadCount(file, m.get("max_partial_matches"), "max_partial_matches", 1, &n)) {
        spec.max_partial_matches = n;
      }
    }
    if (has_pattern && !spec.steps.empty() && spec.steps.back().absent && spec.within <= 0) {
      Error(AbsentKeyPos(file, m.get("pattern")),
            who + ": a pattern that ends with an absent step needs 'within' (the deadline)");
    }
    if (m.has("suppress")) {
      ReadDuration(file, m.get("suppress"), "suppress", &spec.suppress);
      canon += "suppress=" + std::to_string(spec.suppress) + "\n";
    }

    // Output template.
    if (m.has("output")) {
      std::string text;
      YAML::Node on = m.get("output");
      if (ReadString(file, on, "output", &text)) {
        rule->output = CompileTemplate(file, on, step_names, spec.key_names);
      }
    }

    if (m.has("tests")) LoadTests(file, m.get("tests"), &rule->tests);

    rule->semantics_hash = Fnv1a(canon);
    spec.semantics_hash = rule->semantics_hash;
    return diags_->size() == errors_before;
  }

  // Where the last step of a pattern says `absent:` (or the step, if it cannot be found).
  SourcePos AbsentKeyPos(const std::string& file, const YAML::Node& pattern) const {
    const YAML::Node last = pattern[pattern.size() - 1];
    for (auto it = last.begin(); it != last.end(); ++it) {
      if (it->first.Scalar() == "absent") return PosOf(file, it->first);
    }
    return PosOf(file, last);
  }

  void LoadPattern(const std::string& file, const YAML::Node& n, const std::string& who,
                   std::vector<std::string>* names, cep::RuleSpec* spec, std::string* canon) {
    if (!n.IsSequence() || n.size() == 0) {
      Error(PosOf(file, n), who + ": 'pattern' must be a non-empty list of steps");
      return;
    }
    // Names first, so conditions can refer to any earlier step by name.
    for (const YAML::Node& s : n) {
      std::string name;
      if (s.IsMap() && s["step"] && s["step"].IsScalar()) name = s["step"].Scalar();
      names->push_back(name);
    }
    static const std::vector<std::string> kStepKeys = {
        "step",  "where",  "contiguity",  "count", "optional", "greedy",
        "consecutive", "combinations", "until", "absent"};
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& s = n[i];
      MapView m(file, s, "pattern step", kStepKeys, diags_);
      if (!m.ok()) continue;
      cep::StepSpec step;
      if (!m.has("step")) {
        if (m.missing("step")) Error(PosOf(file, s), "step has no name ('step: <name>')");
      } else if (ReadString(file, m.get("step"), "step", &step.name)) {
        if (step.name.empty() || !AllOf(step.name, IsStepNameChar)) {
          Error(PosOf(file, m.get("step")),
                "step name '" + step.name + "' must use only letters, digits, '_' and '-'");
        }
        for (size_t j = 0; j < i; ++j) {
          if ((*names)[j] == step.name) {
            Error(PosOf(file, m.get("step")), "step name '" + step.name + "' is used twice");
          }
        }
      }
      const std::string where_what = "step " + step.name;
      CompileScope scope = BaseScope();
      scope.steps = names;
      scope.visible_through = static_cast<int>(i);
      if (!m.has("where")) {
        if (m.missing("where")) Error(PosOf(file, s), where_what + " has no 'where'");
      } else {
        step.where = Condition(file, m.get("where"), where_what + ".where", scope, canon);
      }
      bool contiguity_given = false;
      if (m.has("contiguity")) {
        std::string c;
        if (ReadString(file, m.get("contiguity"), "contiguity", &c)) {
          contiguity_given = true;
          if (c == "strict") step.contiguity = cep::Contiguity::kStrict;
          else if (c == "relaxed") step.contiguity = cep::Contiguity::kRelaxed;
          else if (c == "any") step.contiguity = cep::Contiguity::kAny;
          else {
            contiguity_given = false;
            std::string msg = "contiguity '" + c + "' must be strict, relaxed or any";
            std::string hint = SuggestClosest(c, {"strict", "relaxed", "any"});
            if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
            Error(PosOf(file, m.get("contiguity")), msg);
          }
        }
      }
      if (m.has("count")) LoadCount(file, m.get("count"), &step);
      auto flag = [&](const char* key, bool* out) {
        if (m.has(key)) ReadBool(file, m.get(key), key, out);
      };
      flag("optional", &step.optional);
      flag("greedy", &step.greedy);
      flag("consecutive", &step.consecutive);
      flag("combinations", &step.combinations);
      flag("absent", &step.absent);
      if (m.has("until")) {
        step.until = Condition(file, m.get("until"), where_what + ".until", scope, canon);
      }
      // Option combinations FlinkCEP rejects, rejected here with a position.
      auto bad = [&](const char* key, const std::string& why) {
        Error(PosOf(file, m.key_node(key)), "step " + step.name + ": " + why);
      };
      if (i == 0 && contiguity_given) {
        bad("contiguity", "the first step has no step before it; 'contiguity' says how a step "
                          "follows the one before, so it belongs on later steps");
      }
      bool looping = step.max_count > 1;
      if (!looping) {
        if (step.greedy) bad("greedy", "'greedy' applies to looping steps (count above 1)");
        if (step.consecutive) bad("consecutive", "'consecutive' applies to looping steps (count above 1)");
        if (step.combinations) bad("combinations", "'combinations' applies to looping steps (count above 1)");
        if (m.has("until")) bad("until", "'until' applies to looping steps (count above 1)");
      }
      if (step.consecutive && step.combinations) {
        bad("combinations", "'consecutive' and 'combinations' exclude each other");
      }
      if (step.absent) {
        for (const char* key : {"count", "optional", "greedy", "consecutive", "combinations", "until"}) {
          if (m.has(key)) bad(key, std::string("an absent step cannot take '") + key + "'");
        }
        if (i == 0) bad("absent", "a pattern cannot start with an absent step");
        if (i > 0 && spec->steps.size() == i && spec->steps.back().absent) {
          bad("absent", "two absent steps in a row are not supported; combine their conditions with 'or'");
        }
        if (i > 0 && spec->steps.size() == i && spec->steps.back().optional) {
          bad("absent", "an absent step cannot follow an optional step");
        }
      }
      if (step.min_count == 0) {
        step.optional = true;
        step.min_count = 1;
      }
      *canon += "step=" + step.name + ";" + std::to_string(static_cast<int>(step.contiguity)) +
                ";" + std::to_string(step.min_count) + "-" + std::to_string(step.max_count) + ";" +
                (step.optional ? "o" : "") + (step.greedy ? "g" : "") +
                (step.consecutive ? "c" : "") + (step.combinations ? "x" : "") +
                (step.absent ? "a" : "") + "\n";
      spec->steps.push_back(std::move(step));
    }
    bool all_absent = !spec->steps.empty();
    for (const auto& st : spec->steps) all_absent &= st.absent;
    if (all_absent) Error(PosOf(file, n), who + ": a pattern needs at least one step that is not absent");
  }

  void LoadCount(const std::string& file, const YAML::Node& n, cep::StepSpec* step) {
    if (n.IsScalar()) {
      uint64_t c = 0;
      if (ReadCount(file, n, "count", 1, &c)) {
        step->min_count = step->max_count = static_cast<uint32_t>(std::min<uint64_t>(c, 1u << 20));
      }
      return;
    }
    MapView m(file, n, "count", {"min", "max"}, diags_);
    if (!m.ok()) return;
    uint64_t min = 1, max = cep::StepSpec::kUnbounded;
    if (!m.has("min")) {
      if (m.missing("min")) {
        Error(PosOf(file, n), "count needs 'min' (and optionally 'max'), e.g. {min: 5}");
      }
      return;
    }
    ReadCount(file, m.get("min"), "count.min", 0, &min);
    if (m.has("max")) {
      if (ReadCount(file, m.get("max"), "count.max", 1, &max) && max < min) {
        Error(PosOf(file, m.get("max")), "count.max must not be below count.min");
      }
    }
    step->min_count = static_cast<uint32_t>(std::min<uint64_t>(min, 1u << 20));
    step->max_count = max == cep::StepSpec::kUnbounded
                          ? cep::StepSpec::kUnbounded
                          : static_cast<uint32_t>(std::min<uint64_t>(max, 1u << 20));
  }

  void LoadSkip(const std::string& file, const YAML::Node& n, const std::vector<std::string>& steps,
                cep::RuleSpec* spec, std::string* canon) {
    std::string kind, step;
    SourcePos step_pos = PosOf(file, n);  // where the step's name is written
    if (n.IsMap() && n.size() == 1) {
      kind = n.begin()->first.Scalar();
      step = n.begin()->second.Scalar();
      step_pos = PosOf(file, n.begin()->second);
    } else if (n.IsScalar()) {
      kind = n.Scalar();
      size_t colon = kind.find(':');
      if (colon != std::string::npos) {
        size_t name = kind.find_first_not_of(' ', colon + 1);
        if (name != std::string::npos) {
          step = kind.substr(name);
          step_pos = SourceOf(file, n).At(name);
        }
        kind = kind.substr(0, colon);
      }
    } else {
      Error(PosOf(file, n), "skip must be no_skip, to_next, past_last_event, to_first:<step> or to_last:<step>");
      return;
    }
    static const std::vector<std::string> kKinds = {"no_skip", "to_next", "past_last_event",
                                                    "to_first", "to_last"};
    if (kind == "no_skip") spec->skip = cep::SkipStrategy::kNoSkip;
    else if (kind == "to_next") spec->skip = cep::SkipStrategy::kToNext;
    else if (kind == "past_last_event") spec->skip = cep::SkipStrategy::kPastLastEvent;
    else if (kind == "to_first") spec->skip = cep::SkipStrategy::kToFirst;
    else if (kind == "to_last") spec->skip = cep::SkipStrategy::kToLast;
    else {
      std::string msg = "skip '" + kind + "' must be no_skip, to_next, past_last_event, to_first:<step> or to_last:<step>";
      std::string hint = SuggestClosest(kind, kKinds);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      Error(PosOf(file, n), msg);
      return;
    }
    bool needs_step = spec->skip == cep::SkipStrategy::kToFirst || spec->skip == cep::SkipStrategy::kToLast;
    if (needs_step) {
      if (step.empty()) {
        Error(PosOf(file, n), "skip " + kind + " needs a step: " + kind + ":<step>");
        return;
      }
      if (std::find(steps.begin(), steps.end(), step) == steps.end()) {
        std::string msg = "skip " + kind + ": no step named '" + step + "'";
        std::string hint = SuggestClosest(step, steps);
        if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
        Error(step_pos, msg);
        return;
      }
      spec->skip_step = step;
    } else if (!step.empty()) {
      Error(step_pos, "skip " + kind + " takes no step");
    }
    *canon += "skip=" + kind + ":" + step + "\n";
  }

  void LoadThreshold(const std::string& file, const YAML::Node& n, cep::ThresholdSpec* t,
                     std::string* canon) {
    MapView m(file, n, "threshold", {"count", "distinct", "sum", "value", "window"}, diags_);
    if (!m.ok()) return;
    if (!m.has("window")) {
      if (m.missing("window")) {
        Error(PosOf(file, n), "threshold needs 'window', e.g. {count: 10, window: 1m}");
      }
    } else {
      ReadDuration(file, m.get("window"), "threshold.window", &t->window);
    }
    if (m.has("sum")) {
      std::string field;
      t->aggregate = cep::ThresholdSpec::Aggregate::kSum;
      if (ReadString(file, m.get("sum"), "threshold.sum", &field) &&
          CheckFieldPath(file, m.get("sum"), field)) {
        t->field = fields_->Intern(field);
      }
      if (m.has("count") || m.has("distinct")) {
        Error(PosOf(file, n), "threshold with 'sum' takes 'value', not 'count' or 'distinct'");
      }
      if (!m.has("value")) {
        Error(PosOf(file, n), "threshold with 'sum' needs 'value' (the bound the sum must reach)");
      } else {
        ReadNumber(file, m.get("value"), "threshold.value", &t->bound);
      }
      *canon += "threshold=sum:" + field;
    } else {
      uint64_t count = 0;
      if (m.has("value")) Error(PosOf(file, m.key_node("value")), "'value' goes with 'sum'; use 'count'");
      if (!m.has("count")) {
        if (m.missing_all({"count", "sum"})) {
          Error(PosOf(file, n), "threshold needs 'count' (or 'sum' and 'value')");
        }
      } else if (ReadCount(file, m.get("count"), "threshold.count", 1, &count)) {
        t->bound = static_cast<double>(count);
      }
      std::string field;
      if (m.has("distinct")) {
        t->aggregate = cep::ThresholdSpec::Aggregate::kDistinct;
        if (ReadString(file, m.get("distinct"), "threshold.distinct", &field) &&
            CheckFieldPath(file, m.get("distinct"), field)) {
          t->field = fields_->Intern(field);
        }
      }
      *canon += "threshold=" + std::string(m.has("distinct") ? "distinct:" + field : "count");
    }
    *canon += ";" + std::to_string(t->bound) + ";" + std::to_string(t->window) + "\n";
  }

  std::shared_ptr<const Template> CompileTemplate(const std::string& file, const YAML::Node& n,
                                                  const std::vector<std::string>& steps,
                                                  const std::vector<std::string>& keys) {
    ExprSource src = SourceOf(file, n);
    const std::string& text = src.text;
    CompileScope scope = BaseScope();
    scope.steps = &steps;
    scope.visible_through = static_cast<int>(steps.size());
    scope.key_names = &keys;
    std::vector<Template::Part> parts;
    std::string literal;
    size_t pos = 0;
    bool ok = true;
    while (pos < text.size()) {
      size_t open = text.find("{{", pos);
      if (open == std::string::npos) {
        literal += text.substr(pos);
        break;
      }
      literal += text.substr(pos, open - pos);
      size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) {
        Error(src.At(open), "'{{' without a closing '}}' in output");
        return nullptr;
      }
      ExprSource inner;
      inner.start = src.At(open + 2);
      inner.text = text.substr(open + 2, close - open - 2);
      if (inner.start.line > 0) {
        for (size_t k = open + 2; k < close; ++k) {
          SourcePos at = src.At(k);
          inner.byte_positions.emplace_back(at.line, at.column);
        }
      }
      ExprCompiler compiler(scope, diags_);
      bool uses_steps = false;
      ExprPtr e = compiler.CompileValue(inner, &uses_steps);
      if (!e) ok = false;
      parts.push_back(Template::Part{std::move(literal), std::move(e)});
      literal.clear();
      pos = close + 2;
    }
    if (!ok) return nullptr;
    parts.push_back(Template::Part{std::move(literal), nullptr});
    return std::make_shared<Template>(std::move(parts), steps);
  }

  // `n` as JSON for a test, out of the file's budget for test data (reported once).
  bool TestJson(const std::string& file, const YAML::Node& n, const char* what, std::string* out) {
    std::string why;
    if (AppendNodeJson(n, &test_json_budget_, out, &why)) return true;
    if (!test_json_reported_) {
      Error(PosOf(file, n), std::string(what) + " " + why);
      test_json_reported_ = why.rfind("is too large", 0) == 0;
    }
    return false;
  }

  void LoadTests(const std::string& file, const YAML::Node& n, std::vector<RuleTest>* tests) {
    if (!n.IsSequence()) {
      Error(PosOf(file, n), "'tests' must be a list of tests");
      return;
    }
    for (const YAML::Node& t : n) {
      MapView m(file, t, "test", {"name", "events", "expect"}, diags_);
      if (!m.ok()) continue;
      RuleTest test;
      test.pos = PosOf(file, t);
      if (m.has("name")) ReadString(file, m.get("name"), "test name", &test.name);
      if (test.name.empty()) test.name = "test " + std::to_string(tests->size() + 1);
      YAML::Node events = m.get("events");
      if (!events.IsDefined() || !events.IsSequence()) {
        Error(test.pos, "test '" + test.name + "' needs 'events', a list of events");
        continue;
      }
      for (const YAML::Node& e : events) {
        if (!e.IsMap()) {
          Error(PosOf(file, e), "test events must be objects");
          continue;
        }
        std::string json;
        if (!TestJson(file, e, "test event", &json)) continue;
        test.events.push_back(std::move(json));
      }
      YAML::Node expect = m.get("expect");
      if (!expect.IsDefined()) {
        Error(test.pos, "test '" + test.name + "' needs 'expect': a number of alerts or a list");
        continue;
      }
      if (expect.IsScalar()) {
        uint64_t c = 0;
        if (ReadCount(file, expect, "expect", 0, &c)) test.expect_count = c;
      } else if (expect.IsSequence()) {
        for (const YAML::Node& a : expect) {
          MapView am(file, a, "expected alert", {"key", "events"}, diags_);
          if (!am.ok()) continue;
          RuleTest::ExpectedAlert ea;
          if (am.has("key")) {
            YAML::Node k = am.get("key");
            if (!k.IsMap()) {
              Error(PosOf(file, k), "expected alert key must map fields to values");
            } else {
              for (auto it = k.begin(); it != k.end(); ++it) {
                std::string v;
                if (!TestJson(file, it->second, "expected key value", &v)) continue;
                ea.key.emplace_back(it->first.Scalar(), v);
              }
            }
          }
          if (am.has("events")) {
            YAML::Node ev = am.get("events");
            if (!ev.IsSequence()) {
              Error(PosOf(file, ev), "expected alert events must be a list of positions");
            } else {
              for (const YAML::Node& p : ev) {
                uint64_t pos = 0;
                if (!ReadCount(file, p, "event position", 1, &pos)) continue;
                if (pos > test.events.size()) {
                  Error(PosOf(file, p), "event position " + std::to_string(pos) +
                                            " is past the test's " +
                                            std::to_string(test.events.size()) + " events");
                  continue;
                }
                ea.events.push_back(pos);
              }
            }
          }
          test.expect_alerts.push_back(std::move(ea));
        }
        test.expect_count = test.expect_alerts.size();
      } else {
        Error(PosOf(file, expect), "'expect' must be a number of alerts or a list of alerts");
      }
      tests->push_back(std::move(test));
    }
  }

  cep::FieldRegistry* fields_;
  Diagnostics* diags_;
  std::vector<FileDoc> docs_;
  MacroTable macros_;
  ListTable lists_;
  PredicateSetBuilder predicates_;
  Ruleset result_;
  // How much JSON the tests of one file may hold: written out, JSON is about as long as
  // the YAML it comes from; only aliases make it grow much beyond (1 MiB at least).
  static size_t TestJsonBudget(const FileDoc& doc) {
    return std::max<size_t>(1 << 20, 8 * doc.text.size());
  }
  size_t test_json_budget_ = 0;
  bool test_json_reported_ = false;
};

}  // namespace

Ruleset LoadRuleset(const std::vector<std::string>& paths, cep::FieldRegistry* fields,
                    Diagnostics* diags) {
  Loader loader(fields, diags);
  for (const std::string& p : paths) loader.AddPath(p);
  return loader.Finish();
}

Ruleset LoadRulesetFromString(const std::string& yaml, const std::string& name,
                              cep::FieldRegistry* fields, Diagnostics* diags) {
  Loader loader(fields, diags);
  loader.AddDocument(name, yaml);
  return loader.Finish();
}

}  // namespace vigil::rules
