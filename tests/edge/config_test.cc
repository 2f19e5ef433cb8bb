// The appliance configuration: the spec's example loads, defaults apply, and every kind of
// mistake is reported with file:line:column and the key path.
#include "vigil/edge/config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

using vigil::cep::SecretSource;
using vigil::edge::AppConfig;
using vigil::edge::LoadConfigString;

namespace {

SecretSource Env(std::map<std::string, std::string> vars) {
  return SecretSource{[vars](const std::string& n, std::string* v) {
                        auto it = vars.find(n);
                        if (it == vars.end()) return false;
                        *v = it->second;
                        return true;
                      },
                      [](const std::string& p, std::string*) {
                        return vigil::Status::NotFound("cannot read '" + p + "'");
                      }};
}

// The example of ../shared/spec/config.md, with its "..." placeholders filled in.
const char* kSpecExample = R"(node: {id: gw-17}
state:
  dir: /var/lib/vigil
  checkpoint_interval: 5s
  durability: sync
  max_memory: 256MB
streams:
  auth:
    source: {type: kafka, brokers: "kafka1:9092", topic: auth-logs, group: vigil}
    format: syslog
    extract:
      - field: message
        pattern: 'Failed password for (invalid user )?(?P<user.name>\S+) from (?P<source.ip>\S+) port (?P<source.port>\d+)'
        types: {source.port: int}
    timestamp: {field: "@timestamp", format: rfc3339}
    watermark: {max_delay: 5s, idle: 30s}
    late: drop
  sensors:
    source: {type: mqtt, url: "tcp://127.0.0.1:1883", topics: ["site/+/sensors/#"], qos: 1,
             client_id: vigil-gw-17, clean_start: false, tls: {ca_file: /etc/ca.pem}}
    format: json
    timestamp: {field: ts, format: epoch_ms}
  devices:
    source: {type: grpc}
  local:
    source: {type: file, path: /var/log/auth.log, follow: true}
    format: syslog
rules: [/etc/vigil/rules]
sinks:
  soc-webhook: {type: webhook, url: "https://soc.example/hooks/vigil", hmac_secret_env: VIGIL_HMAC, default: true}
  splunk:      {type: splunk_hec, url: "https://splunk:8088", token_env: SPLUNK_TOKEN, index: security}
  console:     {type: stdout}
delivery:
  retry: {initial: 1s, max: 5m, give_up_after: 24h}
  outbox_max: 1GB
api:
  grpc: {listen: "127.0.0.1:7070", token_env: VIGIL_API_TOKEN}
  http: {listen: "127.0.0.1:9090"}
)";

}  // namespace

TEST_CASE("config: the spec's example loads with every value", "[edge][config]") {
  auto r = LoadConfigString(kSpecExample, "vigil.yaml", Env({{"VIGIL_API_TOKEN", "tok"}}));
  INFO((r.ok() ? std::string() : r.status().message()));
  REQUIRE(r.ok());
  const AppConfig& c = *r;
  CHECK(c.node_id == "gw-17");
  CHECK(c.state.dir == "/var/lib/vigil");
  CHECK(c.state.checkpoint_interval == 5 * vigil::cep::kSecond);
  CHECK(c.state.durability == "sync");
  CHECK(c.state.max_memory == 256000000);
  REQUIRE(c.streams.size() == 4);
  const auto* auth = c.FindStream("auth");
  REQUIRE(auth != nullptr);
  CHECK(auth->source_type == "kafka");
  CHECK(auth->source.Find("topic")->text() == "auth-logs");
  CHECK(auth->format == "syslog");
  REQUIRE(auth->extract.size() == 1);
  CHECK(auth->extract[0].field == "message");
  CHECK(auth->extract[0].types.at("source.port") == "int");
  CHECK(auth->timestamp.fields == std::vector<std::string>{"@timestamp"});
  CHECK(auth->timestamp.format == vigil::ingest::TimeFormat::kRfc3339);
  CHECK(auth->max_delay == 5 * vigil::cep::kSecond);
  CHECK(auth->idle == 30 * vigil::cep::kSecond);
  CHECK(c.FindStream("sensors")->timestamp.format == vigil::ingest::TimeFormat::kEpochMs);
  CHECK(c.FindStream("devices")->source_type == "grpc");
  CHECK(c.FindStream("local")->source.Find("follow")->text() == "true");
  CHECK(c.rules == std::vector<std::string>{"/etc/vigil/rules"});
  REQUIRE(c.sinks.size() == 3);
  CHECK(c.sinks[0].first == "soc-webhook");
  CHECK(c.sinks[0].second.Find("type")->text() == "webhook");
  CHECK(c.delivery.retry.give_up_after == 24 * vigil::cep::kHour);
  CHECK(c.delivery.outbox_max == 1000000000ULL);
  CHECK(c.api.grpc_token == "tok");
  CHECK(c.api.http_listen == "127.0.0.1:9090");
}

TEST_CASE("config: a minimal file gets the documented defaults", "[edge][config]") {
  auto r = LoadConfigString("streams:\n  default:\n    source: {type: stdin}\n", "min.yaml", Env({}));
  REQUIRE(r.ok());
  CHECK_FALSE(r->node_id.empty());  // the host name
  CHECK(r->state.dir == "./vigil-state");
  CHECK(r->state.checkpoint_interval == 5 * vigil::cep::kSecond);
  CHECK(r->state.max_memory == 256000000);
  CHECK(r->rules == std::vector<std::string>{"rulesets/"});
  CHECK(r->streams[0].format == "json");
  CHECK(r->streams[0].late == "drop");
  CHECK(r->api.grpc_listen == "127.0.0.1:7070");
  CHECK(r->delivery.retry.initial == vigil::cep::kSecond);
}

TEST_CASE("config: every error is named by file, position and key path", "[edge][config]") {
  const char* bad = R"(node: {id: gw}
state:
  durability: fsync
  checkpoint_interval: soon
  max_memory: lots
streams:
  auth:
    source: {type: kafak}
    format: xml
    extract:
      - field: message
        types: {port: integer}
    watermark: {max_dealy: 5s}
    late: sink:nowhere
  other:
    format: json
sinks:
  soc: {url: "http://x"}
api:
  grpc: {token: plaintext}
colour: blue
)";
  auto r = LoadConfigString(bad, "vigil.yaml", Env({}));
  REQUIRE_FALSE(r.ok());
  const std::string expected =
      "vigil.yaml:21:9: colour: unknown option\n"
      "vigil.yaml:4:24: state.checkpoint_interval: expected a duration such as 250ms, 5s or 1h30m, got 'soon'\n"
      "vigil.yaml:3:15: state.durability: expected one of sync | buffered | none, got 'fsync'; did you mean 'sync'?\n"
      "vigil.yaml:5:15: state.max_memory: expected a size such as 4096, 64KB, 256MB or 1GiB, got 'lots'\n"
      "vigil.yaml:9:13: streams.auth.format: expected one of json | syslog | raw, got 'xml'\n"
      "vigil.yaml:8:20: streams.auth.source.type: unknown source type 'kafak' (kafka, mqtt, grpc, file or stdin); did you mean 'kafka'?\n"
      "vigil.yaml:13:28: streams.auth.watermark.max_dealy: unknown option; did you mean 'max_delay'?\n"
      "vigil.yaml:11:9: streams.auth.extract[0].pattern: required\n"
      "vigil.yaml:16:5: streams.other.source: required\n"
      "vigil.yaml:18:8: sinks.soc.type: required\n"
      "vigil.yaml:20:17: api.grpc.token: secrets are not written in the file: use token_env (an environment variable) or token_file (a file holding it)\n"
      "vigil.yaml:14:11: streams.auth.late: names sink 'nowhere', which is not defined under sinks";
  CHECK(r.status().message() == expected);
}

TEST_CASE("config: YAML syntax errors and non-maps are one positioned line", "[edge][config]") {
  auto syntax = LoadConfigString("streams:\n  a: [unclosed\n", "bad.yaml", Env({}));
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(syntax.status().message(), Catch::StartsWith("bad.yaml:"));
  auto list = LoadConfigString("- a\n- b\n", "list.yaml", Env({}));
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().message() ==
        "list.yaml: the configuration must be a map (node, state, streams, rules, sinks, delivery, api)");
  auto none = LoadConfigString("rules: [r/]\n", "none.yaml", Env({}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() == "none.yaml:1:1: streams: at least one stream is required");
  auto missing = vigil::edge::LoadConfigFile("/nonexistent/vigil.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "/nonexistent/vigil.yaml: cannot read the configuration file");
}

TEST_CASE("config: the embedded default is the one of cli.md", "[edge][config]") {
  AppConfig d = vigil::edge::DefaultConfig();
  REQUIRE(d.streams.size() == 1);
  CHECK(d.streams[0].name == "default");
  CHECK(d.streams[0].source_type == "stdin");
  CHECK(d.streams[0].format == "json");
  CHECK(d.rules == std::vector<std::string>{"rulesets/"});
  CHECK(d.state.dir == "./vigil-state");
  REQUIRE(d.sinks.size() == 1);
  CHECK(d.sinks[0].second.Find("type")->text() == "stdout");
}

TEST_CASE("config: the reference is generated from the same tables", "[edge][config]") {
  std::string md = vigil::edge::ConfigReferenceMarkdown();
  CHECK(md.find("### `state`") != std::string::npos);
  CHECK(md.find("| `durability` | sync \\| buffered \\| none | `sync` |") != std::string::npos);
  CHECK(md.find("| `max_delay` | duration | `0s` |") != std::string::npos);
  CHECK(md.find("| `token_env / token_file` | secret |") != std::string::npos);
  CHECK(md.find("### `api.grpc.tls`") != std::string::npos);
  CHECK(md.find("| `client_ca_file` | string |") != std::string::npos);
}

// docs/config.md holds the generated reference between the markers; VIGIL_UPDATE_DOCS=1
// rewrites it after an option table changed.
TEST_CASE("config: docs/config.md is the generated reference", "[edge][config]") {
  const std::string path = std::string(VIGIL_SOURCE_DIR) + "/docs/config.md";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- BEGIN GENERATED: config reference -->\n";
  const std::string end = "<!-- END GENERATED -->";
  size_t b = doc.find(begin), e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const std::string generated = vigil::edge::ConfigReferenceMarkdown();
  std::string current = doc.substr(b + begin.size(), e - b - begin.size());
  if (current != generated && std::getenv("VIGIL_UPDATE_DOCS")) {
    std::ofstream out(path, std::ios::binary);
    out << doc.substr(0, b + begin.size()) << generated << doc.substr(e);
    current = generated;
  }
  INFO("docs/config.md is out of date: run edge_test with VIGIL_UPDATE_DOCS=1");
  CHECK(current == generated);
}
