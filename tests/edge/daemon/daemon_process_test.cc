// `vigil run` as an operator runs it: a child process with a config file, real mosquitto
// and a real HTTP receiver on loopback, signals, restarts on the same state, /metrics.
#include <signal.h>

#include <catch2/catch.hpp>
#include <set>
#include <simdjson.h>
#include <string>
#include <vector>

#include "daemon_support.h"
#include "mosquitto_support.h"
#include "support/net.h"
#include "support/process.h"

namespace vigil::edge::testing {
namespace {

using alerting::testing::RecordedRequest;
using alerting::testing::Reply;
using alerting::testing::TestHttpServer;
using std::chrono::seconds;

constexpr char kRules[] = R"(rules:
  - id: hot
    title: Hot sensor
    severity: high
    key: [device]
    where: 'temp > 50'
    output: '{{ device }} at {{ temp }}'
)";

std::string Reading(int i, int temp) {
  return R"({"ts":"2026-01-01T00:00:)" + std::string(i < 10 ? "0" : "") + std::to_string(i) +
         R"(Z","device":"d)" + std::to_string(i) + R"(","temp":)" + std::to_string(temp) + "}";
}

std::string AlertId(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  return std::string(std::string_view(doc["id"]));
}

std::optional<Exposition> Metrics(int port, std::string* error) {
  HttpReply r = HttpGet(port, "/metrics");
  if (r.status != 200) {
    *error = "GET /metrics: status " + std::to_string(r.status);
    return std::nullopt;
  }
  return ParseExposition(r.body, error);
}

double Metric(int port, const std::string& name, const std::map<std::string, std::string>& labels) {
  std::string error;
  auto m = Metrics(port, &error);
  if (!m) return -1;
  return m->Get(name, labels).value_or(-1);
}

struct Gateway {
  TempDir dir;
  ingest::testing::Mosquitto broker{dir};
  TestHttpServer soc{[](const RecordedRequest&) { return Reply{200, {}, "ok"}; }};
  int http_port = FreePort();
  int grpc_port = FreePort();
  std::string config;

  Gateway() {
    broker.Start();
    dir.Write("rules/sensors.yaml", kRules);
    config = dir.Write("vigil.yaml",
                       "node: {id: gw-test}\n"
                       "state: {dir: " + dir.path() + "/state, checkpoint_interval: 1h, durability: sync}\n"
                       "streams:\n"
                       "  sensors:\n"
                       "    source: {type: mqtt, url: \"" + broker.url() + "\", topics: [\"site/+/temp\"], qos: 1,\n"
                       "             client_id: vigil-daemon-test, clean_start: false}\n"
                       "    format: json\n"
                       "    timestamp: {field: ts, format: rfc3339}\n"
                       "rules: [" + dir.path() + "/rules]\n"
                       "sinks:\n"
                       "  soc: {type: webhook, url: \"" + soc.url() + "\", default: true}\n"
                       "delivery: {retry: {initial: 10ms, max: 100ms}}\n"
                       "api: {http: {listen: \"127.0.0.1:" + std::to_string(http_port) + "\"},\n"
                       "      grpc: {listen: \"127.0.0.1:" + std::to_string(grpc_port) + "\"}}\n"
                       "shutdown: {timeout: 10s}\n");
  }

  // Starts the daemon and waits until it is ready and its MQTT subscription delivers:
  // probe readings (which raise nothing) are published until one is counted.
  std::unique_ptr<DaemonProcess> Start() {
    auto d = std::make_unique<DaemonProcess>(dir, std::vector<std::string>{"run", "--config", config});
    bool ready = Eventually([&] { return HttpGet(http_port, "/readyz").status == 200 || d->Wait(std::chrono::milliseconds(0)); },
                            seconds(30));
    INFO(d->err());
    REQUIRE(ready);
    REQUIRE(HttpGet(http_port, "/readyz").status == 200);
    double before = Metric(http_port, "vigil_events_total", {{"stream", "sensors"}});
    REQUIRE(before >= 0);
    bool subscribed = Eventually(
        [&] {
          broker.Publish("site/0/temp", {Reading(0, 0)}, 1);
          return Metric(http_port, "vigil_events_total", {{"stream", "sensors"}}) > before;
        },
        seconds(30));
    REQUIRE(subscribed);
    return d;
  }

  std::vector<std::string> DeliveredIds() const {
    std::vector<std::string> ids;
    for (const RecordedRequest& r : soc.requests()) ids.push_back(AlertId(r.body));
    return ids;
  }
};

TEST_CASE("daemon: mqtt in, webhook out, SIGTERM exits 0 and a restart resumes without loss", "[daemon]") {
  Gateway gw;
  auto d = gw.Start();
  auto notes = d->notifications();
  CHECK(std::find(notes.begin(), notes.end(), "READY=1") != notes.end());

  std::vector<std::string> first;
  for (int i = 1; i <= 5; ++i) first.push_back(Reading(i, 60 + i));
  gw.broker.Publish("site/1/temp", first, 1);
  REQUIRE(Eventually([&] { return gw.soc.request_count() >= 5; }));
  std::vector<RecordedRequest> reqs = gw.soc.requests();
  std::set<std::string> ids;
  for (const RecordedRequest& r : reqs) {
    std::string id = AlertId(r.body);
    CHECK(r.Header("idempotency-key") == id);
    CHECK_THAT(r.body, Catch::Contains("\"rule\":{\"id\":\"hot\""));
    ids.insert(id);
  }
  CHECK(ids.size() == 5);

  // /metrics: strict Prometheus text, with the figures of what happened.
  std::string error;
  auto m = Metrics(gw.http_port, &error);
  INFO(error);
  REQUIRE(m);
  CHECK(m->types.at("vigil_events_total") == "counter");
  CHECK(m->Get("vigil_alerts_total", {{"rule", "hot"}, {"severity", "high"}}) == 5);
  CHECK(m->Get("vigil_sink_deliveries_total", {{"sink", "soc"}}) == 5);
  CHECK(m->Get("vigil_outbox_depth", {{"sink", "soc"}}) == 0);
  CHECK(m->Get("vigil_events_late_total", {{"stream", "sensors"}}) == 0);
  CHECK(m->Get("vigil_process_resident_memory_bytes").value_or(0) > 1e6);
  CHECK(m->Get("vigil_rule_state_bytes", {{"rule", "hot"}}).has_value());
  CHECK(m->Get("vigil_ready") == 1);
  CHECK(HttpGet(gw.http_port, "/healthz").status == 200);
  CHECK(HttpGet(gw.http_port, "/nope").status == 404);

  // The admin API is served by the daemon: vigil ctl reads its status and rules.
  const std::string server = "127.0.0.1:" + std::to_string(gw.grpc_port);
  vigil::testing::ProcessResult status = vigil::testing::RunVigil({"ctl", "--server", server, "--json", "status"});
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Catch::Contains("gw-test") && Catch::Contains("sensors"));
  vigil::testing::ProcessResult list = vigil::testing::RunVigil({"ctl", "--server", server, "rules", "list"});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("hot"));

  // A crash before any checkpoint: the ingest log still holds the readings, so the restart
  // processes them again and re-delivers their alerts with the same ids.
  d->Signal(SIGKILL);
  REQUIRE(d->Wait(seconds(10)).has_value());
  d = gw.Start();
  REQUIRE(Eventually([&] { return gw.soc.request_count() >= 10; }));
  std::vector<std::string> all = gw.DeliveredIds();
  CHECK(std::set<std::string>(all.begin() + 5, all.begin() + 10) == ids);

  // New readings, then a graceful stop: exit 0 well within shutdown.timeout.
  std::vector<std::string> second;
  for (int i = 6; i <= 8; ++i) second.push_back(Reading(i, 70 + i));
  gw.broker.Publish("site/2/temp", second, 1);
  REQUIRE(Eventually([&] { return gw.soc.request_count() >= 13; }));
  auto stop_started = std::chrono::steady_clock::now();
  d->Signal(SIGTERM);
  std::optional<int> rc = d->Wait(seconds(15));
  INFO(d->err());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  CHECK(std::chrono::steady_clock::now() - stop_started < seconds(12));
  notes = d->notifications();
  CHECK(std::find(notes.begin(), notes.end(), "STOPPING=1") != notes.end());

  // That stop checkpointed everything: the next start re-delivers nothing, and a new
  // reading comes out as the very next alert.
  size_t before = gw.soc.request_count();
  d = gw.Start();
  gw.broker.Publish("site/3/temp", {Reading(9, 99)}, 1);
  REQUIRE(Eventually([&] { return gw.soc.request_count() >= before + 1; }));
  all = gw.DeliveredIds();
  CHECK(all.size() == before + 1);
  std::set<std::string> unique(all.begin(), all.end());
  CHECK(unique.size() == 9);  // 5 + 3 + 1 readings; the repeats carried their ids
  d->Signal(SIGTERM);
  rc = d->Wait(seconds(15));
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
}

TEST_CASE("daemon: a bad config exits 2 naming the file and the key path", "[daemon]") {
  TempDir dir;
  dir.Write("rules/r.yaml", kRules);
  struct Case {
    std::string yaml, expect;
  };
  const std::string base = "state: {dir: " + dir.path() + "/state}\nrules: [" + dir.path() + "/rules]\n";
  std::vector<Case> cases = {
      {base + "streams: {s: {source: {type: stdin}}}\nsinks: {soc: {type: webhook}}\n", "sinks.soc.url"},
      {base + "streams: {s: {source: {type: mqtt, url: \"tcp://127.0.0.1:1\"}}}\n", "streams.s.source.topics"},
      {base + "streams: {s: {source: {type: stdin}, watermark: {max_delay: soon}}}\n", "streams.s.watermark.max_delay"},
      {base + "streams: {s: {source: {type: stdin}}}\nshutdown: {timeout: -1s}\n", "shutdown.timeout"},
      {base + "streams: {s: {source: {type: stdin}}}\nsinkz: {}\n", "sinkz"},
  };
  for (const Case& c : cases) {
    std::string file = dir.Write("bad.yaml", c.yaml);
    vigil::testing::ProcessResult r = vigil::testing::RunVigil({"run", "--config", file});
    INFO(c.yaml << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(file) && Catch::Contains(c.expect));
    CHECK(r.out.empty());
  }
  vigil::testing::ProcessResult missing = vigil::testing::RunVigil({"run", "--config", dir.path() + "/none.yaml"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("none.yaml"));
}

TEST_CASE("daemon: cat file | vigil run ends with exit 0 once stdin is done", "[daemon]") {
  TempDir dir;
  dir.Write("rules/r.yaml", kRules);
  std::string config = dir.Write("vigil.yaml",
                                 "state: {dir: " + dir.path() + "/state}\n"
                                 "streams: {default: {source: {type: stdin}, timestamp: {field: ts}}}\n"
                                 "rules: [" + dir.path() + "/rules]\n"
                                 "sinks: {console: {type: stdout, default: true}}\n"
                                 "api: {http: {listen: \"127.0.0.1:0\"}}\n");
  std::string input;
  for (int i = 1; i <= 6; ++i) input += Reading(i, i % 2 ? 80 : 10) + "\n";
  input += "not json\n";
  vigil::testing::ProcessResult r = vigil::testing::RunProcess({VIGIL_BINARY, "run", "--config", config}, input, 60);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines = vigil::testing::Lines(r.out);
  REQUIRE(lines.size() == 3);  // readings 1, 3 and 5
  for (const std::string& l : lines) CHECK_THAT(l, Catch::Contains("\"rule\":{\"id\":\"hot\""));
  CHECK_THAT(r.err, Catch::Contains("not json") || Catch::Contains("line 7"));

  // More input on the same state continues the stream: the first run's final watermark
  // was not stored, so these are not late.
  vigil::testing::ProcessResult more =
      vigil::testing::RunProcess({VIGIL_BINARY, "run", "--config", config}, Reading(7, 85) + "\n" + Reading(8, 86) + "\n", 60);
  INFO(more.err);
  CHECK(more.exit_code == 0);
  CHECK(vigil::testing::Lines(more.out).size() == 2);
  CHECK_THAT(more.err, Catch::Contains("0 late"));

  SECTION("the embedded default: stdin, rulesets/ and ./vigil-state in the working directory") {
    TempDir cwd;
    cwd.Write("rulesets/r.yaml", kRules);
    vigil::testing::ProcessResult d = vigil::testing::RunProcess({VIGIL_BINARY, "run"}, input, 60, cwd.path());
    INFO(d.err);
    CHECK(d.exit_code == 0);
    CHECK(vigil::testing::Lines(d.out).size() == 3);
  }
}

}  // namespace
}  // namespace vigil::edge::testing
