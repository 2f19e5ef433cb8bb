// The sink registry, the `sinks:` and `delivery:` sections of vigil.yaml, and routing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/alerting/sink.h"
#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

// One sink type: its name, its options (which validate the config and document it) and
// how to make one.
struct SinkType {
  std::string name;
  std::string summary;  // one paragraph for docs/sinks.md: what it sends and how
  std::string options_markdown;  // its option table (cep::OptionsMarkdown), for docs/sinks.md
  std::string example;  // a YAML example for docs/sinks.md
  // Builds a sink from its config map (at config path `path`, e.g. "sinks.soc"); the
  // common options (CommonSinkKeys) are allowed and left alone. Errors name the key path,
  // after the line:column of the key when the node has it.
  std::function<Result<std::unique_ptr<Sink>>(const cep::ConfigNode& config, const std::string& path,
                                              const SinkContext& context,
                                              const cep::SecretSource& secrets)>
      create;
};

// Every sink type, in documentation order.
const std::vector<SinkType>& SinkTypes();
const SinkType* FindSinkType(std::string_view name);

// Options every sink takes besides its own.
struct CommonSinkSettings {
  std::string type;
  bool is_default = false;          // `default: true`: used by rules that name no sinks
  std::string min_severity = "info";
};
const std::vector<cep::Option<CommonSinkSettings>>& CommonSinkOptions();

// `delivery:`.
struct RetryPolicy {
  cep::Duration initial = cep::kSecond;
  cep::Duration max = 5 * cep::kMinute;
  cep::Duration give_up_after = 24 * cep::kHour;
  int breaker_failures = 5;  // consecutive failures that open the circuit
};
struct DeliverySettings {
  RetryPolicy retry;
  uint64_t outbox_max = 1000ull * 1000 * 1000;  // "1GB" (sizes are SI unless written KiB, MiB...)
  int dead_letter_keep = 1000;  // dead letters kept (the newest), per outbox
};
const std::vector<cep::Option<DeliverySettings>>& DeliveryOptions();

struct ConfiguredSink {
  std::string name;
  CommonSinkSettings common;
  std::unique_ptr<Sink> sink;
};

struct AlertingConfig {
  std::vector<ConfiguredSink> sinks;  // in config order
  DeliverySettings delivery;
};

// Reads the sinks (name → sink config map, in config order, as edge's loader keeps them in
// AppConfig::sinks) and `delivery:` (a null node: the defaults), validating every key, and
// creates the sinks (they connect lazily, at their first delivery). Every error found is
// reported, one per line, as "<line>:<column>: <key path>: <message>" (the position when
// the node has one): "sinks.soc.url: required".
Result<AlertingConfig> LoadAlertingConfig(const std::vector<std::pair<std::string, cep::ConfigNode>>& sinks,
                                          const cep::ConfigNode& delivery, const SinkContext& context,
                                          const cep::SecretSource& secrets = cep::SecretSource::Process());
// The same from the `sinks:` map itself (a null node: no sinks).
Result<AlertingConfig> LoadAlertingConfig(const cep::ConfigNode& sinks, const cep::ConfigNode& delivery,
                                          const SinkContext& context,
                                          const cep::SecretSource& secrets = cep::SecretSource::Process());

// A set of sinks by index (at most 64 sinks).
using SinkSet = uint64_t;
inline constexpr size_t kMaxSinks = 64;

// Which sinks an alert goes to: the rule's `sinks:` (or the default sinks when it names
// none), less those whose min_severity is above the alert's.
class Router {
 public:
  struct SinkRoute {
    std::string name;
    bool is_default = false;
    int min_rank = 0;
  };
  explicit Router(std::vector<SinkRoute> sinks);
  static Router FromConfig(const AlertingConfig& config);

  // The sinks a rule names (empty: the default sinks). An unknown name is an error that
  // names it, for the rule loader to report at the rule's position.
  Result<SinkSet> Resolve(const std::vector<std::string>& rule_sinks) const;
  // The sinks of `rule_sinks` that take an alert of `severity`.
  SinkSet Route(SinkSet rule_sinks, std::string_view severity) const;

 private:
  std::vector<SinkRoute> sinks_;
};

// docs/sinks.md's reference part, generated from the option tables.
std::string SinksReferenceMarkdown();

}  // namespace vigil::alerting
