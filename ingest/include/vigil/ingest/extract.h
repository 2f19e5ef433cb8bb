// `extract:` entries of a stream: named-capture regexes searched in a decoded field; each
// named group that took part in a match becomes a field ("(?P<source.ip>\S+)").
//
// Regexes are PCRE2 (JIT-compiled): the same dialect as the rules' `matches` (Hyperscan
// implements the PCRE syntax), so a pattern means the same in both places; a backtracking
// engine on attacker-controlled log lines is bounded by match and depth limits (a line that
// hits them counts as no match, and is counted). When a field has several entries, one
// Hyperscan prefilter scan decides which of them can match at all, so each line pays one
// scan plus the PCRE2 runs of the entries that may apply.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/status.h"

namespace vigil::ingest {

struct ExtractSpec {
  std::string field;    // the decoded field searched (e.g. "message")
  std::string pattern;  // PCRE2; group names may contain dots
  // Captures are strings unless typed here: "int", "float" or "bool". A capture that does
  // not convert adds nothing (and is counted).
  std::map<std::string, std::string> types;
};

struct ExtractStats {
  uint64_t events = 0;       // events the extractor looked at
  uint64_t matches = 0;      // entry matches
  uint64_t fields_set = 0;
  uint64_t conversion_failures = 0;
  uint64_t limit_hits = 0;   // PCRE2 match or depth limit reached: treated as no match
};

// Thread safety: one thread at a time (it keeps PCRE2 match data and Hyperscan scratch).
class Extractor {
 public:
  // Compiles `specs`. Interns the searched fields in `fields` (so decoders materialise
  // them); entries none of whose groups some rule reads are skipped entirely (decision 2:
  // parse only what rules read). Call before the decoders are built. Errors name the entry
  // ("extract[1].pattern: ...") and say what is wrong with the regex and where.
  static Result<std::unique_ptr<Extractor>> Create(const std::vector<ExtractSpec>& specs,
                                                   cep::FieldRegistry* fields);
  ~Extractor();
  Extractor(const Extractor&) = delete;
  Extractor& operator=(const Extractor&) = delete;

  // Applies every entry in order; a field already set (decoded, or by an earlier entry)
  // is never overwritten.
  void Apply(cep::Event* event);

  const ExtractStats& stats() const { return stats_; }
  // Entries that will run (after skipping those whose groups nothing reads).
  size_t active_entries() const;

 private:
  struct Impl;
  explicit Extractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ExtractStats stats_;
};

// Rewrites named groups whose names PCRE2 would reject (dots) to g0, g1, ...; returns the
// pattern and, per group index, the original name. Escapes, character classes and
// lookbehinds are left alone. Exposed for tests.
std::string RenameGroups(const std::string& pattern, std::vector<std::string>* names);

}  // namespace vigil::ingest
