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

}  // namespace vigil::edge
