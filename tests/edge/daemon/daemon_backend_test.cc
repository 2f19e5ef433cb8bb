// The daemon in-process, through the AdminBackend the gRPC services use: pushes into
// `grpc` streams, alerts (recent and live), status, checkpoints, health, rules; and idle
// partitions with an injected clock.
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon_support.h"
#include "support/process.h"
#include "run/daemon.h"

namespace vigil::edge::testing {
namespace {

using std::chrono::seconds;

constexpr char kRules[] = R"(rules:
  - id: hot
    title: Hot sensor
    severity: high
    stream: a
    key: [device]
    where: 'temp > 50'
  - id: cold
    title: Cold sensor
    severity: low
    key: [device]
    where: 'temp < -20'
  - id: burst
    title: Two overheats within an hour
    severity: critical
    key: [device]
    where: 'temp > 100'
    threshold: {count: 2, window: 1h}
)";

const cep::Timestamp kStart = 1767225600 * cep::kSecond;  // 2026-01-01T00:00:00Z

std::string Reading(int second, const std::string& device, int temp) {
  char buf[160];
  std::snprintf(buf, sizeof buf, R"({"ts":"2026-01-01T00:%02d:%02dZ","device":"%s","temp":%d})", second / 60,
                second % 60, device.c_str(), temp);
  return buf;
}

// A daemon with two `grpc` streams (a, b) whose partitions go idle after 10 s of the
// injected clock, running on a thread of its own.
struct Harness {
  TempDir dir;
  cep::ManualClock clock{kStart};
  std::unique_ptr<Daemon> daemon;
  std::thread runner;
  int exit_code = -1;
  std::vector<std::string> log;
  std::mutex log_mu;

  std::string root;  // where state, rules and the alerts file live

  // `at`: the root of an earlier harness, to start again on its state.
  // `state_extra`: more keys of the state section (", max_memory: 1").
  explicit Harness(const std::string& at = "", const std::string& state_extra = "")
      : root(at.empty() ? dir.path() : at) {
    if (at.empty()) dir.Write("rules/r.yaml", kRules);
    std::string yaml =
        "node: {id: test-node}\n"
        "state: {dir: " + root + "/state, checkpoint_interval: 1h, durability: buffered" + state_extra + "}\n"
        "streams:\n"
        "  a: {source: {type: grpc}, timestamp: {field: ts}, watermark: {idle: 10s}, late: \"sink:out\"}\n"
        "  b: {source: {type: grpc}, timestamp: {field: ts}, watermark: {idle: 10s}}\n"
        "  f: {source: {type: file, path: " + root + "/none.log}}\n"
        "rules: [" + root + "/rules]\n"
        "sinks: {out: {type: file, path: " + root + "/alerts.jsonl, default: true}}\n"
        "api: {http: {listen: \"127.0.0.1:0\"}, grpc: {listen: \"127.0.0.1:0\"}}\n";
    auto config = LoadConfigString(yaml, "test.yaml");
    INFO((config.ok() ? "" : config.status().message()));
    REQUIRE(config.ok());
    DaemonOptions options;
    options.clock = &clock;
    options.version = "test";
    options.notify = [](const std::string&) {};
    options.log = [this](ingest::LogLevel, const std::string& m) {
      std::lock_guard<std::mutex> lock(log_mu);
      log.push_back(m);
    };
    auto d = Daemon::Create(std::move(config).value(), std::move(options));
    INFO((d.ok() ? "" : d.status().message()));
    REQUIRE(d.ok());
    daemon = std::move(d).value();
    REQUIRE(daemon->Start().ok());
    runner = std::thread([this] { exit_code = daemon->Run(); });
  }
  ~Harness() { Stop(); }
  int Stop() {
    if (runner.joinable()) {
      daemon->RequestStop();
      runner.join();
    }
    return exit_code;
  }
  uint64_t Events(const std::string& stream) {
    v1::StatusResponse st = daemon->Status();
    for (const auto& s : st.streams()) {
      if (s.name() == stream) return s.events();
    }
    return 0;
  }
};

TEST_CASE("daemon backend: pushed events raise alerts, seen by Recent and Tail", "[daemon]") {
  Harness h;
  REQUIRE(h.daemon->Health().ready());
  auto tail = h.daemon->SubscribeAlerts(v1::AlertFilter(), 10);
  v1::AlertFilter only_hot;
  only_hot.add_rule_ids("hot");
  auto hot_tail = h.daemon->SubscribeAlerts(only_hot, 10);

  auto pos = h.daemon->Publish("a", {Reading(1, "d1", 70), Reading(2, "d2", 10), Reading(3, "d3", -30)});
  INFO((pos.ok() ? "" : pos.status().message()));
  REQUIRE(pos.ok());
  REQUIRE(Eventually([&] { return h.daemon->RecentAlerts(v1::AlertFilter(), 10).size() == 2; }));
  std::vector<v1::Alert> recent = h.daemon->RecentAlerts(v1::AlertFilter(), 10);
  CHECK(recent[0].rule_id() == "hot");
  CHECK(recent[0].severity() == "high");
  CHECK(recent[0].key_json() == R"({"device":"d1"})");
  CHECK(recent[1].rule_id() == "cold");
  v1::AlertFilter high;
  high.set_min_severity("medium");
  CHECK(h.daemon->RecentAlerts(high, 10).size() == 1);
  CHECK(h.daemon->RecentAlerts(v1::AlertFilter(), 1).at(0).rule_id() == "cold");

  v1::Alert a;
  bool stopping = false;
  REQUIRE(tail->Next(&a, 5000, &stopping));
  CHECK(a.rule_id() == "hot");
  REQUIRE(tail->Next(&a, 5000, &stopping));
  CHECK(a.rule_id() == "cold");
  REQUIRE(hot_tail->Next(&a, 5000, &stopping));
  CHECK(a.rule_id() == "hot");
  CHECK_FALSE(hot_tail->Next(&a, 0, &stopping));  // nothing more passes its filter
  CHECK_FALSE(stopping);

  // The file sink got them through the outbox.
  REQUIRE(Eventually([&] { return vigil::testing::Lines(ReadFile(h.root + "/alerts.jsonl")).size() == 2; }));

  v1::StatusResponse st = h.daemon->Status();
  CHECK(st.node_id() == "test-node");
  CHECK(st.version() == "test");
  REQUIRE(st.streams_size() == 3);
  CHECK(st.streams(0).name() == "a");
  CHECK(st.streams(0).source_type() == "grpc");
  CHECK(st.streams(0).events() == 3);
  CHECK(st.streams(0).watermark_unix_nano() == kStart + 3 * cep::kSecond);
  REQUIRE(st.sinks_size() == 1);
  CHECK(st.sinks(0).name() == "out");
  CHECK(st.sinks(0).type() == "file");
  CHECK(st.sinks(0).delivered() == 2);
  CHECK(st.rss_bytes() > 0);
  bool found_hot = false;
  for (const auto& r : st.rules()) {
    if (r.id() == "hot") {
      found_hot = true;
      CHECK(r.alerts() == 1);
    }
  }
  CHECK(found_hot);

  // Publishing where it cannot go.
  CHECK(h.daemon->Publish("nope", {"{}"}).status().code() == vigil::Status::Code::kNotFound);
  auto wrong = h.daemon->Publish("f", {"{}"});
  CHECK(wrong.status().code() == vigil::Status::Code::kInvalidArgument);
  CHECK_THAT(wrong.status().message(), Catch::Contains("file"));

  CHECK(h.Stop() == 0);
  REQUIRE_FALSE(tail->Next(&a, 1000, &stopping));
  CHECK(stopping);
}

TEST_CASE("daemon backend: checkpoints on request, and a restart resumes after them", "[daemon]") {
  TempDir keep;
  std::string root;
  {
    Harness h;
    root = h.root;
    REQUIRE(h.daemon->Publish("a", {Reading(1, "d1", 70)}).ok());
    REQUIRE(Eventually([&] { return h.Events("a") == 1; }));
    auto c1 = h.daemon->Checkpoint();
    REQUIRE(c1.ok());
    CHECK(c1->checkpoint() == 1);
    CHECK(c1->bytes() > 0);
    auto c2 = h.daemon->Checkpoint();
    REQUIRE(c2.ok());
    CHECK(c2->checkpoint() == 2);
    v1::StatusResponse st = h.daemon->Status();
    CHECK(st.checkpoints() == 2);
    REQUIRE(h.daemon->Publish("a", {Reading(2, "d2", 71)}).ok());
    REQUIRE(Eventually([&] { return h.Events("a") == 2; }));
    CHECK(h.Stop() == 0);
    CHECK(h.daemon->Checkpoint().status().code() == vigil::Status::Code::kUnavailable);
    CHECK_FALSE(h.daemon->Health().ready());
    CHECK(vigil::testing::Lines(ReadFile(root + "/alerts.jsonl")).size() == 2);
    // The harness's folder goes with it: move its content somewhere that stays.
    std::rename(root.c_str(), (keep.path() + "/gw").c_str());
    root = keep.path() + "/gw";
    std::rename((root + "/alerts.jsonl").c_str(), (root + "/first.jsonl").c_str());
  }
  // The stop checkpointed and delivered everything: a daemon on the same state raises
  // and sends nothing again, and takes new events after the old ones.
  {
    Harness again(root);
    REQUIRE(again.daemon->Publish("a", {Reading(3, "d3", 72)}).ok());
    REQUIRE(Eventually([&] { return again.daemon->RecentAlerts(v1::AlertFilter(), 10).size() == 1; }));
    REQUIRE(Eventually([&] { return vigil::testing::Lines(ReadFile(root + "/alerts.jsonl")).size() == 1; }));
    CHECK_THAT(ReadFile(root + "/alerts.jsonl"), Catch::Contains("\"d3\""));
    CHECK(again.Stop() == 0);
  }
}

TEST_CASE("daemon backend: a silent partition goes idle on the daemon's clock and stops holding the watermark", "[daemon]") {
  Harness h;
  // b's one reading holds the watermark at 00:00:00 ...
  REQUIRE(h.daemon->Publish("b", {Reading(0, "x", 0)}).ok());
  REQUIRE(Eventually([&] { return h.Events("b") == 1; }));
  h.clock.Advance(5 * cep::kSecond);
  // ... so a's hot reading at 00:01:40 waits in the reorder buffer.
  REQUIRE(h.daemon->Publish("a", {Reading(100, "d1", 90)}).ok());
  REQUIRE(Eventually([&] { return h.Events("a") == 1; }));
  h.clock.Advance(4 * cep::kSecond);  // b silent for 9 s: not idle yet
  h.daemon->Wake();
  CHECK(h.Events("a") == 1);  // a pipeline round trip after the wake
  CHECK(h.daemon->RecentAlerts(v1::AlertFilter(), 10).empty());
  h.clock.Advance(1 * cep::kSecond);  // 10 s: b is idle, a alone sets the watermark
  h.daemon->Wake();
  REQUIRE(Eventually([&] { return h.daemon->RecentAlerts(v1::AlertFilter(), 10).size() == 1; }));
  CHECK(h.daemon->RecentAlerts(v1::AlertFilter(), 10)[0].rule_id() == "hot");
}

TEST_CASE("daemon backend: late events go to the stream's late sink, not to the rules", "[daemon]") {
  Harness h;
  REQUIRE(h.daemon->Publish("a", {Reading(10, "d1", 20), Reading(5, "d2", 99)}).ok());
  REQUIRE(Eventually([&] { return vigil::testing::Lines(ReadFile(h.root + "/alerts.jsonl")).size() == 1; }));
  std::string line = ReadFile(h.root + "/alerts.jsonl");
  CHECK_THAT(line, Catch::Contains(R"("rule":{"id":"vigil.late-event")") &&
                       Catch::Contains(R"("event":{"ts":"2026-01-01T00:00:05Z","device":"d2","temp":99})"));
  CHECK(h.daemon->RecentAlerts(v1::AlertFilter(), 10).empty());  // the hot rule never saw it
  v1::StatusResponse st = h.daemon->Status();
  CHECK(st.streams(0).late() == 1);
}

TEST_CASE("daemon backend: the packaged and the demo configurations load", "[daemon]") {
  for (const char* file : {"/edge/packaging/vigil.yaml", "/examples/demo.yaml"}) {
    auto c = LoadConfigFile(std::string(VIGIL_SOURCE_DIR) + file);
    INFO(file << ": " << (c.ok() ? "" : c.status().message()));
    CHECK(c.ok());
  }
}

TEST_CASE("daemon backend: rules are listed, fetched and validated", "[daemon]") {
  Harness h;
  std::vector<v1::Rule> rules = h.daemon->ListRules();
  REQUIRE(rules.size() == 3);
  CHECK(rules[0].id() == "hot");
  CHECK(rules[0].kind() == "single_event");
  CHECK(rules[0].stream() == "a");
  CHECK(rules[0].severity() == "high");
  CHECK(rules[0].key_size() == 1);
  CHECK(rules[0].enabled());
  CHECK(rules[0].yaml().empty());
  CHECK(rules[2].kind() == "threshold");
  CHECK_THAT(rules[0].source_file(), Catch::EndsWith("rules/r.yaml"));

  auto hot = h.daemon->GetRule("hot");
  REQUIRE(hot.ok());
  CHECK_THAT(hot->yaml(), Catch::Contains("id: hot") && Catch::Contains("temp > 50") &&
                              !Catch::Contains("id: cold"));
  auto cold = h.daemon->GetRule("cold");
  REQUIRE(cold.ok());
  CHECK_THAT(cold->yaml(), Catch::Contains("temp < -20") && !Catch::Contains("id: hot") &&
                               !Catch::Contains("id: burst"));
  CHECK(h.daemon->GetRule("nope").status().code() == vigil::Status::Code::kNotFound);

  v1::ValidateRulesResponse ok = h.daemon->ValidateRules(
      "rules:\n  - id: warm\n    title: Warm\n    severity: low\n    where: 'temp > 30'\n", "doc");
  CHECK(ok.valid());
  REQUIRE(ok.rule_ids_size() == 1);
  CHECK(ok.rule_ids(0) == "warm");
  v1::ValidateRulesResponse bad = h.daemon->ValidateRules(
      "rules:\n  - id: warm\n    title: Warm\n    severity: loud\n    where: 'temp > 30'\n", "doc");
  CHECK_FALSE(bad.valid());
  REQUIRE(bad.errors_size() >= 1);
  CHECK(bad.errors(0).position().file() == "doc");
  CHECK(bad.errors(0).position().line() == 4);
  CHECK_THAT(bad.errors(0).text(), Catch::StartsWith("doc:4:"));
  v1::ValidateRulesResponse unknown_sink = h.daemon->ValidateRules(
      "rules:\n  - id: warm\n    title: Warm\n    severity: low\n    sinks: [pager]\n    where: 'temp > 30'\n", "doc");
  CHECK_FALSE(unknown_sink.valid());
  CHECK_THAT(unknown_sink.errors(0).text(), Catch::Contains("pager"));
}

bool Logged(Harness& h, const std::string& text) {
  std::lock_guard<std::mutex> lock(h.log_mu);
  for (const std::string& m : h.log) {
    if (m.find(text) != std::string::npos) return true;
  }
  return false;
}

// Publishes to stream a and waits until the pipeline has processed them (so every alert
// they raise is in the feed).
void Feed(Harness& h, const std::vector<std::string>& records) {
  uint64_t before = h.Events("a");
  REQUIRE(h.daemon->Publish("a", records).ok());
  REQUIRE(Eventually([&] { return h.Events("a") == before + records.size(); }));
}

size_t AlertsOf(Harness& h, const std::string& rule) {
  v1::AlertFilter f;
  f.add_rule_ids(rule);
  return h.daemon->RecentAlerts(f, 100).size();
}

TEST_CASE("daemon backend: rules applied, disabled and deleted while running, unchanged rules keeping their state", "[daemon]") {
  Harness h;
  // One overheat on b: the burst threshold holds a window for x.
  Feed(h, {Reading(1, "x", 150)});

  const std::string warm = "rules:\n  - id: warm\n    title: Warm\n    severity: low\n    stream: a\n    key: [device]\n    where: 'temp > 30'\n";
  auto applied = h.daemon->ApplyRules(warm, "extra");
  INFO((applied.ok() ? "" : applied.status().message()));
  REQUIRE(applied.ok());
  REQUIRE(applied->added_size() == 1);
  CHECK(applied->added(0) == "warm");
  CHECK(applied->unchanged_size() == 3);
  CHECK(applied->changed_size() == 0);
  REQUIRE(h.daemon->ListRules().size() == 4);
  CHECK(h.daemon->GetRule("warm")->source_file() == "api:extra");
  CHECK_THAT(h.daemon->GetRule("warm")->yaml(), Catch::Contains("temp > 30"));

  // The second overheat completes the window that was open before the change (and is
  // warm too).
  Feed(h, {Reading(2, "x", 160)});
  CHECK(AlertsOf(h, "burst") == 1);
  CHECK(AlertsOf(h, "warm") == 1);
  Feed(h, {Reading(3, "d1", 40)});
  CHECK(AlertsOf(h, "warm") == 2);

  // The same document again, changed: warm starts fresh.
  auto changed = h.daemon->ApplyRules(
      "rules:\n  - id: warm\n    title: Warm\n    severity: low\n    stream: a\n    key: [device]\n    where: 'temp > 35'\n",
      "extra");
  REQUIRE(changed.ok());
  REQUIRE(changed->changed_size() == 1);
  CHECK(changed->changed(0) == "warm");

  // A document that does not load changes nothing.
  auto invalid = h.daemon->ApplyRules("rules:\n  - id: [\n", "extra");
  CHECK(invalid.status().code() == vigil::Status::Code::kInvalidArgument);
  CHECK_THAT(invalid.status().message(), Catch::StartsWith("api:extra:"));
  auto duplicate = h.daemon->ApplyRules(
      "rules:\n  - id: hot\n    title: Again\n    severity: low\n    where: 'temp > 1'\n", "dup");
  CHECK(duplicate.status().code() == vigil::Status::Code::kInvalidArgument);
  CHECK_THAT(duplicate.status().message(), Catch::Contains("duplicate rule id 'hot'"));
  CHECK(h.daemon->ListRules().size() == 4);
  CHECK(h.daemon->ApplyRules("rules: []\n", "../etc").status().code() == vigil::Status::Code::kInvalidArgument);

  // Disabled: loaded, listed, not matched.
  const size_t hot_before = AlertsOf(h, "hot");
  REQUIRE(h.daemon->SetRuleEnabled("hot", false).ok());
  CHECK_FALSE(h.daemon->GetRule("hot")->enabled());
  Feed(h, {Reading(4, "d2", 90)});
  CHECK(AlertsOf(h, "warm") == 3);  // warm still runs
  CHECK(AlertsOf(h, "hot") == hot_before);
  REQUIRE(h.daemon->SetRuleEnabled("hot", true).ok());
  Feed(h, {Reading(5, "d3", 91)});
  CHECK(AlertsOf(h, "hot") == hot_before + 1);
  CHECK(hot_before == 2);
  CHECK(AlertsOf(h, "warm") == 4);

  CHECK(h.daemon->DeleteRule("nope").code() == vigil::Status::Code::kNotFound);
  REQUIRE(h.daemon->DeleteRule("warm").ok());
  CHECK(h.daemon->ListRules().size() == 3);
  CHECK(h.daemon->GetRule("warm").status().code() == vigil::Status::Code::kNotFound);

  // SIGHUP's path: the rule files are read again.
  h.dir.Write("rules/more.yaml", "rules:\n  - id: freezing\n    title: Freezing\n    severity: medium\n    key: [device]\n    where: 'temp < 0'\n");
  h.daemon->RequestReload();
  REQUIRE(Eventually([&] { return Logged(h, "rules reloaded: 1 added"); }));
  Feed(h, {Reading(6, "d4", -5)});
  CHECK(AlertsOf(h, "freezing") == 1);
  // A broken file: the reload is refused, logged, and the running rules stay.
  h.dir.Write("rules/broken.yaml", "rules:\n  - id: [\n");
  h.daemon->RequestReload();
  REQUIRE(Eventually([&] { return Logged(h, "rules not reloaded"); }));
  CHECK(h.daemon->ListRules().size() == 4);
  CHECK(h.Stop() == 0);
}

TEST_CASE("daemon backend: under a tiny state.max_memory keys are evicted, and come back for events and reloads", "[daemon][eviction]") {
  TempDir keep;
  const std::string root = keep.path() + "/gw";
  {
    Harness h("", ", max_memory: 1");
    // Overheats open a burst window per device; every batch past the (one-byte) budget
    // checkpoints and evicts them.
    std::vector<std::string> readings;
    for (int i = 0; i < 40; ++i) readings.push_back(Reading(1, "dev" + std::to_string(i), 150));
    Feed(h, readings);
    Feed(h, {Reading(2, "other", 10)});  // another batch: the devices' windows go
    auto metric = [&](const char* name) {
      std::string error;
      auto m = ParseExposition(HttpGet(h.daemon->http_port(), "/metrics").body, &error);
      REQUIRE(m);
      return m->Get(name).value_or(-1);
    };
    REQUIRE(Eventually([&] { return metric("vigil_state_evictions_total") >= 40; }));
    CHECK(metric("vigil_state_memory_limit_bytes") == 1);
    // Second overheats of half the devices complete their windows: loaded back for them.
    readings.clear();
    for (int i = 0; i < 20; ++i) readings.push_back(Reading(2, "dev" + std::to_string(i), 160));
    Feed(h, readings);
    CHECK(AlertsOf(h, "burst") == 20);
    CHECK(metric("vigil_state_loads_total") >= 20);
    // A reload while keys are evicted: the new rules' engine restores from the store.
    auto applied = h.daemon->ApplyRules(
        "rules:\n  - id: warm\n    title: Warm\n    severity: low\n    stream: a\n    key: [device]\n    where: 'temp > 30'\n",
        "extra");
    INFO((applied.ok() ? "" : applied.status().message()));
    REQUIRE(applied.ok());
    CHECK(applied->unchanged_size() == 3);
    // The other half's windows came through the reload.
    readings.clear();
    for (int i = 20; i < 40; ++i) readings.push_back(Reading(3, "dev" + std::to_string(i), 160));
    Feed(h, readings);
    CHECK(AlertsOf(h, "burst") == 40);
    CHECK(metric("vigil_state_load_errors_total") == 0);
    // Windows opened again, evicted, then a restart: still there.
    readings.clear();
    for (int i = 0; i < 40; ++i) readings.push_back(Reading(4, "dev" + std::to_string(i), 170));
    Feed(h, readings);
    Feed(h, {Reading(5, "other", 10)});
    CHECK(h.Stop() == 0);
    std::rename(h.root.c_str(), root.c_str());
  }
  Harness again(root, ", max_memory: 1");
  std::vector<std::string> readings;
  for (int i = 0; i < 40; ++i) readings.push_back(Reading(6, "dev" + std::to_string(i), 180));
  Feed(again, readings);
  CHECK(AlertsOf(again, "burst") == 40);  // the windows of the first run's last readings
}

TEST_CASE("daemon backend: keyed state and applied rules survive a restart", "[daemon]") {
  TempDir keep;
  std::string root = keep.path() + "/gw";
  {
    Harness h;
    Feed(h, {Reading(1, "x", 150)});
    REQUIRE(h.daemon->ApplyRules("rules:\n  - id: warm\n    title: Warm\n    severity: low\n    stream: a\n    where: 'temp > 30'\n", "extra").ok());
    REQUIRE(h.daemon->SetRuleEnabled("cold", false).ok());
    CHECK(h.Stop() == 0);
    std::rename(h.root.c_str(), root.c_str());
  }
  Harness again(root);
  CHECK(again.daemon->ListRules().size() == 4);
  CHECK_FALSE(again.daemon->GetRule("cold")->enabled());
  Feed(again, {Reading(2, "x", 160)});
  CHECK(AlertsOf(again, "burst") == 1);  // the window was restored
  CHECK(AlertsOf(again, "warm") == 1);   // 160 is warm too
  Feed(again, {Reading(3, "d1", 40)});
  CHECK(AlertsOf(again, "warm") == 2);
  CHECK(AlertsOf(again, "cold") == 0);
}

TEST_CASE("daemon backend: /metrics, /healthz and /readyz over HTTP", "[daemon]") {
  Harness h;
  REQUIRE(h.daemon->Publish("a", {Reading(1, "d1", 70), "not json"}).ok());
  REQUIRE(Eventually([&] { return h.daemon->RecentAlerts(v1::AlertFilter(), 10).size() == 1; }));
  int port = h.daemon->http_port();
  REQUIRE(port > 0);
  // The alert comes from the first record; the second ("not json") may still be on its way
  // to the dead letters.
  HttpReply r;
  std::string error;
  std::optional<Exposition> m;
  Eventually([&] {
    r = HttpGet(port, "/metrics");
    m = ParseExposition(r.body, &error);
    return m && m->Get("vigil_events_dead_lettered_total", {{"stream", "a"}}) == 1;
  });
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  INFO(error << "\n" << r.body);
  REQUIRE(m);
  CHECK(m->Get("vigil_events_total", {{"stream", "a"}}) == 1);
  CHECK(m->Get("vigil_events_dead_lettered_total", {{"stream", "a"}}) == 1);
  CHECK(m->Get("vigil_alerts_total", {{"rule", "hot"}, {"severity", "high"}}).has_value());
  CHECK(m->Get("vigil_checkpoints_total") == 0);
  CHECK(m->types.at("vigil_outbox_depth") == "gauge");
  CHECK(HttpGet(port, "/healthz").status == 200);
  CHECK(HttpGet(port, "/readyz").status == 200);
  CHECK(HttpGet(port, "/other").status == 404);
}

TEST_CASE("daemon support: the Prometheus parser refuses what is not text format 0.0.4", "[daemon]") {
  std::string error;
  CHECK(ParseExposition("# TYPE a counter\na 1\n", &error));
  CHECK(ParseExposition("# TYPE a gauge\na{x=\"1\",y=\"q\\\"\\\\\\n\"} NaN\n", &error));
  for (const char* bad : {"a 1\n", "# TYPE a counter\na 1", "# TYPE a counter\na{x=1} 1\n",
                          "# TYPE a counter\na one\n", "# TYPE a counter\n# TYPE a gauge\na 1\n",
                          "# TYPE a counter\na{x=\"\\t\"} 1\n", "# TYPE 1a counter\n",
                          "# TYPE a counter\na 1\na 2\n", "# TYPE a counter\n\na 1\n"}) {
    INFO(bad);
    CHECK_FALSE(ParseExposition(bad, &error));
  }
}

}  // namespace
}  // namespace vigil::edge::testing
