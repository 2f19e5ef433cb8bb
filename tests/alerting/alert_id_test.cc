// Alert ids: deterministic, 32 hex digits, and a function of the rule, the key, the alert
// time and the matched events' identities and steps, nothing else.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "alert_support.h"

namespace vigil::alerting::testing {
namespace {

constexpr char kRaw[] = R"({"@timestamp":"2026-11-21T10:15:02Z","source":{"ip":"10.0.0.9"}})";

struct IdFixture {
  std::string key = Key({cep::Value::String("10.0.0.9")});
  cep::EventPtr e1 = MakeEvent(kRaw, kT - cep::kSecond, 101);
  cep::EventPtr e2 = MakeEvent(kRaw, kT, 102);

  cep::Match Base() const { return MakeMatch(key, {{"fail", e1}, {"success", e2}}); }
};

bool IsHex32(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_CASE("alert id: 32 lowercase hex digits, the same for the same input", "[alerting][id]") {
  IdFixture f;
  std::string id = AlertId("rule", f.Base());
  CHECK(IsHex32(id));
  CHECK(AlertId("rule", f.Base()) == id);
  // Equal inputs built separately (other Event objects, same identities) give the same id.
  auto c1 = MakeEvent(kRaw, kT - cep::kSecond, 101);
  auto c2 = MakeEvent(kRaw, kT, 102);
  CHECK(AlertId("rule", MakeMatch(Key({cep::Value::String("10.0.0.9")}),
                                  {{"fail", c1}, {"success", c2}})) == id);
}

TEST_CASE("alert id: known values do not change between versions", "[alerting][id]") {
  // A changed id makes receivers and the outbox see re-deliveries as new alerts. The values
  // are the first 16 bytes of SHA-256 over: rule id, NUL, key length (u64 little-endian), key,
  // time (u64), then per event: step, NUL, identity (u64); checked with Python's hashlib.
  CHECK(AlertId("", cep::Match()) == "0a88111852095cae045340ea1f0b2799");
  cep::Match m;
  m.key = "k";
  m.time = kT;
  m.events.push_back({"match", MakeEvent(kRaw, kT, 42)});
  CHECK(AlertId("ssh-bruteforce", m) == "2ccd681c23bfb0490c54600f0f2abd79");
}

TEST_CASE("alert id: the builder's id is AlertId of the rule and match", "[alerting][id]") {
  IdFixture f;
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  RuleInfo rule = MakeRule("rule");
  Alert a = builder.Build(f.Base(), rule, "summary");
  CHECK(a.id == AlertId("rule", f.Base()));
  CHECK(ParsedAlert(a.json).str("/id") == a.id);
}

TEST_CASE("alert id: changes with the rule, key, time, events and steps", "[alerting][id]") {
  IdFixture f;
  const std::string base = AlertId("rule", f.Base());

  SECTION("rule id") {
    CHECK(AlertId("rule2", f.Base()) != base);
    CHECK(AlertId("Rule", f.Base()) != base);
  }
  SECTION("key") {
    cep::Match m = f.Base();
    m.key = Key({cep::Value::String("10.0.0.8")});
    CHECK(AlertId("rule", m) != base);
    m.key = Key({cep::Value::Int(10)});
    CHECK(AlertId("rule", m) != base);
    m.key.clear();
    CHECK(AlertId("rule", m) != base);
  }
  SECTION("an event's identity") {
    auto other = MakeEvent(kRaw, kT, 103);
    CHECK(AlertId("rule", MakeMatch(f.key, {{"fail", f.e1}, {"success", other}})) != base);
  }
  SECTION("a step name") {
    CHECK(AlertId("rule", MakeMatch(f.key, {{"fail", f.e1}, {"ok", f.e2}})) != base);
    CHECK(AlertId("rule", MakeMatch(f.key, {{"match", f.e1}, {"success", f.e2}})) != base);
  }
  SECTION("the order of the events") {
    cep::Match m = MakeMatch(f.key, {{"success", f.e2}, {"fail", f.e1}});
    m.time = f.Base().time;
    CHECK(AlertId("rule", m) != base);
  }
  SECTION("one event more or less") {
    CHECK(AlertId("rule", MakeMatch(f.key, {{"success", f.e2}})) != base);
    CHECK(AlertId("rule", MakeMatch(f.key, {{"fail", f.e1}, {"fail", f.e1}, {"success", f.e2}})) !=
          base);
  }
  SECTION("the alert time (an absence's deadline)") {
    cep::Match m = f.Base();
    m.time += cep::kMinute;
    CHECK(AlertId("rule", m) != base);
  }
}

TEST_CASE("alert id: fields cannot run into each other", "[alerting][id]") {
  auto e = MakeEvent(kRaw, kT, 7);
  // The rule id ends where the key begins; a step name ends where the identity begins.
  cep::Match m1 = MakeMatch("bc", {{"match", e}});
  cep::Match m2 = MakeMatch("c", {{"match", e}});
  CHECK(AlertId("a", m1) != AlertId("ab", m2));
  cep::Match s1 = MakeMatch("k", {{"ab", e}, {"c", e}});
  cep::Match s2 = MakeMatch("k", {{"a", e}, {"bc", e}});
  CHECK(AlertId("r", s1) != AlertId("r", s2));
}

TEST_CASE("alert id: what the rule and event say does not matter", "[alerting][id]") {
  IdFixture f;
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  RuleInfo rule = MakeRule("rule");
  Alert a = builder.Build(f.Base(), rule, "one summary");
  rule.title = "another title";
  rule.severity = "critical";
  rule.tags = {"x"};
  clock.Advance(cep::kHour);
  // The same identities with other bytes: a re-delivery of the same records.
  auto r1 = MakeEvent(R"({"other":1})", kT - cep::kSecond, 101);
  auto r2 = MakeEvent("not json", kT, 102, false);
  Alert b = builder.Build(MakeMatch(f.key, {{"fail", r1}, {"success", r2}}), rule, "another");
  CHECK(a.id == b.id);
}

TEST_CASE("alert id: many distinct inputs give distinct ids", "[alerting][id]") {
  std::set<std::string> ids;
  size_t built = 0;
  for (int k = 0; k < 20; ++k) {
    std::string key = Key({cep::Value::String("10.0.0." + std::to_string(k))});
    for (uint64_t identity = 0; identity < 50; ++identity) {
      auto e = MakeEvent(kRaw, kT, identity);
      std::string id = AlertId("rule", MakeMatch(key, {{"match", e}}));
      ids.insert(id);
      ++built;
    }
  }
  CHECK(ids.size() == built);
}

}  // namespace
}  // namespace vigil::alerting::testing
