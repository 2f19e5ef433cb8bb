// The appliance configuration (../shared/spec/config.md): read from YAML, checked against
// declared option tables (vigil/cep/options.h), every error with its file position and key
// path ("vigil.yaml:14:7: sinks.soc.url: required"). Secrets only via *_env / *_file.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vigil/alerting/sinks.h"
#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"
#include "vigil/ingest/decoder.h"
#include "vigil/ingest/extract.h"

namespace vigil::edge {

struct StateConfig {
  std::string dir = "./vigil-state";
  cep::Duration checkpoint_interval = 5 * cep::kSecond;
  std::string durability = "sync";  // sync | buffered | none
  uint64_t max_memory = 256ull * 1000 * 1000;
};

struct StreamConfig {
  std::string name;
  // `source:` as written; `source_type` is its type. Each source type checks its own
  // options (ingest's source registry).
  std::string source_type;
  cep::ConfigNode source;
  std::string format = "json";  // json | syslog | raw
  std::string timezone = "UTC";  // syslog: zone of RFC 3164 timestamps
  int64_t year = 0;              // syslog: fixed year of RFC 3164 timestamps (0: the year rule)
  std::vector<ingest::ExtractSpec> extract;
  ingest::TimestampOptions timestamp;
  cep::Duration max_delay = 0;  // watermark: bounded out-of-orderness
  cep::Duration idle = 0;       // watermark: a partition silent this long stops holding it back (0: never)
  std::string late = "drop";    // drop | sink:<name>
};

struct ApiConfig {
  std::string grpc_listen = "127.0.0.1:7070";
  std::string grpc_token;  // from token_env / token_file; required off loopback
  cep::ConfigNode grpc_tls;  // {cert_file, key_file, client_ca_file}, checked by the server
  std::string http_listen = "127.0.0.1:9090";
};

struct AppConfig {
  std::string file;  // where it was read from ("<embedded default>" for the default)
  std::string node_id;
  StateConfig state;
  std::vector<StreamConfig> streams;  // in file order
  std::vector<std::string> rules = {"rulesets/"};
  // `sinks:` as written, by name; each sink type checks its own options (alerting's
  // sink registry).
  std::vector<std::pair<std::string, cep::ConfigNode>> sinks;
  // `delivery:` checked against alerting's table (the outbox's retry, bound, dead letters),
  // and as written, for alerting::LoadAlertingConfig.
  alerting::DeliverySettings delivery;
  cep::ConfigNode delivery_node;
  ApiConfig api;
  // `shutdown.timeout`: on SIGTERM/SIGINT (or the end of every source), how long `vigil
  // run` waits for the sinks to deliver what the outbox holds before it exits anyway
  // (undelivered alerts stay in the outbox for the next start).
  cep::Duration shutdown_timeout = 10 * cep::kSecond;

  const StreamConfig* FindStream(const std::string& name) const;
};

// The source types the configuration accepts.
const std::vector<std::string>& SourceTypes();

// Reads and checks a configuration. Every error found is reported, one per line, as
// "<file>:<line>:<column>: <key path>: <message>".
Result<AppConfig> LoadConfigFile(const std::string& path,
                                 const cep::SecretSource& secrets = cep::SecretSource::Process());
Result<AppConfig> LoadConfigString(const std::string& yaml, const std::string& name,
                                   const cep::SecretSource& secrets = cep::SecretSource::Process());

// The embedded default of cli.md: JSON lines on stdin as stream `default`, rules from
// rulesets/, state under ./vigil-state, alerts to stdout.
AppConfig DefaultConfig();

// The reference of every section's options, as Markdown (docs/config.md is generated from it).
std::string ConfigReferenceMarkdown();

}  // namespace vigil::edge
