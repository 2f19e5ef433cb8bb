// The shared string predicates of a ruleset (architecture decision 1): every `contains`,
// `startswith`, `endswith` (and i-form) and `matches` whose subject is a plain field, across
// all rules, compiled into one Hyperscan database per field. Each field is scanned once per
// event; the compiled conditions read the result bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "vigil/cep/event.h"

namespace vigil::rules {

class HsDatabase;

// What Scan did, added to by each call (callers keep one per thread, e.g. for metrics).
struct PredicateScanStats {
  uint64_t events = 0;          // events scanned
  uint64_t fields_scanned = 0;  // string fields handed to Hyperscan
  uint64_t bytes_scanned = 0;
  uint64_t scan_errors = 0;  // Hyperscan failures: the field's predicates stay false
};

// Built by the rule loader; owned by the Ruleset whose conditions read its bits.
//
// Thread safety: immutable once built; Scan may run on several threads at once (each
// thread has its own Hyperscan scratch space).
class PredicateScanner {
 public:
  PredicateScanner();  // no predicates: Scan clears the bits and scans nothing
  ~PredicateScanner();
  PredicateScanner(const PredicateScanner&) = delete;
  PredicateScanner& operator=(const PredicateScanner&) = delete;

  // Sets `event->predicate_bits` to the results of every shared predicate on `event`'s
  // fields. A field that is missing or not a string sets no bits, so its predicates are
  // false (the spec's typing). REQUIRES: the event was decoded against the FieldRegistry
  // the ruleset was loaded with. Must run on every event before any condition of the
  // ruleset is evaluated on it. Allocates nothing once the event's bit vector has room.
  void Scan(cep::Event* event, PredicateScanStats* stats = nullptr) const;

  // Number of distinct predicates (bits) that can be set, and fields with a database.
  size_t predicate_count() const { return predicates_; }
  size_t field_count() const { return fields_.size(); }
  // Hyperscan databases in all: one per field, unless a field's patterns were too large to
  // compile together and had to be split.
  size_t database_count() const;
  // The fields Scan reads, in scan order.
  std::vector<cep::FieldId> fields() const;

 private:
  friend class PredicateSetBuilder;
  struct FieldDatabases {
    cep::FieldId field = 0;
    std::vector<std::unique_ptr<const HsDatabase>> databases;
  };
  std::vector<FieldDatabases> fields_;
  size_t predicates_ = 0;
  size_t words_ = 0;  // uint64_t words of predicate_bits: the highest bit used, rounded up
};

}  // namespace vigil::rules
