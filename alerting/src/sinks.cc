// The registry of sink types, the sinks:/delivery: sections, routing and the generated docs.
#include "vigil/alerting/sinks.h"

#include <algorithm>

#include "sink_types.h"

namespace vigil::alerting {

const std::vector<SinkType>& SinkTypes() {
  static const std::vector<SinkType> types = {
      WebhookSinkType(), SplunkHecSinkType(), PagerDutySinkType(), SlackSinkType(),
      SyslogSinkType(),  LambdaSinkType(),    KafkaSinkType(),     MqttSinkType(),
      StdoutSinkType(),  FileSinkType(),
  };
  return types;
}

const SinkType* FindSinkType(std::string_view name) {
  for (const SinkType& t : SinkTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const std::vector<std::string>& CommonSinkKeys() {
  static const std::vector<std::string> keys = {"type", "default", "min_severity"};
  return keys;
}

const cep::Clock* ClockOf(const SinkContext& context) {
  return context.clock ? context.clock : cep::SystemClock::Default();
}

Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& path) {
  for (const auto& [k, v] : headers) {
    bool token = !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
      return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token) return Status::InvalidArgument(path + "." + k + ": not a valid HTTP header name");
    if (v.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument(path + "." + k + ": a header value cannot hold a line break");
    }
  }
  return Status::Ok();
}

const Options<CommonSinkSettings>& CommonSinkOptions() {
  static const Options<CommonSinkSettings> table = [] {
    Options<CommonSinkSettings> o;
    o.Add({"type", OptionType::kString, "", true, false, "",
           "The sink type: webhook, splunk_hec, pagerduty, slack, syslog, lambda, kafka, mqtt, "
           "stdout or file."},
          Set(&CommonSinkSettings::type));
    o.Add({"default", OptionType::kBool, "false", false, false, "",
           "Send the alerts of rules that name no sinks here."},
          Set(&CommonSinkSettings::is_default));
    o.Add({"min_severity", OptionType::kEnum, "info", false, false, "info|low|medium|high|critical",
           "Only alerts of this severity or above."},
          Set(&CommonSinkSettings::min_severity));
    return o;
  }();
  return table;
}

const Options<DeliverySettings>& DeliveryOptions() {
  static const Options<DeliverySettings> table = [] {
    Options<DeliverySettings> o;
    o.Add({"retry.initial", OptionType::kDuration, "1s", false, false, "",
           "First retry delay; it doubles per failure (with jitter: half fixed, half random)."},
          [](DeliverySettings& s, const OptionValue& v) { s.retry.initial = v.number; });
    o.Add({"retry.max", OptionType::kDuration, "5m", false, false, "", "Longest retry delay."},
          [](DeliverySettings& s, const OptionValue& v) { s.retry.max = v.number; });
    o.Add({"retry.give_up_after", OptionType::kDuration, "24h", false, false, "",
           "An alert still undelivered this long after it was raised, while its sink keeps "
           "failing, becomes a dead letter."},
          [](DeliverySettings& s, const OptionValue& v) { s.retry.give_up_after = v.number; });
    o.Add({"retry.breaker_failures", OptionType::kInt, "5", false, false, "",
           "Consecutive failures that open a sink's circuit (reported in status and logs)."},
          [](DeliverySettings& s, const OptionValue& v) {
            s.retry.breaker_failures = static_cast<int>(v.number);
          });
    o.Add({"outbox_max", OptionType::kBytes, "1GB", false, false, "",
           "Bytes of undelivered alerts kept. When full, new alerts are not kept for sinks "
           "that are behind (counted as overflow); the oldest are kept."},
          Set(&DeliverySettings::outbox_max));
    o.Add({"dead_letter_keep", OptionType::kInt, "1000", false, false, "",
           "Dead letters kept (the newest) for inspection."},
          Set(&DeliverySettings::dead_letter_keep));
    return o;
  }();
  return table;
}

Result<AlertingConfig> LoadAlertingConfig(const ConfigValue* sinks, const ConfigValue* delivery,
                                          const SinkContext& context,
                                          const SecretSource& secrets) {
  AlertingConfig config;
  if (delivery && !delivery->is_null()) {
    Status s = DeliveryOptions().Apply(*delivery, "delivery", secrets, &config.delivery);
    if (!s.ok()) return s;
    const RetryPolicy& r = config.delivery.retry;
    if (r.initial <= 0 || r.max < r.initial) {
      return Status::InvalidArgument("delivery.retry: initial must be > 0 and max >= initial");
    }
  }
  if (!sinks || sinks->is_null()) return config;
  if (!sinks->is_map()) {
    return Status::InvalidArgument(std::string("sinks: expected a map of sink names, got ") +
                                   sinks->KindName());
  }
  if (sinks->entries().size() > kMaxSinks) {
    return Status::InvalidArgument("sinks: at most " + std::to_string(kMaxSinks) + " sinks");
  }
  for (const auto& [name, value] : sinks->entries()) {
    std::string path = "sinks." + name;
    if (!value.is_map()) {
      return Status::InvalidArgument(path + ": expected a map, got " + value.KindName());
    }
    const ConfigValue* type = value.Find("type");
    if (!type || !type->is_scalar()) return Status::InvalidArgument(path + ".type: required");
    const SinkType* t = FindSinkType(type->scalar());
    if (!t) {
      std::string names;
      for (const SinkType& st : SinkTypes()) names += (names.empty() ? "" : ", ") + st.name;
      return Status::InvalidArgument(path + ".type: unknown sink type '" + type->scalar() +
                                     "' (one of " + names + ")");
    }
    ConfiguredSink cs;
    cs.name = name;
    // The common options, then the type's own (which ignore the common keys).
    std::vector<ConfigValue::Entry> common;
    for (const auto& e : value.entries()) {
      for (const std::string& k : CommonSinkKeys()) {
        if (e.first == k) common.push_back(e);
      }
    }
    Status s = CommonSinkOptions().Apply(ConfigValue::Map(common), path, secrets, &cs.common);
    if (!s.ok()) return s;
    SinkContext ctx = context;
    ctx.sink_name = name;
    auto sink = t->create(value, path, ctx, secrets);
    if (!sink.ok()) return sink.status();
    cs.sink = std::move(sink).value();
    config.sinks.push_back(std::move(cs));
  }
  return config;
}

Router::Router(std::vector<SinkRoute> sinks) : sinks_(std::move(sinks)) {}

Router Router::FromConfig(const AlertingConfig& config) {
  std::vector<SinkRoute> routes;
  for (const ConfiguredSink& s : config.sinks) {
    routes.push_back({s.name, s.common.is_default, SeverityRank(s.common.min_severity)});
  }
  return Router(std::move(routes));
}

Result<SinkSet> Router::Resolve(const std::vector<std::string>& rule_sinks) const {
  SinkSet set = 0;
  if (rule_sinks.empty()) {
    for (size_t i = 0; i < sinks_.size(); ++i) {
      if (sinks_[i].is_default) set |= SinkSet{1} << i;
    }
    return set;
  }
  for (const std::string& name : rule_sinks) {
    size_t i = 0;
    while (i < sinks_.size() && sinks_[i].name != name) ++i;
    if (i == sinks_.size()) {
      std::string names;
      for (const SinkRoute& r : sinks_) names += (names.empty() ? "" : ", ") + r.name;
      return Status::InvalidArgument("unknown sink '" + name + "'" +
                                     (names.empty() ? " (no sinks are configured)"
                                                    : " (configured: " + names + ")"));
    }
    set |= SinkSet{1} << i;
  }
  return set;
}

SinkSet Router::Route(SinkSet rule_sinks, std::string_view severity) const {
  int rank = SeverityRank(severity);
  SinkSet out = 0;
  for (size_t i = 0; i < sinks_.size(); ++i) {
    SinkSet bit = SinkSet{1} << i;
    if ((rule_sinks & bit) && rank >= sinks_[i].min_rank) out |= bit;
  }
  return out;
}

std::string SinksReferenceMarkdown() {
  std::string md;
  md += "### Options of every sink\n\n" + CommonSinkOptions().Markdown() + "\n";
  md += "### `delivery:`\n\n" + DeliveryOptions().Markdown() + "\n";
  for (const SinkType& t : SinkTypes()) {
    md += "### `" + t.name + "`\n\n" + t.summary + "\n\n";
    md += "```yaml\n" + t.example + "```\n\n";
    md += t.options->Markdown() + "\n";
  }
  return md;
}

}  // namespace vigil::alerting
