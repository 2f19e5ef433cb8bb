// The registry of sink types, the sinks:/delivery: sections, routing and the generated docs.
#include "vigil/alerting/sinks.h"

#include <algorithm>
#include <cctype>

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

Status Located(const cep::ConfigNode* at, const Status& error) {
  return Status::InvalidArgument(cep::PositionPrefix(at) + error.message());
}

Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    const cep::ConfigNode* node, const std::string& path) {
  for (const auto& [k, v] : headers) {
    const cep::ConfigNode* at = node && node->Find(k) ? node->Find(k) : node;
    bool token = !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
      return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token) return cep::OptionError(at, path + "." + k, "not a valid HTTP header name");
    if (v.find_first_of("\r\n") != std::string::npos) {
      return cep::OptionError(at, path + "." + k, "a header value cannot hold a line break");
    }
  }
  return Status::Ok();
}

const std::vector<cep::Option<CommonSinkSettings>>& CommonSinkOptions() {
  static const std::vector<cep::Option<CommonSinkSettings>> table = [] {
    std::vector<std::string> types;
    for (const SinkType& t : SinkTypes()) types.push_back(t.name);
    return std::vector<cep::Option<CommonSinkSettings>>{
        {"type", cep::OptionType::kEnum, "", true, "The sink type; each is described below.", types,
         cep::Member(&CommonSinkSettings::type)},
        {"default", cep::OptionType::kBool, "false", false, "Send the alerts of rules that name no sinks here.", {},
         cep::Member(&CommonSinkSettings::is_default)},
        {"min_severity", cep::OptionType::kEnum, "info", false, "Only alerts of this severity or above.",
         {"info", "low", "medium", "high", "critical"}, cep::Member(&CommonSinkSettings::min_severity)},
    };
  }();
  return table;
}

namespace {

const std::vector<cep::Option<RetryPolicy>>& RetryOptions() {
  static const std::vector<cep::Option<RetryPolicy>> table = {
      {"initial", cep::OptionType::kDuration, "1s", false,
       "First retry delay; it doubles per failure (with jitter: half fixed, half random).", {},
       cep::Member(&RetryPolicy::initial)},
      {"max", cep::OptionType::kDuration, "5m", false, "Longest retry delay.", {}, cep::Member(&RetryPolicy::max)},
      {"give_up_after", cep::OptionType::kDuration, "24h", false,
       "An alert still undelivered this long after it was raised, while its sink keeps failing, "
       "becomes a dead letter.",
       {}, cep::Member(&RetryPolicy::give_up_after)},
      {"breaker_failures", cep::OptionType::kInt, "5", false,
       "Consecutive failures that open a sink's circuit (reported in status and logs).", {},
       cep::Member(&RetryPolicy::breaker_failures)},
  };
  return table;
}

}  // namespace

const std::vector<cep::Option<DeliverySettings>>& DeliveryOptions() {
  static const std::vector<cep::Option<DeliverySettings>> table = Concat(
      cep::PartOptions(&DeliverySettings::retry, RetryOptions(), "retry."),
      std::vector<cep::Option<DeliverySettings>>{
          {"outbox_max", cep::OptionType::kBytes, "1GB", false,
           "Bytes of undelivered alerts kept. When full, new alerts are not kept for sinks that are "
           "behind (counted as overflow); the oldest are kept.",
           {}, cep::Member(&DeliverySettings::outbox_max)},
          {"dead_letter_keep", cep::OptionType::kInt, "1000", false, "Dead letters kept (the newest) for inspection.",
           {}, cep::Member(&DeliverySettings::dead_letter_keep)},
      });
  return table;
}

Result<AlertingConfig> LoadAlertingConfig(const std::vector<std::pair<std::string, cep::ConfigNode>>& sinks,
                                          const cep::ConfigNode& delivery, const SinkContext& context,
                                          const cep::SecretSource& secrets) {
  AlertingConfig config;
  std::string errors;
  auto add = [&](const Status& s) { errors += (errors.empty() ? "" : "\n") + s.message(); };
  if (Status s = cep::ApplyOptions(DeliveryOptions(), delivery, "delivery", &config.delivery, secrets); !s.ok()) {
    add(s);
  } else if (config.delivery.retry.initial <= 0 || config.delivery.retry.max < config.delivery.retry.initial) {
    add(cep::OptionError(delivery.Find("retry"), "delivery.retry", "initial must be > 0 and max >= initial"));
  }
  if (sinks.size() > kMaxSinks) {
    add(cep::OptionError(&sinks[kMaxSinks].second, "sinks", "at most " + std::to_string(kMaxSinks) + " sinks"));
  }
  for (size_t i = 0; i < sinks.size() && i < kMaxSinks; ++i) {
    const auto& [name, node] = sinks[i];
    std::string path = "sinks." + name;
    ConfiguredSink cs;
    cs.name = name;
    // The common options, then the type's own (which leave the common keys alone).
    cep::ConfigNode common = cep::ConfigNode::Map(node.line(), node.column());
    for (const std::string& k : CommonSinkKeys()) {
      if (const cep::ConfigNode* v = node.Find(k)) common.Set(k, *v);
    }
    if (Status s = cep::ApplyOptions(CommonSinkOptions(), node.is_map() ? common : node, path, &cs.common, secrets);
        !s.ok()) {
      add(s);
      continue;
    }
    SinkContext ctx = context;
    ctx.sink_name = name;
    auto sink = FindSinkType(cs.common.type)->create(node, path, ctx, secrets);
    if (!sink.ok()) {
      add(sink.status());
      continue;
    }
    cs.sink = std::move(sink).value();
    config.sinks.push_back(std::move(cs));
  }
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return config;
}

Result<AlertingConfig> LoadAlertingConfig(const cep::ConfigNode& sinks, const cep::ConfigNode& delivery,
                                          const SinkContext& context, const cep::SecretSource& secrets) {
  static const std::vector<std::pair<std::string, cep::ConfigNode>> kNone;
  if (!sinks.is_null() && !sinks.is_map()) {
    return cep::OptionError(&sinks, "sinks", "expected a map of sink name to sink options");
  }
  return LoadAlertingConfig(sinks.is_map() ? sinks.fields() : kNone, delivery, context, secrets);
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
  md += "### Options of every sink\n\n" + cep::OptionsMarkdown(CommonSinkOptions()) + "\n";
  md += "### `delivery:`\n\n" + cep::OptionsMarkdown(DeliveryOptions()) + "\n";
  md += std::string(cep::kBytesUnitsMarkdown) + "\n\n";
  for (const SinkType& t : SinkTypes()) {
    md += "### `" + t.name + "`\n\n" + t.summary + "\n\n";
    md += "```yaml\n" + t.example + "```\n\n";
    md += t.options_markdown + "\n";
  }
  return md;
}

}  // namespace vigil::alerting
