// sinks: and delivery: through the declared option tables of cep/options.h: errors name
// the key's path (after its line:column when the config came from a file), secrets come
// only from *_env / *_file, sizes are SI or IEC as written, and docs/sinks.md is generated
// from the tables.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/sinks.h"
#include "support/temp_dir.h"
#include "vigil/edge/config.h"

namespace vigil::alerting::testing {
namespace {

Result<AlertingConfig> Load(const std::string& sinks_json, const std::string& delivery_json = "null",
                            const cep::SecretSource& secrets = MapSecrets({{"VIGIL_HMAC", "k"}})) {
  return LoadAlertingConfig(JsonConfig(sinks_json), JsonConfig(delivery_json), TestContext(), secrets);
}

std::string Error(const std::string& sinks_json, const std::string& delivery_json = "null",
                  const cep::SecretSource& secrets = MapSecrets({{"VIGIL_HMAC", "k"}})) {
  auto r = Load(sinks_json, delivery_json, secrets);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

TEST_CASE("a valid sinks: section builds every sink with its common options") {
  auto r = Load(R"({"soc":{"type":"webhook","url":"https://soc.example/h","hmac_secret_env":"VIGIL_HMAC","default":true},
                    "console":{"type":"stdout","min_severity":"high"},
                    "archive":{"type":"file","path":"/tmp/x.jsonl","format":"ecs"}})",
                R"({"retry":{"initial":"2s","max":"1m","give_up_after":"12h","breaker_failures":3},
                    "outbox_max":"64MB","dead_letter_keep":10})");
  REQUIRE(r.ok());
  REQUIRE(r->sinks.size() == 3);
  CHECK(r->sinks[0].name == "soc");
  CHECK(r->sinks[0].common.type == "webhook");
  CHECK(r->sinks[0].common.is_default);
  CHECK(r->sinks[1].common.min_severity == "high");
  CHECK_FALSE(r->sinks[2].common.is_default);
  CHECK(r->delivery.retry.initial == 2 * cep::kSecond);
  CHECK(r->delivery.retry.max == cep::kMinute);
  CHECK(r->delivery.retry.give_up_after == 12 * cep::kHour);
  CHECK(r->delivery.retry.breaker_failures == 3);
  CHECK(r->delivery.outbox_max == 64'000'000);
  CHECK(r->delivery.dead_letter_keep == 10);
  Router router = Router::FromConfig(*r);
  CHECK(*router.Resolve({}) == 0b001);
  CHECK(router.Route(0b111, "medium") == 0b101);
}

TEST_CASE("config errors name the key's path") {
  CHECK(Error(R"({"soc":{"type":"webhook"}})") == "sinks.soc.url: required");
  CHECK(Error(R"({"soc":{"url":"https://x"}})") == "sinks.soc.type: required");
  CHECK(Error(R"({"soc":{"type":"webhok"}})") ==
        "sinks.soc.type: expected one of webhook | splunk_hec | pagerduty | slack | syslog | lambda | kafka | "
        "mqtt | stdout | file, got 'webhok'; did you mean 'webhook'?");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","formt":"ecs"}})") ==
        "sinks.soc.formt: unknown option; did you mean 'format'?");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","format":"cef"}})") ==
        "sinks.soc.format: expected one of vigil | ecs | ocsf, got 'cef'; did you mean 'ocsf'?");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","timeout":"soon"}})") ==
        "sinks.soc.timeout: expected a duration such as 250ms, 5s or 1h30m, got 'soon'");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","tls":{"verify":"maybe"}}})") ==
        "sinks.soc.tls.verify: expected true or false, got 'maybe'");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","tls":{"ca":"x"}}})") ==
        "sinks.soc.tls.ca: unknown option");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","tls":"yes"}})") ==
        "sinks.soc.tls: expected a map of options, got 'yes'");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"ftp://x"}})") ==
        "sinks.soc.url: 'ftp://x' is not an http:// or https:// URL");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","headers":{"Bad Name":"v"}}})") ==
        "sinks.soc.headers.Bad Name: not a valid HTTP header name");
  CHECK(Error(R"({"soc":{"type":"stdout","min_severity":"urgent"}})") ==
        "sinks.soc.min_severity: expected one of info | low | medium | high | critical, got 'urgent'");
  CHECK(Error(R"({"s":{"type":"syslog","address":"siem:514"}})") ==
        "sinks.s.address: 'siem:514' is not udp://host:port or tcp://host:port");
  CHECK(Error(R"({"s":{"type":"syslog","address":"udp://siem:514","tls":{"ca_file":"x"}}})") ==
        "sinks.s.tls: TLS needs a tcp:// address");
  CHECK(Error(R"({"s":{"type":"syslog","address":"udp://siem:514","facility":"local9"}})") ==
        "sinks.s.facility: expected one of kern | user | mail | daemon | auth | syslog | lpr | news | uucp | cron "
        "| authpriv | ftp | ntp | audit | alert | clock | local0 | local1 | local2 | local3 | local4 | local5 | "
        "local6 | local7, got 'local9'; did you mean 'local0'?");
  CHECK(Error(R"({"k":{"type":"kafka","brokers":"b:9092","topic":"t","properties":{"no.such.property":"1"}}})")
            .rfind("sinks.k.properties: no.such.property: ", 0) == 0);
  CHECK(Error(R"({"m":{"type":"mqtt","url":"tcp://b:1883","topic":"a/{{ nope }}"}})")
            .rfind("sinks.m.topic: unknown placeholder '{{ nope }}'", 0) == 0);
  CHECK(Error("[1]") == "sinks: expected a map of sink name to sink options");
  CHECK(Error(R"({"soc":"webhook"})") == "sinks.soc: expected a map of options, got 'webhook'");
  CHECK(Error("{}", R"({"retry":{"initial":"0s"}})") == "delivery.retry: initial must be > 0 and max >= initial");
  CHECK(Error("{}", R"({"outbox_max":"lots"})") ==
        "delivery.outbox_max: expected a size such as 4096, 64KB, 256MB or 1GiB, got 'lots'");
}

TEST_CASE("every config error is reported, one per line, and no sink is made") {
  CHECK(Error(R"({"a":{"type":"webhook"},"b":{"type":"stdout","format":"xml"},"c":{"type":"stdout"}})",
              R"({"retry":{"max":"never"}})") ==
        "delivery.retry.max: expected a duration such as 250ms, 5s or 1h30m, got 'never'\n"
        "sinks.a.url: required\n"
        "sinks.b.format: expected one of vigil | ecs | ocsf, got 'xml'");
}

TEST_CASE("errors carry the line and column of the key when the config has them") {
  // As edge's loader builds the tree from vigil.yaml: every node knows where it was written.
  cep::ConfigNode soc = cep::ConfigNode::Map(12, 5);
  soc.Set("type", cep::ConfigNode::Scalar("webhook", 12, 17));
  soc.Set("url", cep::ConfigNode::Scalar("ftp://soc.example", 13, 10));
  soc.Set("template", cep::ConfigNode::Scalar("{\"a\": {{ sumary }}}", 14, 15));
  cep::ConfigNode pager = cep::ConfigNode::Map(15, 5);
  pager.Set("type", cep::ConfigNode::Scalar("pagerduty", 15, 17));
  cep::ConfigNode delivery = cep::ConfigNode::Map(17, 3);
  delivery.Set("outbox_max", cep::ConfigNode::Scalar("1 gig", 17, 15));
  auto r = LoadAlertingConfig({{"soc", soc}, {"pager", pager}}, delivery, TestContext(), MapSecrets());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "17:15: delivery.outbox_max: expected a size such as 4096, 64KB, 256MB or 1GiB, got '1 gig'\n"
        "13:10: sinks.soc.url: 'ftp://soc.example' is not an http:// or https:// URL\n"
        "15:5: sinks.pager.routing_key_env: required (or routing_key_file)");
  soc.Set("url", cep::ConfigNode::Scalar("https://soc.example", 13, 10));
  auto t = LoadAlertingConfig({{"soc", soc}}, cep::ConfigNode(), TestContext(), MapSecrets());
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().rfind("14:15: sinks.soc.template: unknown placeholder '{{ sumary }}'", 0) == 0);
}

TEST_CASE("the sinks of vigil.yaml, as edge's loader keeps them, load with their positions") {
  const char* yaml = R"(streams:
  default:
    source: {type: stdin}
sinks:
  soc:
    type: webhook
    url: https://soc.example/h
    hmac_secret_env: VIGIL_HMAC
    default: true
  siem:
    type: syslog
    address: "udp://siem:514"
    tls: {ca_file: /etc/ca.pem}
)";
  cep::SecretSource env = MapSecrets({{"VIGIL_HMAC", "k"}});
  auto app = edge::LoadConfigString(yaml, "vigil.yaml", env);
  REQUIRE(app.ok());
  REQUIRE(app->sinks.size() == 2);
  auto r = LoadAlertingConfig(app->sinks, cep::ConfigNode(), TestContext(), env);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "13:10: sinks.siem.tls: TLS needs a tcp:// address");
  auto soc_only = LoadAlertingConfig({app->sinks[0]}, cep::ConfigNode(), TestContext(), env);
  REQUIRE(soc_only.ok());
  CHECK(soc_only->sinks[0].common.is_default);
}

TEST_CASE("secrets come only from *_env or *_file") {
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","hmac_secret":"inline"}})") ==
        "sinks.soc.hmac_secret: secrets are not written in the file: use hmac_secret_env (an environment "
        "variable) or hmac_secret_file (a file holding it)");
  CHECK(Error(R"({"soc":{"type":"webhook","url":"https://x","hmac_secret_env":"NOPE"}})") ==
        "sinks.soc.hmac_secret_env: environment variable NOPE is not set");
  CHECK(Error(R"({"pd":{"type":"pagerduty"}})") == "sinks.pd.routing_key_env: required (or routing_key_file)");
  vigil::testing::TempDir dir;
  std::string file = dir.Write("token", "hec-token-from-file\n");
  auto r = Load(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":")" + file + R"("}})");
  REQUIRE(r.ok());
  CHECK(Error(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":"/no/such/file"}})") ==
        "sinks.splunk.token_file: cannot read '/no/such/file'");
  CHECK(Error(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_env":"VIGIL_HMAC","token_file":")" +
              file + R"("}})") == "sinks.splunk.token_env: give either token_env or token_file, not both");
  std::string empty = dir.Write("empty", "\n");
  CHECK(Error(R"({"splunk":{"type":"splunk_hec","url":"https://s:8088","token_file":")" + empty + R"("}})") ==
        "sinks.splunk.token_file: the secret is empty");
  CHECK(Error(R"({"pd":{"type":"pagerduty","routing_key_env":"EMPTY"}})", "null", MapSecrets({{"EMPTY", ""}})) ==
        "sinks.pd.routing_key_env: the secret is empty");
  // Slack's URL carries its token: a bad one is reported without repeating it.
  CHECK(Error(R"({"slack":{"type":"slack","url_env":"SLACK"}})", "null", MapSecrets({{"SLACK", "hooks.slack.com/T0/B0/s3cr3t"}})) ==
        "sinks.slack.url_env: the URL is not an http:// or https:// URL");
}

TEST_CASE("plain http URLs are accepted with a warning") {
  std::vector<std::string> warnings;
  SinkContext ctx = TestContext();
  ctx.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto r = LoadAlertingConfig(JsonConfig(R"({"soc":{"type":"webhook","url":"http://soc.example/h"}})"),
                              cep::ConfigNode(), ctx, MapSecrets());
  REQUIRE(r.ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "sinks.soc.url: 'http://soc.example/h' is plain http: alerts travel unencrypted");
}

// Sizes are read by cep's ParseBytesOption, as everywhere in vigil.yaml: KB, MB, GB are
// powers of 1000, KiB, MiB, GiB powers of 1024.
TEST_CASE("sizes are SI (MB) or IEC (MiB) as written") {
  auto outbox_max = [](const std::string& size) -> uint64_t {
    auto r = Load("{}", R"({"outbox_max":")" + size + R"("})");
    INFO(size);
    REQUIRE(r.ok());
    return r->delivery.outbox_max;
  };
  CHECK(outbox_max("1GB") == 1'000'000'000);
  CHECK(outbox_max("1GiB") == 1ull << 30);
  CHECK(outbox_max("256MB") == 256'000'000);
  CHECK(outbox_max("256MiB") == 256ull << 20);
  CHECK(outbox_max("512kb") == 512'000);
  CHECK(outbox_max("512KiB") == 512ull << 10);
  CHECK(outbox_max("1.5GiB") == 3ull << 29);
  CHECK(outbox_max("4096") == 4096);
  CHECK(Error("{}", R"({"outbox_max":"GB"})") ==
        "delivery.outbox_max: expected a size such as 4096, 64KB, 256MB or 1GiB, got 'GB'");
  CHECK(Error("{}", R"({"outbox_max":"99999999999999999999"})") ==
        "delivery.outbox_max: expected a size such as 4096, 64KB, 256MB or 1GiB, got '99999999999999999999'");
  // The default, "1GB", is what the outbox gets without a delivery: section.
  auto r = Load("{}");
  REQUIRE(r.ok());
  CHECK(r->delivery.outbox_max == 1'000'000'000);
  CHECK(OutboxOptionsFrom(r->delivery).max_bytes == OutboxOptions().max_bytes);
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
  CHECK(generated.find("`256MB` is 256,000,000 bytes and `256MiB` 268,435,456") != std::string::npos);
  CHECK(generated.find("| `hmac_secret_env / hmac_secret_file` | secret |") != std::string::npos);
}

}  // namespace
}  // namespace vigil::alerting::testing
