// The sink registry, the `sinks:` and `delivery:` sections of vigil.yaml, and routing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/alerting/config.h"
#include "vigil/alerting/options.h"
#include "vigil/alerting/sink.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

// One sink type: its name, its options (which validate the config and document it) and
// how to make one.
struct SinkType {
  std::string name;
  std::string summary;  // one paragraph for docs/sinks.md: what it sends and how
  const OptionSet* options = nullptr;
  std::string example;  // a YAML example for docs/sinks.md
  // Builds a sink from its config map (at config path `path`, e.g. "sinks.soc").
  std::function<Result<std::unique_ptr<Sink>>(const ConfigValue& config, const std::string& path,
                                              const SinkContext& context,
                                              const SecretSource& secrets)>
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
const Options<CommonSinkSettings>& CommonSinkOptions();

// `delivery:`.
struct RetryPolicy {
  cep::Duration initial = cep::kSecond;
  cep::Duration max = 5 * cep::kMinute;
  cep::Duration give_up_after = 24 * cep::kHour;
  int breaker_failures = 5;  // consecutive failures that open the circuit
};
struct DeliverySettings {
  RetryPolicy retry;
  uint64_t outbox_max = 1ull << 30;
  int dead_letter_keep = 1000;  // dead letters kept (the newest), per outbox
};
const Options<DeliverySettings>& DeliveryOptions();

struct ConfiguredSink {
  std::string name;
  CommonSinkSettings common;
  std::unique_ptr<Sink> sink;
};

struct AlertingConfig {
  std::vector<ConfiguredSink> sinks;  // in config order
  DeliverySettings delivery;
};

// Reads `sinks:` (a map of name -> sink config; may be null: no sinks) and `delivery:`
// (may be null: defaults), validating every key; creates the sinks (they connect
// lazily, at their first delivery). Errors name the key's path.
Result<AlertingConfig> LoadAlertingConfig(const ConfigValue* sinks, const ConfigValue* delivery,
                                          const SinkContext& context,
                                          const SecretSource& secrets = *SecretSource::Default());

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
