// The sink types, one per folder (alerting/<type>/), listed in sinks.cc's registry.
#pragma once

#include <string>
#include <vector>

#include "vigil/alerting/sinks.h"

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

// Checks a header name (an HTTP token) and value (no line breaks).
Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& path);

}  // namespace vigil::alerting
