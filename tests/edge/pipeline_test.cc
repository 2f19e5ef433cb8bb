// The Pipeline that `replay` and `test` share: every decoded event gets the ruleset's shared
// string-predicate scan before the engine sees it, one scan per string field.
#include "vigil/edge/pipeline.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vigil::edge {
namespace {

struct Collect final : AlertHandler {
  std::vector<std::string> alerts;  // "rule key"
  void OnAlert(const alerting::Alert& a) override {
    alerts.push_back(a.rule_id + " " + a.key_json);
  }
};

std::string Event(int second, const std::string& cmd, const std::string& user) {
  return "{\"@timestamp\":\"2026-11-21T10:15:" + std::string(second < 10 ? "0" : "") +
         std::to_string(second) + "Z\",\"process\":{\"command_line\":\"" + cmd +
         "\"},\"user\":{\"name\":\"" + user + "\"}}";
}

}  // namespace

TEST_CASE("pipeline: each event's string fields are scanned once for all rules",
          "[edge][pipeline]") {
  std::string yaml = "rules:\n";
  for (int i = 0; i < 50; ++i) {
    yaml += "  - id: kw-" + std::to_string(i) + "\n    key: [user.name]\n" +
            "    where: 'process.command_line icontains \"tool" + std::to_string(i) + ".exe\"'\n";
  }
  yaml +=
      "  - id: encoded\n    key: [user.name]\n"
      "    where: 'process.command_line matches /-enc [a-z0-9]{6,}/i and user.name != \"svc\"'\n"
      "  - id: admin\n    key: [user.name]\n    where: 'user.name endswith \"-adm\"'\n";
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(yaml, "p.yaml", fields.get(), &diags);
  REQUIRE(diags.empty());
  REQUIRE(rs.predicates->field_count() == 2);
  Collect out;
  PipelineOptions options;
  auto p = Pipeline::Create(std::move(rs), fields, options, &out);
  REQUIRE(p.ok());
  std::string error;
  const std::vector<std::string> events = {
      Event(1, "C:\\\\x\\\\TOOL7.exe -a", "alice"),
      Event(2, "powershell -ENC SQBFAFg", "bob"),
      Event(3, "powershell -enc SQBFAFg", "svc"),
      Event(4, "notepad.exe", "carol-adm"),
  };
  for (size_t i = 0; i < events.size(); ++i) {
    REQUIRE((*p)->Process(events[i], "t", i, &error) == RecordOutcome::kProcessed);
  }
  // A record without the fields is scanned for nothing.
  REQUIRE((*p)->Process("{\"@timestamp\":\"2026-11-21T10:15:05Z\"}", "t", 9, &error) ==
          RecordOutcome::kProcessed);
  (*p)->Finish();
  CHECK(out.alerts == std::vector<std::string>{"kw-7 {\"user.name\":\"alice\"}",
                                               "encoded {\"user.name\":\"bob\"}",
                                               "admin {\"user.name\":\"carol-adm\"}"});
  const rules::PredicateScanStats& st = (*p)->stats().predicates;
  CHECK(st.events == 5);
  CHECK(st.fields_scanned == 8);  // two fields in each of the first four events
  CHECK(st.scan_errors == 0);
  // The 50 keyword rules were not called for the events that matched none of them.
  const cep::Engine& engine = (*p)->engine();
  for (uint32_t r = 0; r < 50; ++r) {
    CHECK(engine.rule_stats(r).events_seen == (r == 7 ? 1u : 0u));
  }
}

TEST_CASE("pipeline: several streams, each with its own decoder, one engine", "[edge][pipeline]") {
  const char* yaml = R"(
rules:
  - id: auth-failure
    stream: auth
    key: [host]
    where: 'app == "sshd" and message startswith "Failed password"'
  - id: any-stream-root
    where: 'user == "root" or message contains "root"'
  - id: sensors-hot
    stream: sensors
    key: [device]
    where: 'temp > 80'
)";
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(yaml, "p.yaml", fields.get(), &diags);
  REQUIRE(diags.empty());
  Collect out;
  PipelineOptions options;
  options.stream = "auth";
  options.format = "syslog";
  options.syslog.year = 2026;
  StreamSettings sensors;
  sensors.stream = "sensors";
  sensors.format = "json";
  sensors.timestamp.fields = {"ts"};
  sensors.timestamp.format = ingest::TimeFormat::kEpochMs;
  sensors.max_delay = 5 * cep::kSecond;
  options.more_streams.push_back(sensors);
  auto p = Pipeline::Create(std::move(rs), fields, options, &out);
  REQUIRE(p.ok());
  REQUIRE((*p)->stream_count() == 2);
  std::string error;
  CHECK((*p)->ProcessStream(0, "Nov 21 10:15:01 gw sshd[7]: Failed password for root from 10.0.0.9 port 22 ssh2", 1, 0, &error) ==
        RecordOutcome::kProcessed);
  CHECK((*p)->ProcessStream(1, R"({"ts": 1795256102000, "device": "d1", "temp": 91, "user": "root"})", 2, 3, &error) ==
        RecordOutcome::kProcessed);
  // A sensors record in the syslog stream is not syslog: malformed there.
  CHECK((*p)->ProcessStream(0, R"({"ts": 1795256102000, "temp": 99})", 3, 0, &error) == RecordOutcome::kMalformed);
  (*p)->Finish();
  // Per event, rules run in rule order.
  CHECK(out.alerts == std::vector<std::string>{"auth-failure {\"host\":\"gw\"}", "any-stream-root {}",
                                               "any-stream-root {}", "sensors-hot {\"device\":\"d1\"}"});
  CHECK((*p)->stats().malformed == 1);
}

TEST_CASE("pipeline: a bad stream setting fails creation with the stream's name", "[edge][pipeline]") {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString("rules: []\n", "p.yaml", fields.get(), &diags);
  Collect out;
  PipelineOptions options;
  StreamSettings bad;
  bad.stream = "local";
  bad.format = "syslog";
  bad.syslog.timezone = "Mars/Olympus";
  options.more_streams.push_back(bad);
  auto p = Pipeline::Create(std::move(rs), fields, options, &out);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "stream local: timezone 'Mars/Olympus' is not UTC or a fixed offset such as +02:00");
  StreamSettings twice;
  options.more_streams = {twice};
  rules::Ruleset rs2 = rules::LoadRulesetFromString("rules: []\n", "p.yaml", fields.get(), &diags);
  auto dup = Pipeline::Create(std::move(rs2), fields, options, &out);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() == "stream 'default' is declared twice");
}

}  // namespace vigil::edge

namespace vigil::edge {
namespace {

std::string Login(int second, const std::string& action, const std::string& user) {
  return "{\"@timestamp\":\"2026-11-21T10:15:" + std::string(second < 10 ? "0" : "") +
         std::to_string(second) + "Z\",\"event\":{\"action\":\"" + action + "\"},\"user\":{\"name\":\"" +
         user + "\"}}";
}

Result<std::unique_ptr<Pipeline>> Reload(Pipeline& p, const std::string& yaml, RulesChange* change) {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(yaml, "reload.yaml", fields.get(), &diags);
  REQUIRE(diags.empty());
  return p.WithRules(std::move(rs), fields, change);
}

const char kBefore[] = R"(
rules:
  - id: fail-then-ok
    key: [user.name]
    within: 1m
    pattern:
      - step: fail
        where: 'event.action == "fail"'
      - step: ok
        where: 'event.action == "ok"'
  - id: two-fails
    key: [user.name]
    where: 'event.action == "fail"'
    threshold: {count: 2, window: 1m}
  - id: goes-away
    key: [user.name]
    where: 'event.action == "fail"'
    threshold: {count: 2, window: 1m}
)";

// `two-fails` now needs three failures; a new rule reads a field the old rules did not.
const char kAfter[] = R"(
rules:
  - id: new-rule
    key: [user.name]
    where: 'event.outcome == "x" or event.action == "ok"'
  - id: fail-then-ok
    key: [user.name]
    within: 1m
    title: retitled, same matching
    pattern:
      - step: fail
        where: 'event.action == "fail"'
      - step: ok
        where: 'event.action == "ok"'
  - id: two-fails
    key: [user.name]
    where: 'event.action == "fail"'
    threshold: {count: 3, window: 1m}
)";

}  // namespace

TEST_CASE("pipeline: a rule reload keeps the state of unchanged rules, mid-pattern",
          "[edge][pipeline][reload]") {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(kBefore, "before.yaml", fields.get(), &diags);
  REQUIRE(diags.empty());
  Collect out;
  PipelineOptions options;
  options.timestamp.fields = {"@timestamp"};
  options.checkpoints = true;
  auto created = Pipeline::Create(std::move(rs), fields, options, &out);
  REQUIRE(created.ok());
  std::unique_ptr<Pipeline> p = std::move(created).value();
  std::string error;
  REQUIRE(p->Process(Login(1, "fail", "alice"), "t", 1, &error) == RecordOutcome::kProcessed);

  RulesChange change;
  auto reloaded = Reload(*p, kAfter, &change);
  REQUIRE(reloaded.ok());
  CHECK(change.added == std::vector<std::string>{"new-rule"});
  CHECK(change.changed == std::vector<std::string>{"two-fails"});
  CHECK(change.unchanged == std::vector<std::string>{"fail-then-ok"});
  CHECK(change.removed == std::vector<std::string>{"goes-away"});
  p = std::move(reloaded).value();

  REQUIRE(p->Process(Login(2, "fail", "alice"), "t", 2, &error) == RecordOutcome::kProcessed);
  REQUIRE(p->Process(Login(3, "ok", "alice"), "t", 3, &error) == RecordOutcome::kProcessed);
  p->Finish();
  // The pattern begun before the reload completes (its first failure was kept); the
  // changed threshold started fresh (two failures, it now needs three); the new rule runs.
  // (Rules emit in rule order for the same event.)
  CHECK(out.alerts == std::vector<std::string>{"new-rule {\"user.name\":\"alice\"}",
                                               "fail-then-ok {\"user.name\":\"alice\"}"});
  CHECK(p->stats().records == 3);
}

TEST_CASE("pipeline: a reload that fails leaves the running pipeline as it was",
          "[edge][pipeline][reload]") {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(kBefore, "before.yaml", fields.get(), &diags);
  Collect out;
  PipelineOptions options;
  options.timestamp.fields = {"@timestamp"};
  auto p = Pipeline::Create(std::move(rs), fields, options, &out);
  REQUIRE(p.ok());
  std::string error;
  REQUIRE((*p)->Process(Login(1, "fail", "bob"), "t", 1, &error) == RecordOutcome::kProcessed);
  auto bad_fields = std::make_shared<cep::FieldRegistry>();
  rules::Ruleset bad = rules::LoadRulesetFromString(kAfter, "after.yaml", bad_fields.get(), &diags);
  bad.rules[0].spec.key_fields.push_back(0);  // key fields and names no longer agree
  RulesChange change;
  CHECK_FALSE((*p)->WithRules(std::move(bad), bad_fields, &change).ok());
  REQUIRE((*p)->Process(Login(2, "ok", "bob"), "t", 2, &error) == RecordOutcome::kProcessed);
  (*p)->Finish();
  CHECK(out.alerts == std::vector<std::string>{"fail-then-ok {\"user.name\":\"bob\"}"});
}

}  // namespace vigil::edge
