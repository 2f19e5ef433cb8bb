#include "vigil/edge/rule_tests.h"

#include <simdjson.h>

#include <algorithm>
#include <map>

#include "vigil/edge/pipeline.h"
#include "vigil/ingest/decoder.h"

namespace vigil::edge {

namespace {

struct ActualAlert {
  std::map<std::string, std::string> key;  // field → compact JSON value
  std::string key_json;
  std::vector<size_t> events;  // 1-based positions
};

class Collector final : public AlertHandler {
 public:
  explicit Collector(size_t event_count) {
    for (size_t i = 0; i < event_count; ++i) positions_[ingest::EventIdentity("test", i)] = i + 1;
  }
  void OnAlert(const alerting::Alert& alert) override {
    ActualAlert a;
    a.key_json = alert.key_json;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (!parser.parse(alert.key_json).get(obj)) {
      for (auto [k, v] : obj) a.key[std::string(k)] = simdjson::minify(v);
    }
    for (uint64_t id : alert.event_identities) {
      auto it = positions_.find(id);
      a.events.push_back(it == positions_.end() ? 0 : it->second);
    }
    alerts.push_back(std::move(a));
  }
  std::vector<ActualAlert> alerts;

 private:
  std::map<uint64_t, size_t> positions_;
};

std::string Positions(const std::vector<size_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string Describe(const rules::RuleTest::ExpectedAlert& e) {
  std::string s = "{key: ";
  if (e.key.empty()) {
    s += "any";
  } else {
    s += "{";
    for (size_t i = 0; i < e.key.size(); ++i) {
      s += (i ? ", " : "") + e.key[i].first + ": " + e.key[i].second;
    }
    s += "}";
  }
  s += ", events: " + (e.events.empty() ? std::string("any") : Positions(e.events)) + "}";
  return s;
}

std::string Describe(const ActualAlert& a) {
  return "{key: " + a.key_json + ", events: " + Positions(a.events) + "}";
}

bool Matches(const rules::RuleTest::ExpectedAlert& e, const ActualAlert& a) {
  for (const auto& [field, value] : e.key) {
    auto it = a.key.find(field);
    if (it == a.key.end() || it->second != value) return false;
  }
  return e.events.empty() || e.events == a.events;
}

}  // namespace

RuleTestResult RunRuleTest(const rules::Rule& rule, const rules::RuleTest& test,
                           const rules::Ruleset& ruleset,
                           const std::shared_ptr<cep::FieldRegistry>& fields) {
  RuleTestResult result;
  rules::Ruleset one;
  one.rules.push_back(rule);
  one.rules.back().enabled = true;  // a disabled rule's tests still run: they test its logic
  // The rule's string predicates read bits of the scanner it was compiled with.
  one.predicates = ruleset.predicates;
  Collector collector(test.events.size());
  PipelineOptions options;
  options.stream = rule.stream.empty() ? "default" : rule.stream;
  auto pipeline = Pipeline::Create(std::move(one), fields, options, &collector);
  if (!pipeline.ok()) {
    result.detail = pipeline.status().message();
    return result;
  }
  std::string problems;
  for (size_t i = 0; i < test.events.size(); ++i) {
    std::string error;
    switch ((*pipeline)->Process(test.events[i], "test", i, &error)) {
      case RecordOutcome::kMalformed:
      case RecordOutcome::kNoTime:
        problems += "\n  event " + std::to_string(i + 1) + ": " + error;
        break;
      case RecordOutcome::kLate:
        problems += "\n  event " + std::to_string(i + 1) + ": late (older than the watermark), not matched";
        break;
      default: break;
    }
  }
  (*pipeline)->Finish();
  const auto& actual = collector.alerts;
  bool ok = test.expect_count && *test.expect_count == actual.size();
  std::vector<bool> used(actual.size(), false);
  std::vector<std::string> missing;
  for (const auto& e : test.expect_alerts) {
    bool found = false;
    for (size_t i = 0; i < actual.size() && !found; ++i) {
      if (!used[i] && Matches(e, actual[i])) used[i] = found = true;
    }
    if (!found) {
      ok = false;
      missing.push_back(Describe(e));
    }
  }
  if (!problems.empty() && ok) {
    // Events the engine could not use make a test meaningless even if the count agrees.
    ok = false;
  }
  result.passed = ok;
  if (ok) return result;
  size_t want = test.expect_count.value_or(0);
  std::string& d = result.detail;
  d = "  expected " + std::to_string(want) + " alert" + (want == 1 ? "" : "s") + ", got " +
      std::to_string(actual.size());
  for (const auto& e : test.expect_alerts) d += "\n  expected: " + Describe(e);
  for (const auto& a : actual) d += "\n  actual:   " + Describe(a);
  for (const auto& m : missing) d += "\n  no alert matched " + m;
  d += problems;
  return result;
}

}  // namespace vigil::edge
