// The sink types, one per folder (alerting/<type>/), listed in sinks.cc's registry, and
// what their option tables and factories share.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vigil/alerting/sinks.h"
#include "vigil/cep/options.h"

namespace vigil::alerting {

SinkType WebhookSinkType();
SinkType SplunkHecSinkType();
SinkType PagerDutySinkType();
SinkType SlackSinkType();
SinkType SyslogSinkType();
SinkType LambdaSinkType();
SinkType KafkaSinkType();
SinkType MqttSinkType();
SinkType StdoutSinkType();
SinkType FileSinkType();

// The keys every sink config has besides its own options (type, default, min_severity).
const std::vector<std::string>& CommonSinkKeys();

// The clock of the context, or the system clock.
const cep::Clock* ClockOf(const SinkContext& context);

// A sink's table: its own options, then those of its shared parts (cep::PartOptions).
template <typename S, typename... Parts>
std::vector<cep::Option<S>> Concat(std::vector<cep::Option<S>> table, const Parts&... parts) {
  (table.insert(table.end(), parts.begin(), parts.end()), ...);
  return table;
}

// The setter of a secret (OptionType::kSecret). An empty one is refused: an empty file or
// variable is a mistake, not "no secret".
template <typename S>
std::function<std::string(S&, const cep::OptionValue&)> SecretMember(std::string S::*member) {
  return [member](S& s, const cep::OptionValue& v) -> std::string {
    if (v.text.empty()) return "the secret is empty";
    s.*member = v.text;
    return {};
  };
}

// The config error `error` (which already names its key path, as BodyTemplate's do) with
// the line:column of `at` in front, as cep::ApplyOptions writes its errors.
Status Located(const cep::ConfigNode* at, const Status& error);

// Checks the header names (HTTP tokens) and values (no line breaks) of the `headers` option
// (`node`, at `path`).
Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    const cep::ConfigNode* node, const std::string& path);

}  // namespace vigil::alerting
