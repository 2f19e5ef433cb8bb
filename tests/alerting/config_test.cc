// sinks: and delivery: through the declared option tables: errors name the key's path,
// secrets come only from *_env / *_file, and docs/sinks.md is generated from the tables.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/sinks.h"
#include "support/temp_dir.h"

namespace vigil::alerting::testing {
namespace {

Result<AlertingConfig> Load(const std::string& sinks_json, const std::string& delivery_json = "null",
                            const SecretSource& secrets = MapSecrets({{"VIGIL_HMAC", "k"}})) {
  auto sinks = ConfigValue::FromJson(sinks_json);
  auto delivery = ConfigValue::FromJson(delivery_json);
  REQUIRE(sinks.ok());
  REQUIRE(delivery.ok());
  return LoadAlertingConfig(&*sinks, &*delivery, TestContext(), secrets);
}

std::string Error(const std::string& sinks_json, const std::string& delivery_json = "null",
                  const SecretSource& secrets = MapSecrets({{"VIGIL_HMAC", "k"}})) {
  auto r = Load(sinks_json, delivery_json, secrets);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

TEST_CASE("a valid sinks: section builds every sink with its common options") {
  auto r = Load(R"({"soc":{"type":"webhook","url":"https://soc.example/h","hmac_secret_env":"VIGIL_HMAC","default":true},
                    "console":{"type":"stdout","min_severity":"high"},
                    "archive":{"type":"file","path":"/tmp/x.jsonl","format":"ecs"}})",
                R"({"retry":{"initial":"2s","max":"1m","give_up_after":"12h"},"outbox_max":"64MB"})");
  REQUIRE(r.ok());
  REQUIRE(r->sinks.size() == 3);
  CHECK(r->sinks[0].name == "soc");
  CHECK(r->sinks[0].common.is_default);
  CHECK(r->sinks[1].common.min_severity == "high");
  CHECK_FALSE(r->sinks[2].common.is_default);
  CHECK(r->delivery.retry.initial == 2 * cep::kSecond);
  CHECK(r->delivery.retry.max == cep::kMinute);
  CHECK(r->delivery.retry.give_up_after == 12 * cep::kHour);
  CHECK(r->delivery.outbox_max == 64ull << 20);
  Router router = Router::FromConfig(*r);
  CHECK(*router.Resolve({}) == 0b001);
  CHECK(router.Route(0b111, "medium") == 0b101);
}

TEST_CASE("config errors name the key's path") {
  CHECK(Error(R"({"soc":{"type":"webhook"}})") == "sinks.soc.url: required");
  CHECK(Error(R"({"soc":{"url":"https://x"}})") == "sinks.soc.type: required");
  CHECK(Error(R"({"soc":{"type":"webhok"}})") ==
        "sinks.soc.type: unknown sink type 'webhok' (one of webhook, splunk_hec, pagerduty, slack, syslog, "
        "lambda, kafka, mqtt, stdout, file)");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","formt":"ecs"}})") ==
        "sinks.soc.formt: unknown option (did you mean 'format'?)");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","format":"cef"}})") ==
        "sinks.soc.format: 'cef' is not one of vigil,ecs,ocsf");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","timeout":"soon"}})") ==
        "sinks.soc.timeout: 'soon' is not a duration (like 500ms, 30s, 5m)");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","tls":{"verify":"maybe"}}})") ==
        "sinks.soc.tls.verify: 'maybe' is not true or false");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","tls":{"ca":"x"}}})") ==
        "sinks.soc.tls.ca: unknown option");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"ftp://x"}})") ==
        "sinks.soc.url: 'ftp://x' is not an http:// or https:// URL");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","headers":{"Bad Name":"v"}}})") ==
        "sinks.soc.headers.Bad Name: not a valid HTTP header name");
  CHECK(Error(R"({"soc":{"type":"stdout","min_severity":"urgent"}})") ==
        "sinks.soc.min_severity: 'urgent' is not one of info,low,medium,high,critical");
  CHECK(Error(R"({"s":{"type":"syslog","address":"siem:514"}})") ==
        "sinks.s.address: 'siem:514' is not udp://host:port or tcp://host:port");
  CHECK(Error(R"({"s":{"type":"syslog","address":"udp://siem:514","tls":{"ca_file":"x"}}})") ==
        "sinks.s.tls: TLS needs a tcp:// address");
  CHECK(Error(R"({"k":{"type":"kafka","brokers":"b:9092","topic":"t","properties":{"no.such.property":"1"}}})")
            .rfind("sinks.k.properties: no.such.property: ", 0) == 0);
  CHECK(Error(R"({"m":{"type":"mqtt","url":"tcp://b:1883","topic":"a/{{ nope }}"}})")
            .rfind("sinks.m.topic: unknown placeholder '{{ nope }}'", 0) == 0);
  CHECK(Error("[1]") == "sinks: expected a map of sink names, got a list");
  CHECK(Error("{}", R"({"retry":{"initial":"0s"}})") == "delivery.retry: initial must be > 0 and max >= initial");
  CHECK(Error("{}", R"({"outbox_max":"lots"})") == "delivery.outbox_max: 'lots' is not a size (like 64MB, 1GB)");
}

TEST_CASE("secrets come only from *_env or *_file") {
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","hmac_secret":"inline"}})") ==
        "sinks.soc.hmac_secret: a secret is not written in the config; use hmac_secret_env (an "
        "environment variable) or hmac_secret_file (a file)");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","hmac_secret_env":"NOPE"}})") ==
        "sinks.soc.hmac_secret_env: environment variable NOPE is not set");
  CHECK(Error(R"({"pd":{"type":"pagerduty"}})") == "sinks.pd.routing_key_env: required (or routing_key_file)");
  vigil::testing::TempDir dir;
  std::string file = dir.Write("token", "hec-token-from-file\n");
  auto r = Load(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":")" + file + R"("}})");
  REQUIRE(r.ok());
  CHECK(Error(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":"/no/such/file"}})") ==
        "sinks.splunk.token_file: cannot read /no/such/file");
  std::string empty = dir.Write("empty", "\n");
  CHECK(Error(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":")" + empty + R"("}})") ==
        "sinks.splunk.token_file: the secret is empty");
}

TEST_CASE("plain http URLs are accepted with a warning") {
  auto sinks = ConfigValue::FromJson(R"({"soc":{"type":"webhook","url":"http://soc.example/h"}})");
  std::vector<std::string> warnings;
  SinkContext ctx = TestContext();
  ctx.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto r = LoadAlertingConfig(&*sinks, nullptr, ctx, MapSecrets());
  REQUIRE(r.ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "sinks.soc.url: 'http://soc.example/h' is plain http: alerts travel unencrypted");
}

TEST_CASE("sizes and option types read as declared") {
  uint64_t n = 0;
  CHECK(ParseBytes("1GB", &n));
  CHECK(n == 1ull << 30);
  CHECK(ParseBytes("512kb", &n));
  CHECK(n == 512ull << 10);
  CHECK(ParseBytes("4096", &n));
  CHECK(n == 4096);
  CHECK_FALSE(ParseBytes("GB", &n));
  CHECK_FALSE(ParseBytes("1 GB", &n));
  CHECK_FALSE(ParseBytes("99999999999999999999", &n));
}

// docs/sinks.md holds the generated reference between the markers; run with
// VIGIL_UPDATE_DOCS=1 to rewrite it after changing an option table.
TEST_CASE("docs/sinks.md shows every sink's options as the tables declare them") {
  std::string path = std::string(VIGIL_SOURCE_DIR) + "/docs/sinks.md";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  const std::string begin = "<!-- BEGIN GENERATED: sink reference -->\n";
  const std::string end = "<!-- END GENERATED -->";
  size_t b = doc.find(begin), e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  std::string generated = SinksReferenceMarkdown();
  std::string current = doc.substr(b + begin.size(), e - b - begin.size());
  if (current != generated && std::getenv("VIGIL_UPDATE_DOCS")) {
    std::ofstream out(path);
    out << doc.substr(0, b + begin.size()) << generated << doc.substr(e);
    current = generated;
  }
  INFO("docs/sinks.md is out of date: run alerting_test with VIGIL_UPDATE_DOCS=1");
  CHECK(current == generated);
  for (const SinkType& t : SinkTypes()) CHECK(generated.find("### `" + t.name + "`") != std::string::npos);
}

}  // namespace
}  // namespace vigil::alerting::testing
