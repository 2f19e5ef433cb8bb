// A configuration tree independent of YAML: what the appliance's config loader (edge/)
// builds from vigil.yaml and hands to alerting/ for `sinks:` and `delivery:`.
// Scalars are kept as text, the way YAML has them; the option tables (options.h) give
// them their types, so "30s", "1GB" and "true" are read where they are declared.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/cep/status.h"

namespace vigil::alerting {

class ConfigValue {
 public:
  enum class Kind { kNull, kScalar, kList, kMap };
  using Entry = std::pair<std::string, ConfigValue>;

  ConfigValue() = default;
  static ConfigValue Scalar(std::string text);
  static ConfigValue List(std::vector<ConfigValue> items);
  // Keys keep their order (the file's), so messages and docs follow it.
  static ConfigValue Map(std::vector<Entry> entries);

  // Parses JSON text into a tree (numbers and booleans become scalars holding their
  // text). For tests, benchmarks and tools; the daemon reads YAML.
  static Result<ConfigValue> FromJson(std::string_view json);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_map() const { return kind_ == Kind::kMap; }
  // REQUIRES: is_scalar()
  const std::string& scalar() const { return scalar_; }
  // REQUIRES: is_list()
  const std::vector<ConfigValue>& items() const { return items_; }
  // REQUIRES: is_map()
  const std::vector<Entry>& entries() const { return entries_; }
  // The value of `key` in a map, or null if absent (or this is not a map).
  const ConfigValue* Find(std::string_view key) const;

  // Where the value was written ("vigil.yaml:12:5"), if the loader knows; messages add it.
  std::string where;

  // "a map", "a list", ...: for messages.
  const char* KindName() const;

 private:
  Kind kind_ = Kind::kNull;
  std::string scalar_;
  std::vector<ConfigValue> items_;
  std::vector<Entry> entries_;
};

}  // namespace vigil::alerting
