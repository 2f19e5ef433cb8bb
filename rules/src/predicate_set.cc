#include "predicate_set.h"

#include "vigil/cep/json_array.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "hyperscan.h"

namespace vigil::rules {

SharedPredicate LiteralPredicate(cep::FieldId field, StringOp op, bool ignore_case,
                                 std::string_view needle) {
  std::string text(needle);
  if (ignore_case) {
    for (char& c : text) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
  }
  SharedPredicate p;
  p.field = field;
  p.expression = HsEscapeLiteral(text);
  if (op == StringOp::kStartsWith) p.expression = "^" + p.expression;  // ^ without m: \A
  if (op == StringOp::kEndsWith) p.expression += "\\z";
  p.flags = HS_FLAG_SINGLEMATCH;
  if (ignore_case) p.flags |= HS_FLAG_CASELESS;
  // contains "" (and the other two) holds for every string, the empty one included.
  if (needle.empty()) p.flags |= HS_FLAG_ALLOWEMPTY;
  return p;
}

unsigned RegexFlags(const std::string& regex_flags) {
  unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
  for (char f : regex_flags) {
    if (f == 'i') flags |= HS_FLAG_CASELESS;
    if (f == 'm') flags |= HS_FLAG_MULTILINE;
    if (f == 's') flags |= HS_FLAG_DOTALL;
  }
  return flags;
}

SharedPredicate RegexPredicate(cep::FieldId field, const std::string& pattern,
                               const std::string& regex_flags) {
  SharedPredicate p;
  p.field = field;
  p.expression = pattern;
  p.flags = RegexFlags(regex_flags);
  return p;
}

std::string PredicateSetBuilder::Check(const SharedPredicate& p) {
  auto key = std::make_pair(p.expression, p.flags);
  auto it = checked_.find(key);
  if (it != checked_.end()) return it->second;
  std::string reason;
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(p.expression.c_str(), p.flags, &info, &err) != HS_SUCCESS) {
    reason = err && err->message ? err->message : "unknown Hyperscan error";
    hs_free_compile_error(err);
  }
  std::free(info);  // allocated by Hyperscan's default allocator (malloc)
  checked_.emplace(std::move(key), reason);
  return reason;
}

uint32_t PredicateSetBuilder::Add(const SharedPredicate& p, const SourcePos& where,
                                  std::string what, std::string suffix) {
  auto [it, inserted] = by_value_.emplace(p, static_cast<uint32_t>(predicates_.size()));
  if (inserted) predicates_.push_back(Entry{p, it->second, {}});
  Entry& e = predicates_[it->second];
  e.occurrences.push_back(Occurrence{owner_, where, std::move(what), std::move(suffix)});
  return it->second;
}

namespace {

// Compiles `group` (indexes into `all`) into as few databases as Hyperscan allows.
// Patterns it rejects go to `bad` with its reason.
void CompileGroup(const std::vector<HsPattern>& all, std::vector<size_t> group,
                  std::vector<std::unique_ptr<const HsDatabase>>* out,
                  std::vector<std::pair<size_t, std::string>>* bad) {
  while (!group.empty()) {
    std::vector<HsPattern> patterns;
    patterns.reserve(group.size());
    for (size_t i : group)
      patterns.push_back(all[i]);
    size_t bad_index = HsDatabase::kUnattributed;
    auto db = HsDatabase::Compile(patterns, &bad_index);
    if (db.ok()) {
      out->push_back(std::move(db).value());
      return;
    }
    if (bad_index < group.size()) {  // one pattern is at fault: drop it and try again
      bad->emplace_back(group[bad_index], db.status().message());
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(bad_index));
      continue;
    }
    if (group.size() == 1) {
      bad->emplace_back(group[0], db.status().message());
      return;
    }
    // Too large together (a resource limit): halve until the parts compile.
    std::vector<size_t> second(group.begin() + static_cast<std::ptrdiff_t>(group.size() / 2),
                               group.end());
    group.resize(group.size() / 2);
    CompileGroup(all, std::move(second), out, bad);
  }
}

}  // namespace

std::unique_ptr<PredicateScanner> PredicateSetBuilder::Build(
    const std::function<bool(uint32_t)>& kept, std::vector<Rejection>* rejected) const {
  auto scanner = std::make_unique<PredicateScanner>();
  // Per field, the predicates some kept rule uses, by bit (so databases are deterministic).
  std::map<cep::FieldId, std::vector<const Entry*>> by_field;
  for (const Entry& e : predicates_) {
    bool used = std::any_of(e.occurrences.begin(), e.occurrences.end(),
                            [&](const Occurrence& o) { return kept(o.owner); });
    if (used) by_field[e.predicate.field].push_back(&e);
  }
  uint32_t max_bit = 0;
  for (const auto& [field, entries] : by_field) {
    std::vector<HsPattern> patterns;
    std::vector<size_t> group;
    for (const Entry* e : entries) {
      group.push_back(patterns.size());
      patterns.push_back(HsPattern{e->predicate.expression, e->predicate.flags, e->bit});
    }
    PredicateScanner::FieldDatabases f;
    f.field = field;
    std::vector<std::pair<size_t, std::string>> bad;
    CompileGroup(patterns, std::move(group), &f.databases, &bad);
    std::set<size_t> bad_set;
    for (const auto& [i, reason] : bad) {
      bad_set.insert(i);
      for (const Occurrence& o : entries[i]->occurrences) {
        if (!kept(o.owner)) continue;
        rejected->push_back(Rejection{
            Diagnostic{o.where, o.what + " does not compile: " + reason + o.suffix}, o.owner});
      }
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (bad_set.count(i)) continue;
      ++scanner->predicates_;
      max_bit = std::max(max_bit, entries[i]->bit);
    }
    if (!f.databases.empty()) scanner->fields_.push_back(std::move(f));
  }
  scanner->words_ = scanner->predicates_ ? max_bit / 64 + 1 : 0;
  return scanner;
}

// ---- PredicateScanner ----

PredicateScanner::PredicateScanner() = default;
PredicateScanner::~PredicateScanner() = default;

size_t PredicateScanner::database_count() const {
  size_t n = 0;
  for (const FieldDatabases& f : fields_)
    n += f.databases.size();
  return n;
}

std::vector<cep::FieldId> PredicateScanner::fields() const {
  std::vector<cep::FieldId> out;
  for (const FieldDatabases& f : fields_)
    out.push_back(f.field);
  return out;
}

void PredicateScanner::Scan(cep::Event* event, PredicateScanStats* stats) const {
  std::vector<uint64_t>& bits = event->predicate_bits;
  bits.assign(words_, 0);
  PredicateScanStats local;
  PredicateScanStats& st = stats ? *stats : local;
  ++st.events;
  auto set_bit = [&bits](unsigned id) { bits[id >> 6] |= uint64_t{1} << (id & 63); };
  for (const FieldDatabases& f : fields_) {
    const cep::Value& v = event->field(f.field);
    if (cep::IsJsonArray(v)) {
      // An array: every string element is scanned on its own (anchors apply per element),
      // so a predicate holds when it holds for any element.
      ++st.fields_scanned;
      cep::AnyArrayElement(v.s, [&](const cep::Value& e) {
        if (e.kind != cep::ValueKind::kString) return false;
        st.bytes_scanned += e.s.size();
        for (const auto& db : f.databases) {
          if (!db->Scan(e.s, set_bit)) ++st.scan_errors;
        }
        return false;
      });
      continue;
    }
    if (v.kind != cep::ValueKind::kString) continue;
    ++st.fields_scanned;
    st.bytes_scanned += v.s.size();
    for (const auto& db : f.databases) {
      if (!db->Scan(v.s, set_bit)) ++st.scan_errors;
    }
  }
}

}  // namespace vigil::rules
