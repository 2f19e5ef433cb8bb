// Declared options (Fluent Bit's config_map): every source, decoder and sink declares its
// options once, in a table of name, type, default, whether required, and a description.
// The same table validates a configuration, fills the component's settings struct and
// renders the reference documentation, so the three cannot drift apart.
//
// The configuration arrives as a ConfigNode tree: edge/ reads it from YAML (with line and
// column for messages); tests build it in code. Errors name the key path
// ("sinks.soc.url: required").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::cep {

// A configuration value: null, a scalar (kept as text), a list or a map (keys in file order).
class ConfigNode {
 public:
  enum class Kind : uint8_t { kNull, kScalar, kList, kMap };

  ConfigNode() = default;
  static ConfigNode Scalar(std::string text, int line = 0, int column = 0);
  static ConfigNode List(int line = 0, int column = 0);
  static ConfigNode Map(int line = 0, int column = 0);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_map() const { return kind_ == Kind::kMap; }
  // REQUIRES: is_scalar()
  const std::string& text() const { return text_; }
  // REQUIRES: is_list()
  const std::vector<ConfigNode>& items() const { return items_; }
  // REQUIRES: is_map()
  const std::vector<std::pair<std::string, ConfigNode>>& fields() const { return fields_; }
  // The value of map key `key`, or null if absent (or not a map).
  const ConfigNode* Find(std::string_view key) const;

  // Builders. REQUIRES: is_list() / is_map().
  ConfigNode& Append(ConfigNode item);
  ConfigNode& Set(std::string key, ConfigNode value);

  // Where the value was written (1-based; 0 when unknown).
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  Kind kind_ = Kind::kNull;
  std::string text_;
  std::vector<ConfigNode> items_;
  std::vector<std::pair<std::string, ConfigNode>> fields_;
  int line_ = 0, column_ = 0;
};

enum class OptionType : uint8_t {
  kString,
  kInt,
  kBool,
  kDuration,    // "250ms", "5s", "1h30m"
  kBytes,       // "256MB", "1GiB", "4096"
  kEnum,        // one of Option::choices
  kStringList,  // a list of strings (a single string is a list of one)
  kSecret,      // never in the file: written as <name>_env (a variable) or <name>_file (a path)
  kNode,        // any sub-tree, handed to the setter as is (nested tables)
  kStringMap,   // a map of scalars (HTTP headers, client properties), in file order
};
const char* OptionTypeName(OptionType t);

// Where to look up environment variables and read secret files; tests inject their own.
struct SecretSource {
  std::function<bool(const std::string& name, std::string* value)> getenv;
  std::function<Status(const std::string& path, std::string* contents)> read_file;
  static const SecretSource& Process();  // the real environment and file system
};

// A checked option value, as the setter receives it.
struct OptionValue {
  OptionType type = OptionType::kString;
  std::string text;               // the scalar as written; kSecret: the secret itself
  int64_t integer = 0;            // kInt
  bool boolean = false;           // kBool
  Duration duration = 0;          // kDuration, in nanoseconds
  uint64_t bytes = 0;             // kBytes
  std::vector<std::string> list;  // kStringList
  std::vector<std::pair<std::string, std::string>> map;  // kStringMap
  const ConfigNode* node = nullptr;  // the node as written (always set; kNode uses it)
};

// One declared option of a component whose settings are a struct S.
template <typename S>
struct Option {
  std::string name;
  OptionType type = OptionType::kString;
  std::string default_value;  // as it would be written in the file; empty: no default
  bool required = false;
  std::string description;
  std::vector<std::string> choices;  // kEnum
  // Stores the checked value in the settings. Returns an error message (without the key
  // path) to reject the value, or "" to accept it. Usually Member(&S::field).
  std::function<std::string(S&, const OptionValue&)> set;
};

// A setter that stores the value in a member: std::string (text), bool, integral types
// (kInt, kDuration in ns, kBytes), std::vector<std::string> (kStringList) or a vector of
// string pairs (kStringMap).
template <typename S, typename M>
std::function<std::string(S&, const OptionValue&)> Member(M S::*member) {
  return [member](S& s, const OptionValue& v) -> std::string {
    if constexpr (std::is_same_v<M, std::string>) {
      s.*member = v.text;
    } else if constexpr (std::is_same_v<M, bool>) {
      s.*member = v.boolean;
    } else if constexpr (std::is_integral_v<M>) {
      switch (v.type) {
        case OptionType::kDuration: s.*member = static_cast<M>(v.duration); break;
        case OptionType::kBytes: s.*member = static_cast<M>(v.bytes); break;
        default: s.*member = static_cast<M>(v.integer); break;
      }
    } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
      s.*member = v.list;
    } else if constexpr (std::is_same_v<M, std::vector<std::pair<std::string, std::string>>>) {
      s.*member = v.map;
    } else {
      static_assert(sizeof(M) == 0, "Member(): unsupported member type; write a setter");
    }
    return {};
  };
}

// Parses `text` as the option type; used by the table code and exposed for reuse.
// Duration and bytes values are returned in nanoseconds and bytes.
bool ParseBoolOption(std::string_view text, bool* out);
bool ParseIntOption(std::string_view text, int64_t* out);
bool ParseBytesOption(std::string_view text, uint64_t* out);

// The closest of `candidates` to `word` if it is a likely typo (edit distance), else "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// What a kBytes value may be written as, in a sentence for reference docs.
extern const char kBytesUnitsMarkdown[];

// "<line>:<column>: " where `node` was written, or "" when it is null or does not know;
// every error of ApplyOptions starts with it.
std::string PositionPrefix(const ConfigNode* node);

// An error in ApplyOptions' form, for checks made after it (a URL's scheme, a template):
// "<line>:<column>: <path>: <message>" (the position of `at`, when it has one).
Status OptionError(const ConfigNode* at, const std::string& path, const std::string& message);

namespace options_internal {
// The part of the table that does not depend on S.
struct Spec {
  std::string name;
  OptionType type;
  std::string default_value;
  bool required;
  std::string description;
  std::vector<std::string> choices;
};
// Checks `map` against `specs` and calls apply(i, value) for each option given or
// defaulted. Collects every error (not only the first) as "path.key: message".
Status Apply(const std::vector<Spec>& specs, const ConfigNode& map, const std::string& path,
             const SecretSource& secrets, const std::vector<std::string>& ignore,
             const std::function<std::string(size_t, const OptionValue&)>& apply);
std::string Markdown(const std::vector<Spec>& specs);
}  // namespace options_internal

template <typename S>
std::vector<options_internal::Spec> OptionSpecs(const std::vector<Option<S>>& table) {
  std::vector<options_internal::Spec> specs;
  specs.reserve(table.size());
  for (const Option<S>& o : table) {
    specs.push_back({o.name, o.type, o.default_value, o.required, o.description, o.choices});
  }
  return specs;
}

// Validates `map` (a map node; a null node counts as empty) against `table` and fills `out`.
// An option name with dots ("tls.ca_file") is an option of a nested map (`tls: {ca_file:
// ..}`). Keys in `ignore` are allowed and left to the caller (options common to a family).
// Unknown keys (with a "did you mean"), missing required options, wrong types, enum values
// outside the choices and secrets written inline are errors; every error is reported,
// one per line, each as "<path>.<key>: <message>", prefixed with "<line>:<column>: " when
// the node knows where it was written.
template <typename S>
Status ApplyOptions(const std::vector<Option<S>>& table, const ConfigNode& map,
                    const std::string& path, S* out,
                    const SecretSource& secrets = SecretSource::Process(),
                    const std::vector<std::string>& ignore = {}) {
  return options_internal::Apply(OptionSpecs(table), map, path, secrets, ignore,
                                 [&](size_t i, const OptionValue& v) -> std::string {
                                   return table[i].set ? table[i].set(*out, v) : std::string();
                                 });
}

// The options of a part of S (a member struct P with a table of its own, such as shared
// HTTP or TLS settings) as options of S that fill s.*part. `prefix` ("tls.") nests them.
template <typename S, typename P>
std::vector<Option<S>> PartOptions(P S::*part, const std::vector<Option<P>>& table,
                                   const std::string& prefix = {}) {
  std::vector<Option<S>> out;
  out.reserve(table.size());
  for (const Option<P>& o : table) {
    Option<S> lifted{prefix + o.name, o.type, o.default_value, o.required, o.description, o.choices, nullptr};
    if (o.set) {
      lifted.set = [part, set = o.set](S& s, const OptionValue& v) { return set(s.*part, v); };
    }
    out.push_back(std::move(lifted));
  }
  return out;
}

// The table as Markdown (option, type, default, description) for the reference docs.
template <typename S>
std::string OptionsMarkdown(const std::vector<Option<S>>& table) {
  return options_internal::Markdown(OptionSpecs(table));
}

}  // namespace vigil::cep
