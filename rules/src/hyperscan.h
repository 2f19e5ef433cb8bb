// Internal: Hyperscan (or Vectorscan) block-mode databases and per-thread scratch space.
#pragma once

#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vigil/cep/status.h"

namespace vigil::rules {

struct HsPattern {
  std::string expression;  // Hyperscan regex syntax (PCRE subset)
  unsigned flags = 0;      // HS_FLAG_*
  unsigned id = 0;
};

// A compiled block-mode database. Immutable; Scan may run on any thread.
class HsDatabase {
 public:
  ~HsDatabase();
  HsDatabase(const HsDatabase&) = delete;
  HsDatabase& operator=(const HsDatabase&) = delete;

  // Compiles `patterns` into one database. On failure the error is Hyperscan's reason and
  // `*bad_index` the index of the pattern at fault, or kUnattributed when Hyperscan blames
  // none (a resource limit of the patterns together).
  static Result<std::unique_ptr<HsDatabase>> Compile(const std::vector<HsPattern>& patterns,
                                                     size_t* bad_index);
  static constexpr size_t kUnattributed = static_cast<size_t>(-1);

  // Calls on_match(id) for each pattern that matches `data` (with HS_FLAG_SINGLEMATCH, at
  // most once per pattern). Returns false if Hyperscan failed.
  template <typename F>
  bool Scan(std::string_view data, F&& on_match) const {
    return ScanRaw(data, &Trampoline<std::remove_reference_t<F>>, &on_match);
  }
  // True if any pattern matches.
  bool Matches(std::string_view data) const;

 private:
  explicit HsDatabase(hs_database_t* db) : db_(db) {}
  using RawCallback = int (*)(unsigned id, unsigned long long from, unsigned long long to,
                              unsigned flags, void* ctx);
  template <typename F>
  static int Trampoline(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    (*static_cast<F*>(ctx))(id);
    return 0;
  }
  bool ScanRaw(std::string_view data, RawCallback cb, void* ctx) const;
  hs_database_t* db_;
};

// Escapes a literal so Hyperscan matches it byte for byte.
std::string HsEscapeLiteral(std::string_view literal);

}  // namespace vigil::rules
