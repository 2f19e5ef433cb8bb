// Rule-level pattern options and thresholds, through the real loader and engine.
#include <catch2/catch.hpp>

#include "harness.h"

using vigil::testing::EngineHarness;

namespace {
std::string Ev(int id, int64_t ts, const std::string& action, const std::string& extra = "") {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"action\":\"" +
         action + "\",\"host\":\"h\"" + (extra.empty() ? "" : "," + extra) + "}";
}
}  // namespace

TEST_CASE("reset_on discards a key's pending partial matches and is never part of a match",
          "[pattern]") {
  EngineHarness h(R"(
rules:
  - id: fail-fail-success
    key: [host]
    pattern:
      - step: fail
        where: 'action == "fail"'
        count: 2
      - step: ok
        where: 'action == "ok" or action == "reset"'
    reset_on: 'action == "reset"'
)");
  h.Feed(Ev(1, 1, "fail"));
  h.Feed(Ev(2, 2, "fail"));
  h.Feed(Ev(3, 3, "reset"));  // would complete the match, but resets instead
  h.Feed(Ev(4, 4, "ok"));
  h.Feed(Ev(5, 5, "fail"));
  h.Feed(Ev(6, 6, "fail"));
  h.Feed(Ev(7, 7, "ok"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(fail-fail-success {"host":"h"} [5,6,7] @7)"});
}

TEST_CASE("max_partial_matches drops the oldest partial match and counts it", "[pattern]") {
  EngineHarness h(R"(
rules:
  - id: a-then-b
    key: [host]
    skip: no_skip
    max_partial_matches: 3
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
)");
  for (int i = 1; i <= 5; ++i) h.Feed(Ev(i, i, "a"));
  uint32_t rule = h.rule_index("a-then-b");
  CHECK(h.engine().rule_state(rule).partial_matches == 3);
  CHECK(h.engine().rule_stats(rule).partial_matches_dropped == 2);
  h.Feed(Ev(6, 6, "b"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(a-then-b {"host":"h"} [3,6] @6)",
                                              R"(a-then-b {"host":"h"} [4,6] @6)",
                                              R"(a-then-b {"host":"h"} [5,6] @6)"});
}

TEST_CASE("suppress keeps one alert per key within the span", "[pattern]") {
  EngineHarness h(R"(
rules:
  - id: a-then-b
    key: [host]
    suppress: 10ms
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
)");
  h.Feed(Ev(1, 1, "a"));
  h.Feed(Ev(2, 2, "b"));   // alert at 2
  h.Feed(Ev(3, 3, "a"));
  h.Feed(Ev(4, 4, "b"));   // suppressed (4 < 2 + 10)
  h.Feed(Ev(5, 12, "a"));
  h.Feed(Ev(6, 12, "b"));  // 12 >= 12: alerts
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(a-then-b {"host":"h"} [1,2] @2)",
                                              R"(a-then-b {"host":"h"} [5,6] @12)"});
  CHECK(h.engine().rule_stats(h.rule_index("a-then-b")).suppressed == 1);
}

TEST_CASE("count threshold: a sliding window from t - window exclusive to t inclusive, emptied after an alert",
          "[threshold]") {
  EngineHarness h(R"(
rules:
  - id: three-in-10ms
    key: [host]
    where: 'action == "x"'
    threshold: {count: 3, window: 10ms}
)");
  h.Feed(Ev(1, 0, "x"));
  h.Feed(Ev(2, 5, "x"));
  h.Feed(Ev(3, 10, "x"));  // event 1 at 0 is outside (0, 10]: 2 events
  CHECK(h.matches.empty());
  h.Feed(Ev(4, 11, "x"));  // (1, 11]: 2, 3, 4
  REQUIRE(h.matches.size() == 1);
  CHECK(h.matches[0] == R"(three-in-10ms {"host":"h"} [2,3,4] @11)");
  h.Feed(Ev(5, 12, "x"));
  h.Feed(Ev(6, 13, "x"));  // the window was emptied: 5, 6 only
  CHECK(h.matches.size() == 1);
  h.Feed(Ev(7, 14, "x"));
  h.Finish();
  CHECK(h.matches.size() == 2);
  CHECK(h.values == std::vector<double>{3, 3});
}

TEST_CASE("distinct and sum thresholds skip events without the field", "[threshold]") {
  EngineHarness h(R"(
rules:
  - id: ports
    key: [host]
    where: 'action == "conn"'
    threshold: {distinct: port, count: 3, window: 1m}
  - id: bytes
    key: [host]
    where: 'action == "conn"'
    threshold: {sum: bytes, value: 100, window: 1m}
)");
  h.Feed(Ev(1, 1, "conn", "\"port\":22,\"bytes\":40"));
  h.Feed(Ev(2, 2, "conn", "\"port\":22,\"bytes\":\"lots\""));  // not a number: no sum
  h.Feed(Ev(3, 3, "conn", "\"bytes\":50"));                   // no port: no distinct
  h.Feed(Ev(4, 4, "conn", "\"port\":80"));
  CHECK(h.matches.empty());
  h.Feed(Ev(5, 5, "conn", "\"port\":443,\"bytes\":10.5"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(ports {"host":"h"} [1,2,4,5] @5)",
                                              R"(bytes {"host":"h"} [1,3,5] @5)"});
  CHECK(h.values == std::vector<double>{3, 100.5});
}
