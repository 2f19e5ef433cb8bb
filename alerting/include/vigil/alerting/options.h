// Declared options: one line per option (name, type, default, required, secret,
// description) that validates a config map, fills a settings struct and produces the
// reference tables of docs/sinks.md, so the three cannot drift apart.
//
// Names with a dot ("tls.ca_file") are options of a nested map (`tls: {ca_file: ...}`).
// A secret option `x` is never written in the file: the config gives `x_env: NAME` (an
// environment variable) or `x_file: PATH` (a file, trailing newline removed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/alerting/config.h"
#include "vigil/cep/status.h"

namespace vigil::alerting {

enum class OptionType {
  kString,
  kBool,
  kInt,
  kDuration,    // "250ms", "30s", "5m"; the value in nanoseconds
  kBytes,       // "512KB", "1GB" (powers of 1024) or a plain number of bytes
  kEnum,        // one of `choices` ("a|b|c")
  kStringList,  // a list of scalars (a single scalar is a list of one)
  kStringMap,   // a map of scalars (headers, client properties)
};

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  std::string default_value;  // as written in the config; empty = no default
  bool required = false;
  bool secret = false;
  std::string choices;  // kEnum
  std::string description;
};

// An option's value once read.
struct OptionValue {
  std::string text;    // kString, kEnum (and the raw text of every scalar)
  bool flag = false;   // kBool
  int64_t number = 0;  // kInt, kDuration (ns), kBytes
  std::vector<std::string> list;
  std::vector<std::pair<std::string, std::string>> map;
};

// Reads secrets. Injected so tests need not touch the process environment.
class SecretSource {
 public:
  virtual ~SecretSource() = default;
  virtual Result<std::string> Env(const std::string& name) const;
  virtual Result<std::string> File(const std::string& path) const;
  static const SecretSource* Default();
};

// The untyped part: parsing and checking a map against the specs.
class OptionSet {
 public:
  const std::vector<OptionSpec>& specs() const { return specs_; }

  // Checks `map` (at config path `path`, e.g. "sinks.soc") and returns the value of
  // every option that is set or has a default, by index into specs(). Keys in `ignore`
  // are left for someone else (the sink's common options). Errors name the key's path:
  // "sinks.soc.url: required".
  Result<std::vector<std::pair<size_t, OptionValue>>> Parse(
      const ConfigValue& map, const std::string& path, const SecretSource& secrets,
      const std::vector<std::string>& ignore = {}) const;

  // The reference table (Markdown) of these options.
  std::string Markdown() const;

 protected:
  void AddSpec(OptionSpec spec) { specs_.push_back(std::move(spec)); }

 private:
  std::vector<OptionSpec> specs_;
};

// Typed: each option has a setter into S.
template <typename S>
class Options : public OptionSet {
 public:
  using Setter = std::function<void(S&, const OptionValue&)>;

  Options& Add(OptionSpec spec, Setter set) {
    AddSpec(std::move(spec));
    setters_.push_back(std::move(set));
    return *this;
  }

  // Fills *out from `map`; see OptionSet::Parse.
  Status Apply(const ConfigValue& map, const std::string& path, const SecretSource& secrets,
               S* out, const std::vector<std::string>& ignore = {}) const {
    auto values = Parse(map, path, secrets, ignore);
    if (!values.ok()) return values.status();
    for (const auto& [index, value] : *values) setters_[index](*out, value);
    return Status::Ok();
  }

 private:
  std::vector<Setter> setters_;
};

// Setters for the usual member types.
inline void AssignOption(std::string& f, const OptionValue& v) { f = v.text; }
inline void AssignOption(bool& f, const OptionValue& v) { f = v.flag; }
inline void AssignOption(int64_t& f, const OptionValue& v) { f = v.number; }
inline void AssignOption(int& f, const OptionValue& v) { f = static_cast<int>(v.number); }
inline void AssignOption(uint64_t& f, const OptionValue& v) { f = static_cast<uint64_t>(v.number); }
inline void AssignOption(std::vector<std::string>& f, const OptionValue& v) { f = v.list; }
inline void AssignOption(std::vector<std::pair<std::string, std::string>>& f,
                         const OptionValue& v) {
  f = v.map;
}

template <typename S, typename T>
std::function<void(S&, const OptionValue&)> Set(T S::*field) {
  return [field](S& s, const OptionValue& v) { AssignOption(s.*field, v); };
}
template <typename S, typename M, typename T>
std::function<void(S&, const OptionValue&)> Set(M S::*member, T M::*field) {
  return [member, field](S& s, const OptionValue& v) { AssignOption((s.*member).*field, v); };
}

// Parses "512KB", "1GB", "1048576". False if it is none of them.
bool ParseBytes(std::string_view text, uint64_t* out);

}  // namespace vigil::alerting
