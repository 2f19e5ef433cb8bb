// Internal: collects the string predicates of a whole ruleset while its rules compile, gives
// each distinct one a bit, and builds the PredicateScanner from those the loaded rules use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/rules/diagnostic.h"
#include "vigil/rules/predicates.h"

namespace vigil::rules {

enum class StringOp { kContains, kStartsWith, kEndsWith };

// One predicate as Hyperscan sees it: a pattern on a field. Two predicates with the same
// field, expression and flags are the same predicate.
struct SharedPredicate {
  cep::FieldId field = 0;
  std::string expression;  // Hyperscan syntax
  unsigned flags = 0;      // HS_FLAG_*

  auto tie() const { return std::tie(field, expression, flags); }
  bool operator<(const SharedPredicate& o) const { return tie() < o.tie(); }
};

// `field contains/startswith/endswith needle`, caseless for the i-forms: the needle
// escaped, startswith anchored at the start of the value, endswith at its very end (\z,
// not $, which also matches before a trailing newline). Caseless needles are folded to
// lower case first so that `icontains "A"` and `icontains "a"` share a bit; both fold ASCII
// only, as the direct evaluation does.
SharedPredicate LiteralPredicate(cep::FieldId field, StringOp op, bool ignore_case,
                                 std::string_view needle);
// `field matches /pattern/flags` with flags from "ims".
SharedPredicate RegexPredicate(cep::FieldId field, const std::string& pattern,
                               const std::string& regex_flags);
// HS_FLAG_* for regex flags "ims" (plus SINGLEMATCH and ALLOWEMPTY: a regex that matches
// the empty string matches every string, as in PCRE).
unsigned RegexFlags(const std::string& regex_flags);

// Thread safety: used by one loader on one thread.
class PredicateSetBuilder {
 public:
  PredicateSetBuilder() = default;
  PredicateSetBuilder(const PredicateSetBuilder&) = delete;
  PredicateSetBuilder& operator=(const PredicateSetBuilder&) = delete;

  // The rule (any number the loader chooses) whose conditions are compiling now; every
  // Add until the next call is recorded as used by it.
  void SetOwner(uint32_t owner) { owner_ = owner; }

  // Whether Hyperscan accepts `p`'s pattern: its reason if not, else empty. Parses and
  // analyses the pattern only (a fraction of a compile); Build compiles. Cached.
  std::string Check(const SharedPredicate& p);

  // The bit of `p`, shared with every identical predicate added before. `where` is the
  // position of its literal or regex and `what` how to name it ("regex /a+/"), for errors
  // that only the full compile in Build finds; `suffix` is added to such a message.
  uint32_t Add(const SharedPredicate& p, const SourcePos& where, std::string what,
               std::string suffix);

  size_t size() const { return predicates_.size(); }

  struct Rejection {
    Diagnostic diag;
    uint32_t owner;  // the rule that used the rejected predicate there: it must not load
  };

  // Compiles one database per field from the predicates that some owner with kept(owner)
  // uses. Predicates Hyperscan rejects are left out and reported in `rejected`, once per
  // place they were written. A field whose patterns compile one by one but not together
  // (Hyperscan's resource limits) gets several databases.
  std::unique_ptr<PredicateScanner> Build(const std::function<bool(uint32_t)>& kept,
                                          std::vector<Rejection>* rejected) const;

 private:
  struct Occurrence {
    uint32_t owner;
    SourcePos where;
    std::string what, suffix;
  };
  struct Entry {
    SharedPredicate predicate;
    uint32_t bit;
    std::vector<Occurrence> occurrences;
  };
  std::vector<Entry> predicates_;                                    // by bit
  std::map<SharedPredicate, uint32_t> by_value_;                     // → bit
  std::map<std::pair<std::string, unsigned>, std::string> checked_;  // → reason
  uint32_t owner_ = 0;
};

}  // namespace vigil::rules
