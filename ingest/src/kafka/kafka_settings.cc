#include "kafka/kafka_settings.h"

#include <algorithm>

namespace vigil::ingest {

namespace {

using cep::Member;
using cep::OptionType;
using cep::OptionValue;

// librdkafka properties Vigil sets itself; `properties:` may not override them.
const std::vector<std::string>& ManagedProperties() {
  static const std::vector<std::string> p = {
      "bootstrap.servers",
      "metadata.broker.list",
      "group.id",
      "client.id",
      "enable.auto.commit",
      "enable.auto.offset.store",
      "partition.assignment.strategy",
      "auto.offset.reset",
      "session.timeout.ms",
      "queued.max.messages.kbytes",
      "security.protocol",
      "sasl.mechanism",
      "sasl.mechanisms",
      "sasl.username",
      "sasl.password",
      "ssl.ca.location",
      "ssl.certificate.location",
      "ssl.key.location",
      "ssl.key.password",
      "ssl.endpoint.identification.algorithm",
  };
  return p;
}

std::string SetProperties(KafkaSettings& s, const OptionValue& v) {
  const cep::ConfigNode& n = *v.node;
  if (!n.is_map()) return "expected a map of librdkafka property to value";
  for (const auto& [key, value] : n.fields()) {
    if (!value.is_scalar()) return "'" + key + "': expected a scalar value";
    const auto& managed = ManagedProperties();
    if (std::find(managed.begin(), managed.end(), key) != managed.end()) {
      return "'" + key + "' is set by Vigil or by its own option here, not through properties";
    }
    if (key.find("password") != std::string::npos || key.find("secret") != std::string::npos) {
      return "'" + key + "' looks like a secret: secrets are not written in the file";
    }
    s.properties.emplace_back(key, value.text());
  }
  return {};
}

}  // namespace

const std::vector<cep::Option<KafkaSettings>>& KafkaOptions() {
  static const std::vector<cep::Option<KafkaSettings>> t = {
      {"brokers",
       OptionType::kString,
       "",
       true,
       "Bootstrap brokers, `host:port[,host:port...]`.",
       {},
       Member(&KafkaSettings::brokers)},
      {"topic",
       OptionType::kString,
       "",
       true,
       "The topic to consume.",
       {},
       Member(&KafkaSettings::topic)},
      {"group",
       OptionType::kString,
       "vigil",
       false,
       "Consumer group. Instances in one group share the topic's partitions "
       "(cooperative-sticky assignment).",
       {},
       Member(&KafkaSettings::group)},
      {"client_id",
       OptionType::kString,
       "",
       false,
       "Kafka client id (default: the node id).",
       {},
       Member(&KafkaSettings::client_id)},
      {"auto_offset_reset",
       OptionType::kEnum,
       "earliest",
       false,
       "Where to start a partition that has neither a checkpointed position nor a committed "
       "offset.",
       {"earliest", "latest"},
       Member(&KafkaSettings::auto_offset_reset)},
      {"commit",
       OptionType::kBool,
       "true",
       false,
       "Commit the checkpointed offsets to the group after each checkpoint (for lag "
       "monitoring and for other instances taking partitions over).",
       {},
       Member(&KafkaSettings::commit)},
      {"session_timeout",
       OptionType::kDuration,
       "45s",
       false,
       "Group session timeout: how long a silent instance keeps its partitions.",
       {},
       Member(&KafkaSettings::session_timeout)},
      {"revoke_timeout",
       OptionType::kDuration,
       "30s",
       false,
       "How long giving partitions away waits for the checkpoint that covers them.",
       {},
       Member(&KafkaSettings::revoke_timeout)},
      {"prefetch",
       OptionType::kBytes,
       "16MiB",
       false,
       "librdkafka's local fetch buffer (queued.max.messages.kbytes): the memory it may hold "
       "ahead of the engine.",
       {},
       Member(&KafkaSettings::prefetch)},
      {"security.protocol",
       OptionType::kEnum,
       "plaintext",
       false,
       "Passed to librdkafka.",
       {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"},
       Member(&KafkaSettings::security_protocol)},
      {"sasl.mechanism",
       OptionType::kEnum,
       "",
       false,
       "Passed to librdkafka.",
       {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"},
       Member(&KafkaSettings::sasl_mechanism)},
      {"sasl.username",
       OptionType::kString,
       "",
       false,
       "Passed to librdkafka.",
       {},
       Member(&KafkaSettings::sasl_username)},
      {"sasl.password",
       OptionType::kSecret,
       "",
       false,
       "Passed to librdkafka.",
       {},
       Member(&KafkaSettings::sasl_password)},
      {"ssl.ca.location",
       OptionType::kString,
       "",
       false,
       "Passed to librdkafka: CA certificate file.",
       {},
       Member(&KafkaSettings::ssl_ca_location)},
      {"ssl.certificate.location",
       OptionType::kString,
       "",
       false,
       "Passed to librdkafka: client certificate.",
       {},
       Member(&KafkaSettings::ssl_certificate_location)},
      {"ssl.key.location",
       OptionType::kString,
       "",
       false,
       "Passed to librdkafka: client key.",
       {},
       Member(&KafkaSettings::ssl_key_location)},
      {"ssl.key.password",
       OptionType::kSecret,
       "",
       false,
       "Passed to librdkafka.",
       {},
       Member(&KafkaSettings::ssl_key_password)},
      {"ssl.endpoint.identification.algorithm",
       OptionType::kEnum,
       "https",
       false,
       "Passed to librdkafka: `https` checks the broker's host name against its certificate.",
       {"https", "none"},
       Member(&KafkaSettings::ssl_endpoint_identification)},
      {"properties",
       OptionType::kNode,
       "",
       false,
       "Other librdkafka consumer properties, as a map (`fetch.wait.max.ms: 50`). Properties "
       "Vigil sets, and secrets, are refused here.",
       {},
       SetProperties},
  };
  return t;
}

Result<rd_kafka_conf_t*> BuildKafkaConf(const KafkaSettings& s, const std::string& path,
                                        const std::string& default_client_id) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::string error;
  auto set = [&](const std::string& key, const std::string& value, const std::string& option) {
    if (!error.empty() || value.empty()) return;
    char err[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = path + "." + option + ": " + err;
    }
  };
  set("bootstrap.servers", s.brokers, "brokers");
  set("group.id", s.group, "group");
  set("client.id", s.client_id.empty() ? default_client_id : s.client_id, "client_id");
  set("auto.offset.reset", s.auto_offset_reset, "auto_offset_reset");
  set("session.timeout.ms",
      std::to_string(std::max<int64_t>(1, s.session_timeout / cep::kMillisecond)),
      "session_timeout");
  set("queued.max.messages.kbytes", std::to_string(std::max<uint64_t>(1, s.prefetch / 1024)),
      "prefetch");
  // Offsets are committed by Vigil after a checkpoint covers them, never automatically.
  set("enable.auto.commit", "false", "commit");
  set("enable.auto.offset.store", "false", "commit");
  set("partition.assignment.strategy", "cooperative-sticky", "group");
  set("security.protocol", s.security_protocol, "security.protocol");
  set("sasl.mechanism", s.sasl_mechanism, "sasl.mechanism");
  set("sasl.username", s.sasl_username, "sasl.username");
  set("sasl.password", s.sasl_password, "sasl.password_env");
  set("ssl.ca.location", s.ssl_ca_location, "ssl.ca.location");
  set("ssl.certificate.location", s.ssl_certificate_location, "ssl.certificate.location");
  set("ssl.key.location", s.ssl_key_location, "ssl.key.location");
  set("ssl.key.password", s.ssl_key_password, "ssl.key.password_env");
  set("ssl.endpoint.identification.algorithm", s.ssl_endpoint_identification,
      "ssl.endpoint.identification.algorithm");
  // Connection-closed lines would repeat what the error callback reports as a state change.
  set("log.connection.close", "false", "properties");
  for (const auto& [key, value] : s.properties)
    set(key, value, "properties." + key);
  if (!error.empty()) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(error);
  }
  return conf;
}

}  // namespace vigil::ingest
