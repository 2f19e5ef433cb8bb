// The kafka source's settings: the option table (validation and docs) and the librdkafka
// configuration built from it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>
#include <vector>

#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::ingest {

struct KafkaSettings {
  std::string brokers;
  std::string topic;
  std::string group = "vigil";
  std::string client_id;  // empty: the node id
  std::string auto_offset_reset = "earliest";
  bool commit = true;
  cep::Duration session_timeout = 45 * cep::kSecond;
  cep::Duration revoke_timeout = 30 * cep::kSecond;
  uint64_t prefetch = 16u << 20;
  // Passed through to librdkafka as written.
  std::string security_protocol = "plaintext";
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_location;
  std::string ssl_certificate_location;
  std::string ssl_key_location;
  std::string ssl_key_password;
  std::string ssl_endpoint_identification = "https";
  std::vector<std::pair<std::string, std::string>> properties;  // `properties:`
};

const std::vector<cep::Option<KafkaSettings>>& KafkaOptions();

// The consumer configuration: every setting above plus what Vigil requires (a consumer group
// with cooperative-sticky assignment, no auto-commit). Errors name the option's key path
// under `path`. Callbacks are set by the caller.
Result<rd_kafka_conf_t*> BuildKafkaConf(const KafkaSettings& s, const std::string& path,
                                        const std::string& default_client_id);

}  // namespace vigil::ingest
