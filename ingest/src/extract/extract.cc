#define PCRE2_CODE_UNIT_WIDTH 8
#include "vigil/ingest/extract.h"

#include <hs/hs.h>
#include <pcre2.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace vigil::ingest {

namespace {

// Bounds on one PCRE2 search: far above what a sane pattern needs on a log line, far below
// what lets a pathological one stall the pipeline.
constexpr uint32_t kMatchLimit = 200000;
constexpr uint32_t kDepthLimit = 10000;

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Both renamings at once: `pcre` gets (?P<gN>...), `plain` gets (...) for Hyperscan.
// `origin` (optional) gets, per character of `pcre`, the offset in `pattern` it came from.
void Rename(const std::string& pattern, std::vector<std::string>* names, std::string* pcre,
            std::string* plain, std::vector<size_t>* origin = nullptr) {
  const size_t n = pattern.size();
  auto track = [&](size_t from) {
    if (origin) origin->resize(pcre->size(), from);
  };
  bool in_class = false;
  for (size_t i = 0; i < n; ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < n) {
      pcre->append(pattern, i, 2);
      track(i);
      if (plain) plain->append(pattern, i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
      pcre->push_back(c);
      track(i);
      if (plain) plain->push_back(c);
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < n && pattern[i + 1] == '^') {
        pcre->push_back('^');
        track(i + 1);
        if (plain) plain->push_back('^');
        ++i;
      }
      if (i + 1 < n && pattern[i + 1] == ']') {
        pcre->push_back(']');
        track(i + 1);
        if (plain) plain->push_back(']');
        ++i;
      }
      continue;
    } else if (c == '(' && i + 2 < n && pattern[i + 1] == '?') {
      size_t name_start = 0;
      char close = '>';
      if (pattern[i + 2] == 'P' && i + 3 < n && pattern[i + 3] == '<') {
        name_start = i + 4;
      } else if (pattern[i + 2] == '<' && i + 3 < n && pattern[i + 3] != '=' && pattern[i + 3] != '!') {
        name_start = i + 3;
      } else if (pattern[i + 2] == '\'') {
        name_start = i + 3;
        close = '\'';
      }
      if (name_start != 0) {
        size_t end = pattern.find(close, name_start);
        if (end != std::string::npos) {
          std::string g = "g" + std::to_string(names->size());
          names->push_back(pattern.substr(name_start, end - name_start));
          *pcre += "(?P<" + g + ">";
          track(i);
          if (plain) plain->push_back('(');
          i = end;
          continue;
        }
      }
    }
    pcre->push_back(c);
    track(i);
    if (plain) plain->push_back(c);
  }
}

enum class CaptureType { kString, kInt, kFloat, kBool };

struct Capture {
  uint32_t group;  // PCRE2 group number
  cep::FieldId field;
  CaptureType type;
};

struct Entry {
  size_t index;  // in the specs, for messages
  cep::FieldId source;
  pcre2_code* code = nullptr;
  bool jit = false;
  std::vector<Capture> captures;
  int prefilter_bit = -1;  // index in its field's Hyperscan database, -1: not prefiltered
};

// One Hyperscan prefilter database per searched field.
struct FieldScan {
  cep::FieldId field;
  hs_database_t* db = nullptr;
  std::vector<size_t> entries;  // entry indexes, by Hyperscan id
};

int OnPrefilterMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* hits = static_cast<std::vector<uint8_t>*>(ctx);
  (*hits)[id] = 1;
  return 0;
}

bool Convert(std::string_view text, CaptureType type, cep::Value* out) {
  std::string s(text);
  char* end = nullptr;
  switch (type) {
    case CaptureType::kString: *out = cep::Value::String(text); return true;
    case CaptureType::kInt: {
      errno = 0;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || errno != 0 || end != s.c_str() + s.size()) return false;
      *out = cep::Value::Int(v);
      return true;
    }
    case CaptureType::kFloat: {
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return false;
      *out = cep::Value::Double(v);
      return true;
    }
    case CaptureType::kBool:
      if (s == "true") *out = cep::Value::Bool(true);
      else if (s == "false") *out = cep::Value::Bool(false);
      else return false;
      return true;
  }
  return false;
}

}  // namespace

std::string RenameGroups(const std::string& pattern, std::vector<std::string>* names) {
  std::string out;
  Rename(pattern, names, &out, nullptr);
  return out;
}

struct Extractor::Impl {
  std::vector<Entry> entries;
  std::vector<FieldScan> scans;
  hs_scratch_t* scratch = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  pcre2_match_data* md = nullptr;
  std::vector<std::vector<uint8_t>> hits;  // per scan, per Hyperscan id
  std::vector<int8_t> candidate;           // per entry: 1 may match, 0 cannot, -1 unknown

  ~Impl() {
    for (Entry& e : entries) pcre2_code_free(e.code);
    for (FieldScan& s : scans) hs_free_database(s.db);
    hs_free_scratch(scratch);
    pcre2_match_data_free(md);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(mctx);
  }
};

Extractor::Extractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Extractor::~Extractor() = default;

size_t Extractor::active_entries() const { return impl_->entries.size(); }

Result<std::unique_ptr<Extractor>> Extractor::Create(const std::vector<ExtractSpec>& specs,
                                                     cep::FieldRegistry* fields) {
  auto impl = std::make_unique<Impl>();
  std::vector<std::string> errors;
  std::vector<std::string> plains;  // Hyperscan copies, per entry
  uint32_t max_groups = 1;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ExtractSpec& spec = specs[i];
    const std::string where = "extract[" + std::to_string(i) + "]";
    if (spec.field.empty()) {
      errors.push_back(where + ".field: required");
      continue;
    }
    std::vector<std::string> names;
    std::string pcre, plain;
    std::vector<size_t> origin;
    Rename(spec.pattern, &names, &pcre, &plain, &origin);
    if (names.empty()) {
      errors.push_back(where + ".pattern: has no named group (?P<field>...), so it extracts nothing");
      continue;
    }
    for (const auto& [name, type] : spec.types) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        errors.push_back(where + ".types." + name + ": no group of that name in the pattern");
      } else if (type != "int" && type != "float" && type != "bool" && type != "string") {
        errors.push_back(where + ".types." + name + ": must be int, float or bool, not '" + type + "'");
      }
    }
    int code_err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre.data()), pcre.size(), 0,
                                     &code_err, &offset, nullptr);
    if (code == nullptr) {
      size_t at = offset < origin.size() ? origin[offset] : spec.pattern.size();
      errors.push_back(where + ".pattern: " + Pcre2Message(code_err) + " (at offset " +
                       std::to_string(at) + ")");
      continue;
    }
    Entry e;
    e.index = i;
    e.code = code;
    e.jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    for (size_t g = 0; g < names.size(); ++g) {
      auto field = fields->Find(names[g]);
      if (!field) continue;  // nothing reads it
      std::string gname = "g" + std::to_string(g);
      int number = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>(gname.c_str()));
      if (number <= 0) continue;
      CaptureType type = CaptureType::kString;
      auto t = spec.types.find(names[g]);
      if (t != spec.types.end()) {
        type = t->second == "int" ? CaptureType::kInt
               : t->second == "float" ? CaptureType::kFloat
               : t->second == "bool" ? CaptureType::kBool : CaptureType::kString;
      }
      e.captures.push_back(Capture{static_cast<uint32_t>(number), *field, type});
    }
    uint32_t groups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    max_groups = std::max(max_groups, groups + 1);
    if (e.captures.empty()) {
      pcre2_code_free(code);  // nothing any rule reads
      continue;
    }
    e.source = fields->Intern(spec.field);
    impl->entries.push_back(std::move(e));
    plains.push_back(std::move(plain));
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Status::InvalidArgument(all);
  }

  // One prefilter database per searched field; a pattern Hyperscan cannot take even as a
  // prefilter always runs PCRE2.
  for (size_t i = 0; i < impl->entries.size(); ++i) {
    Entry& e = impl->entries[i];
    FieldScan* scan = nullptr;
    for (FieldScan& s : impl->scans) {
      if (s.field == e.source) scan = &s;
    }
    if (scan == nullptr) {
      impl->scans.push_back(FieldScan{e.source, nullptr, {}});
      scan = &impl->scans.back();
    }
    hs_database_t* probe = nullptr;
    hs_compile_error_t* cerr = nullptr;
    if (hs_compile(plains[i].c_str(), HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY,
                   HS_MODE_BLOCK, nullptr, &probe, &cerr) == HS_SUCCESS) {
      hs_free_database(probe);
      e.prefilter_bit = static_cast<int>(scan->entries.size());
      scan->entries.push_back(i);
    } else {
      hs_free_compile_error(cerr);
    }
  }
  for (FieldScan& s : impl->scans) {
    if (s.entries.empty()) continue;
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (size_t k = 0; k < s.entries.size(); ++k) {
      exprs.push_back(plains[s.entries[k]].c_str());
      flags.push_back(HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY);
      ids.push_back(static_cast<unsigned>(k));
    }
    hs_compile_error_t* cerr = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                         HS_MODE_BLOCK, nullptr, &s.db, &cerr) != HS_SUCCESS) {
      hs_free_compile_error(cerr);
      s.db = nullptr;
      for (size_t idx : s.entries) impl->entries[idx].prefilter_bit = -1;
      s.entries.clear();
      continue;
    }
    if (hs_alloc_scratch(s.db, &impl->scratch) != HS_SUCCESS) {
      return Status::Unavailable("extract: cannot allocate Hyperscan scratch space");
    }
  }
  impl->hits.resize(impl->scans.size());
  for (size_t k = 0; k < impl->scans.size(); ++k) impl->hits[k].resize(impl->scans[k].entries.size());
  impl->candidate.resize(impl->entries.size());
  impl->mctx = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(impl->mctx, kMatchLimit);
  pcre2_set_depth_limit(impl->mctx, kDepthLimit);
  impl->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
  pcre2_jit_stack_assign(impl->mctx, nullptr, impl->jit_stack);
  impl->md = pcre2_match_data_create(max_groups, nullptr);
  return std::unique_ptr<Extractor>(new Extractor(std::move(impl)));
}

void Extractor::Apply(cep::Event* event) {
  Impl& m = *impl_;
  if (m.entries.empty()) return;
  ++stats_.events;
  std::fill(m.candidate.begin(), m.candidate.end(), static_cast<int8_t>(-1));
  for (size_t k = 0; k < m.scans.size(); ++k) {
    FieldScan& s = m.scans[k];
    if (s.db == nullptr) continue;
    const cep::Value& v = event->field(s.field);
    std::vector<uint8_t>& hits = m.hits[k];
    std::fill(hits.begin(), hits.end(), 0);
    if (v.kind == cep::ValueKind::kString) {
      const char* data = v.s.data() ? v.s.data() : "";
      hs_scan(s.db, data, static_cast<unsigned>(v.s.size()), 0, m.scratch, OnPrefilterMatch, &hits);
    }
    for (size_t id = 0; id < s.entries.size(); ++id) m.candidate[s.entries[id]] = hits[id];
  }
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    if (m.candidate[i] == 0) continue;  // the prefilter proved it cannot match
    const cep::Value& v = event->field(e.source);
    if (v.kind != cep::ValueKind::kString) continue;
    auto subject = reinterpret_cast<PCRE2_SPTR>(v.s.data() ? v.s.data() : "");
    int rc = e.jit ? pcre2_jit_match(e.code, subject, v.s.size(), 0, 0, m.md, m.mctx)
                   : pcre2_match(e.code, subject, v.s.size(), 0, 0, m.md, m.mctx);
    if (rc < 0) {
      if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
          rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        ++stats_.limit_hits;
      }
      continue;
    }
    ++stats_.matches;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.md);
    const uint32_t pairs = pcre2_get_ovector_count(m.md);
    for (const Capture& c : e.captures) {
      if (c.group >= pairs || ov[2 * c.group] == PCRE2_UNSET) continue;  // took no part
      if (c.field >= event->field_count()) continue;  // registered after the decoder was built
      if (!event->field(c.field).is_null()) continue;  // never overwrites
      // The capture points into the searched value, which the event owns.
      std::string_view text = v.s.substr(ov[2 * c.group], ov[2 * c.group + 1] - ov[2 * c.group]);
      cep::Value out;
      if (!Convert(text, c.type, &out)) {
        ++stats_.conversion_failures;
        continue;
      }
      event->SetField(c.field, out);
      ++stats_.fields_set;
    }
  }
}

}  // namespace vigil::ingest
