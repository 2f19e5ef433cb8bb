// The alert JSON of cli.md, parsed back: field order, rule, key, times, matches, value, and
// the escaping that keeps every alert one valid line of JSON whatever the events held.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "alert_support.h"

namespace vigil::alerting::testing {
namespace {

constexpr char kFail[] =
    R"({"@timestamp":"2026-11-21T10:15:01Z","event":{"action":"ssh_login","outcome":"failure"},)"
    R"("source":{"ip":"10.0.0.9"},"n":[1, 2.5, null]})";
constexpr char kSuccess[] =
    R"({"@timestamp":"2026-11-21T10:15:02Z","event":{"outcome":"success"},"user":{"name":"root"}})";

TEST_CASE("alert: the JSON has the fields of cli.md, in order", "[alerting][json]") {
  cep::ManualClock clock(kT + 417 * cep::kMillisecond);
  AlertBuilder builder(&clock);
  cep::Match m = MakeMatch(Key({cep::Value::String("10.0.0.9")}),
                           {{"fail", MakeEvent(kFail, kT - cep::kSecond, 11)},
                            {"success", MakeEvent(kSuccess, kT, 12)}});
  Alert a = builder.Build(m, MakeRule(), "1 failure from 10.0.0.9, then a success as root");

  ParsedAlert p(a.json);
  CHECK(p.keys() == Strings{"id", "rule", "key", "time", "detected_at", "summary", "matches"});
  CHECK(p.str("/id") == a.id);
  CHECK(p.keys("/rule") == Strings{"id", "title", "severity", "tags"});
  CHECK(p.str("/rule/id") == "ssh-bruteforce");
  CHECK(p.str("/rule/title") == "SSH brute force");
  CHECK(p.str("/rule/severity") == "high");
  CHECK(p.json("/rule/tags") == R"(["attack.t1110","attack.credential_access"])");
  CHECK(p.json("/key") == R"({"source.ip":"10.0.0.9"})");
  CHECK(p.str("/time") == "2026-11-21T10:15:02.000Z");
  CHECK(p.str("/detected_at") == "2026-11-21T10:15:02.417Z");
  CHECK(p.str("/summary") == "1 failure from 10.0.0.9, then a success as root");
  CHECK(p.keys("/matches/0") == Strings{"step", "event"});
  CHECK(p.str("/matches/0/step") == "fail");
  CHECK(p.str("/matches/1/step") == "success");
  CHECK_FALSE(p.has("/matches/2"));
  // Events are embedded as received: same bytes.
  CHECK(a.json.find(std::string(",\"event\":") + kFail + "}") != std::string::npos);
  CHECK(a.json.find(std::string(",\"event\":") + kSuccess + "}") != std::string::npos);
  CHECK(p.str("/matches/1/event/user/name") == "root");
  CHECK_FALSE(p.has("/value"));

  // One line, and the struct agrees with the JSON.
  CHECK(a.json.find('\n') == std::string::npos);
  CHECK(a.rule_id == "ssh-bruteforce");
  CHECK(a.severity == "high");
  CHECK(a.time == kT);
  CHECK(a.detected_at == kT + 417 * cep::kMillisecond);
  CHECK(a.key_json == R"({"source.ip":"10.0.0.9"})");
  CHECK(a.summary == "1 failure from 10.0.0.9, then a success as root");
  CHECK(a.event_identities == std::vector<uint64_t>{11, 12});
}

TEST_CASE("alert: a single-event rule's event has step match", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  cep::Match m =
      MakeMatch(Key({cep::Value::String("10.0.0.9")}), {{"match", MakeEvent(kFail, kT, 1)}});
  ParsedAlert p(builder.Build(m, MakeRule(), "s").json);
  CHECK(p.str("/matches/0/step") == "match");
  CHECK(p.str("/matches/0/event/source/ip") == "10.0.0.9");
}

TEST_CASE("alert: value appears only for thresholds, last", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  std::string key = Key({cep::Value::String("10.0.0.9")});
  auto e1 = MakeEvent(kFail, kT - 2 * cep::kSecond, 1);
  auto e2 = MakeEvent(kFail, kT, 2);

  ParsedAlert count(
      builder.Build(MakeMatch(key, {{"match", e1}, {"match", e2}}, 6.0), MakeRule(), "6 failures")
          .json);
  CHECK(count.keys() ==
        Strings{"id", "rule", "key", "time", "detected_at", "summary", "matches", "value"});
  CHECK(count.json("/value") == "6");
  CHECK(count.str("/matches/1/step") == "match");

  ParsedAlert sum(builder.Build(MakeMatch(key, {{"match", e1}}, 2.5), MakeRule(), "s").json);
  CHECK(sum.json("/value") == "2.5");

  ParsedAlert zero(builder.Build(MakeMatch(key, {{"match", e1}}, 0.0), MakeRule(), "s").json);
  CHECK(zero.json("/value") == "0");

  // JSON has no NaN: the alert stays valid.
  ParsedAlert nan(
      builder.Build(MakeMatch(key, {{"match", e1}}, std::nan("")), MakeRule(), "s").json);
  CHECK(nan.json("/value") == "null");

  ParsedAlert none(builder.Build(MakeMatch(key, {{"match", e1}}), MakeRule(), "s").json);
  CHECK_FALSE(none.has("/value"));
}

TEST_CASE("alert: keys of several fields and of every type", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  RuleInfo rule = MakeRule();
  rule.key_names = {"source.ip", "user.id", "ok", "ratio"};
  std::string key = Key({cep::Value::String("10.0.0.9"), cep::Value::Int(-42),
                         cep::Value::Bool(true), cep::Value::Double(0.5)});
  Alert a = builder.Build(MakeMatch(key, {{"match", MakeEvent(kFail, kT, 1)}}), rule, "s");
  ParsedAlert p(a.json);
  CHECK(p.keys("/key") == Strings{"source.ip", "user.id", "ok", "ratio"});
  CHECK(p.json("/key") == R"({"source.ip":"10.0.0.9","user.id":-42,"ok":true,"ratio":0.5})");

  SECTION("a rule without a key has an empty key object") {
    RuleInfo unkeyed = MakeRule();
    unkeyed.key_names.clear();
    ParsedAlert q(
        builder.Build(MakeMatch("", {{"match", MakeEvent(kFail, kT, 1)}}), unkeyed, "s").json);
    CHECK(q.json("/key") == "{}");
  }
  SECTION("key strings are escaped") {
    RuleInfo r = MakeRule();
    std::string k = Key({cep::Value::String("a\"b\\c\nd")});
    ParsedAlert q(builder.Build(MakeMatch(k, {{"match", MakeEvent(kFail, kT, 1)}}), r, "s").json);
    CHECK(q.str("/key/source.ip") == "a\"b\\c\nd");
  }
  SECTION("a rule without tags has an empty tag list") {
    RuleInfo r = MakeRule();
    r.tags.clear();
    ParsedAlert q(builder.Build(MakeMatch(key, {{"match", MakeEvent(kFail, kT, 1)}}), r, "s").json);
    CHECK(q.json("/rule/tags") == "[]");
  }
}

TEST_CASE("alert: times are UTC with milliseconds", "[alerting][json]") {
  cep::ManualClock clock(kT + 999999999);
  AlertBuilder builder(&clock);
  std::string key = Key({cep::Value::String("x")});
  auto at = [&](cep::Timestamp t) {
    ParsedAlert p(
        builder.Build(MakeMatch(key, {{"match", MakeEvent(kFail, t, 1)}}), MakeRule(), "s").json);
    return p.str("/time");
  };
  CHECK(at(kT) == "2026-11-21T10:15:02.000Z");
  CHECK(at(kT + 123456789) == "2026-11-21T10:15:02.123Z");  // truncated, not rounded
  CHECK(at(kT + 7 * cep::kMillisecond) == "2026-11-21T10:15:02.007Z");
  CHECK(at(0) == "1970-01-01T00:00:00.000Z");
  CHECK(at(-1500 * cep::kMillisecond) == "1969-12-31T23:59:58.500Z");
  ParsedAlert p(
      builder.Build(MakeMatch(key, {{"match", MakeEvent(kFail, kT, 1)}}), MakeRule(), "s").json);
  CHECK(p.str("/detected_at") == "2026-11-21T10:15:02.999Z");
}

TEST_CASE("alert: detected_at follows the clock, the id does not", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  cep::Match m = MakeMatch(Key({cep::Value::String("x")}), {{"match", MakeEvent(kFail, kT, 1)}});
  Alert first = builder.Build(m, MakeRule(), "s");
  clock.Advance(90 * cep::kMinute + 5 * cep::kMillisecond);
  Alert second = builder.Build(m, MakeRule(), "s");
  CHECK(ParsedAlert(first.json).str("/detected_at") == "2026-11-21T10:15:02.000Z");
  CHECK(ParsedAlert(second.json).str("/detected_at") == "2026-11-21T11:45:02.005Z");
  CHECK(first.id == second.id);
  CHECK(first.time == second.time);
}

TEST_CASE("alert: quotes, backslashes and control characters are escaped", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  RuleInfo rule = MakeRule("rule \"quoted\"");
  rule.title = "C:\\Users\\\"admin\"\tlogin\nsecond line\r\x01\x1f\x7f end";
  rule.tags = {"tag\"q", "back\\slash", "new\nline"};
  rule.severity = "high";
  std::string summary = std::string("nul\0byte", 8) + " \b\f \u00e9 \xf0\x9f\x98\x80 </script>";
  cep::Match m = MakeMatch(Key({cep::Value::String("x")}), {{"match", MakeEvent(kFail, kT, 1)}});
  Alert a = builder.Build(m, rule, summary);
  CHECK(a.json.find('\n') == std::string::npos);
  CHECK(a.json.find('\r') == std::string::npos);
  size_t control_chars = 0;
  for (char c : a.json)
    control_chars += static_cast<unsigned char>(c) < 0x20 ? 1 : 0;
  CHECK(control_chars == 0);
  ParsedAlert p(a.json);
  CHECK(p.str("/rule/id") == "rule \"quoted\"");
  CHECK(p.str("/rule/title") == rule.title);
  CHECK(p.str("/rule/tags/0") == "tag\"q");
  CHECK(p.str("/rule/tags/1") == "back\\slash");
  CHECK(p.str("/rule/tags/2") == "new\nline");
  CHECK(p.str("/summary") == summary);
}

TEST_CASE("alert: events that are not JSON are embedded as a message", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  std::string key = Key({cep::Value::String("x")});
  auto embed = [&](const std::string& raw, bool raw_is_json) {
    Alert a = builder.Build(MakeMatch(key, {{"match", MakeEvent(raw, kT, 1, raw_is_json)}}),
                            MakeRule(), "s");
    CHECK(a.json.find('\n') == std::string::npos);
    ParsedAlert p(a.json);
    return p.json("/matches/0/event");
  };
  SECTION("a syslog line") {
    std::string line =
        "Nov 21 10:15:02 host sshd[42]: Failed password for \"root\" from 1.2.3.4\\n";
    CHECK(
        embed(line, false) ==
        R"({"message":"Nov 21 10:15:02 host sshd[42]: Failed password for \"root\" from 1.2.3.4\\n"})");
  }
  SECTION("a line with control characters and line breaks") {
    CHECK(embed(std::string("a\tb\nc\r\x01\0z", 9), false) ==
          R"({"message":"a\tb\nc\r\u0001\u0000z"})");
  }
  SECTION("JSON text from a source that does not vouch for it stays a message") {
    CHECK(embed(R"({"a":1})", false) == R"({"message":"{\"a\":1}"})");
  }
  SECTION("invalid JSON, even when flagged as JSON") {
    CHECK(embed(R"({"a":1)", true) == R"({"message":"{\"a\":1"})");
    CHECK(embed(R"({"a":tru})", true) == R"({"message":"{\"a\":tru}"})");
    CHECK(embed(R"({"a":1} trailing)", true) == R"({"message":"{\"a\":1} trailing"})");
  }
  SECTION("JSON that is not an object") {
    CHECK(embed("[1,2]", true) == R"({"message":"[1,2]"})");
    CHECK(embed(R"("text")", true) == R"({"message":"\"text\""})");
    CHECK(embed("42", true) == R"({"message":"42"})");
    CHECK(embed("null", true) == R"({"message":"null"})");
  }
  SECTION("an empty event") {
    CHECK(embed("", false) == R"({"message":""})");
    CHECK(embed("", true) == R"({"message":""})");
  }
  SECTION("bytes that are not UTF-8 become U+FFFD") {
    CHECK(embed("caf\xe9 ok", false) == "{\"message\":\"caf\xef\xbf\xbd ok\"}");
    CHECK(embed("\xc3", false) == "{\"message\":\"\xef\xbf\xbd\"}");
    CHECK(embed("\xed\xa0\x80!", false) ==
          "{\"message\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!\"}");
    CHECK(embed("ok \xc3\xa9 \xf0\x9f\x98\x80", false) ==
          "{\"message\":\"ok \xc3\xa9 \xf0\x9f\x98\x80\"}");
  }
}

TEST_CASE("alert: a JSON event spread over lines is embedded on one line", "[alerting][json]") {
  cep::ManualClock clock(kT);
  AlertBuilder builder(&clock);
  std::string raw = "{\r\n  \"a\": \"x y\\n\",\n  \"b\": [1, 2]\n}";
  Alert a =
      builder.Build(MakeMatch(Key({cep::Value::String("x")}), {{"match", MakeEvent(raw, kT, 1)}}),
                    MakeRule(), "s");
  CHECK(a.json.find('\n') == std::string::npos);
  CHECK(a.json.find('\r') == std::string::npos);
  ParsedAlert p(a.json);
  CHECK(p.json("/matches/0/event") == R"({"a":"x y\n","b":[1,2]})");
}

}  // namespace
}  // namespace vigil::alerting::testing
