// `vigil test`: the tests inside rule files, one line each, 'N passed, N failed', exit 1 on
// any failure with what was expected and what happened; and the shipped rulesets pass.
#include <catch2/catch.hpp>
#include <string>

#include "edge_support.h"

namespace vigil::edge::testing {
namespace {

constexpr char kRule[] = R"(rules:
  - id: login-failure
    title: Failed login
    severity: high
    key: [source.ip]
    where: 'event.outcome == "failure"'
    tests:
)";

constexpr char kFailure[] =
    R"({"@timestamp": "2026-11-21T10:15:00Z", event: {outcome: failure}, source: {ip: 1.2.3.4}})";
constexpr char kSuccess[] =
    R"({"@timestamp": "2026-11-21T10:15:01Z", event: {outcome: success}, source: {ip: 1.2.3.4}})";

// A test of kRule named `name` with `events` (default: one failed login from 1.2.3.4) and
// `expect`.
std::string RuleTest(const std::string& name, const std::string& expect,
                     const Strings& events = {kFailure}) {
  std::string s = "      - name: " + name + "\n        events:\n";
  for (const std::string& e : events)
    s += "          - " + e + "\n";
  return s + "        expect: " + expect + "\n";
}

TEST_CASE("test: passing tests print PASS lines and exit 0", "[edge][test]") {
  TempDir dir;
  std::string file =
      dir.Write("rules.yaml",
                std::string(kRule) +
                    RuleTest("alerts with key and events",
                             "\n          - {key: {source.ip: \"1.2.3.4\"}, events: [1]}") +
                    RuleTest("counts", "1") + RuleTest("successes do not alert", "0", {kSuccess}));
  ProcessResult r = RunVigil({"test", file});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(Lines(r.out) ==
        Strings{"PASS login-failure: alerts with key and events", "PASS login-failure: counts",
                "PASS login-failure: successes do not alert", "3 passed, 0 failed"});
}

TEST_CASE("test: failures show expected and actual, and exit 1", "[edge][test]") {
  TempDir dir;
  std::string file = dir.Write(
      "rules.yaml",
      std::string(kRule) + RuleTest("passes", "1") + RuleTest("wrong count", "2") +
          RuleTest("wrong key", "\n          - {key: {source.ip: \"9.9.9.9\"}, events: [1]}") +
          RuleTest("wrong events", "\n          - {key: {source.ip: \"1.2.3.4\"}, events: [2]}",
                   {kFailure, kSuccess}) +
          RuleTest("event without time", "0",
                   {"{event: {outcome: failure}, source: {ip: 1.2.3.4}}"}));
  ProcessResult r = RunVigil({"test", file});
  INFO("stdout: " << r.out);
  CHECK(r.exit_code == 1);
  // Each test names the line of its "- name:" entry.
  CHECK(Lines(r.out) == Strings{
                            "PASS login-failure: passes",
                            "FAIL login-failure: wrong count (" + file + ":12)",
                            "  expected 2 alerts, got 1",
                            R"(  actual:   {key: {"source.ip":"1.2.3.4"}, events: [1]})",
                            "FAIL login-failure: wrong key (" + file + ":16)",
                            "  expected 1 alert, got 1",
                            R"(  expected: {key: {source.ip: "9.9.9.9"}, events: [1]})",
                            R"(  actual:   {key: {"source.ip":"1.2.3.4"}, events: [1]})",
                            R"(  no alert matched {key: {source.ip: "9.9.9.9"}, events: [1]})",
                            "FAIL login-failure: wrong events (" + file + ":21)",
                            "  expected 1 alert, got 1",
                            R"(  expected: {key: {source.ip: "1.2.3.4"}, events: [2]})",
                            R"(  actual:   {key: {"source.ip":"1.2.3.4"}, events: [1]})",
                            R"(  no alert matched {key: {source.ip: "1.2.3.4"}, events: [2]})",
                            "FAIL login-failure: event without time (" + file + ":27)",
                            "  expected 0 alerts, got 0",
                            "  event 1: no time field (@timestamp, timestamp, ts)",
                            "1 passed, 4 failed",
                        });
}

TEST_CASE("test: rules without tests pass trivially", "[edge][test]") {
  TempDir dir;
  std::string file = dir.Write("rules.yaml", kLoginRules);
  ProcessResult r = RunVigil({"test", file});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "0 passed, 0 failed\n");
}

TEST_CASE("test: the shipped rulesets pass", "[edge][test][demo]") {
  ProcessResult r = RunVigil({"test", std::string(VIGIL_SOURCE_DIR) + "/rulesets"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  Strings lines = Lines(r.out);
  REQUIRE_FALSE(lines.empty());
  size_t passed = 0, other = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].rfind("PASS ", 0) == 0)
      ++passed;
    else
      ++other;
  }
  CHECK(passed > 0);
  CHECK(other == 0);
  CHECK(lines.back() == std::to_string(passed) + " passed, 0 failed");
}

TEST_CASE("validate: the shipped rulesets are valid", "[edge][validate][demo]") {
  ProcessResult r = RunVigil({"validate", std::string(VIGIL_SOURCE_DIR) + "/rulesets"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("ok: ") && Catch::EndsWith("\n"));
  CHECK(r.err.empty());
}

}  // namespace
}  // namespace vigil::edge::testing
