// Dense input on a greedy loop with relaxed contiguity inside a long `within` (issue #3):
// every failure starts a partial match and extends every earlier one, so a key's shared
// buffer gets an edge per (event, partial match), and each edge a version as long as its
// partial match. The key's state must stay bounded: edges no partial match can reach are
// collected, and past RuleSpec::max_state_bytes the oldest partial matches are dropped and
// counted.
#include <catch2/catch.hpp>

#include "harness.h"

using vigil::testing::EngineHarness;

namespace {

std::string Ev(int id, int64_t ts, const std::string& action, const std::string& ip) {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"action\":\"" +
         action + "\",\"ip\":\"" + ip + "\"}";
}

std::string BruteForce(const std::string& within) {
  return R"(
rules:
  - id: brute-force-then-success
    key: [ip]
    within: )" + within + R"(
    pattern:
      - step: fail
        where: 'action == "fail"'
        count: {min: 5}
        greedy: true
      - step: success
        where: 'action == "ok"'
)";
}

}  // namespace

TEST_CASE("dense failures within a long window: one key's state stays under the limit",
          "[dense][state]") {
  EngineHarness h(BruteForce("30m"));
  const size_t limit = h.engine().rule(0).max_state_bytes;
  REQUIRE(limit == size_t{16} << 20);
  size_t peak = 0;
  int id = 0;
  // An sshd-like stream: each failure comes with two other events of the same address,
  // which the relaxed loop and the step after it skip (each skip a new version digit).
  for (int i = 0; i < 350; ++i) {
    h.Feed(Ev(id++, 4 * i, "fail", "10.0.0.1"));
    h.Feed(Ev(id++, 4 * i + 1, "pam", "10.0.0.1"));
    h.Feed(Ev(id++, 4 * i + 2, "disconnect", "10.0.0.1"));
    peak = std::max(peak, h.engine().rule_state(0).bytes);
  }
  INFO("peak " << peak << " bytes");
  // Without the limit the buffer passed 100 MB by the 300th failure (a version of every
  // length on every edge); the state also counts the key's runs beyond the buffer.
  CHECK(peak <= limit + (size_t{1} << 20));
  CHECK(h.engine().rule_stats(0).partial_matches_dropped > 0);
  const auto st = h.engine().rule_state(0);
  CHECK(st.partial_matches > 100);  // the newer partial matches survive
  CHECK(st.leaked_nodes == 0);
  // The survivors still match: a success now completes the greedy loop.
  h.Feed(Ev(id++, 4 * 350, "ok", "10.0.0.1"));
  REQUIRE(h.matches.size() >= 1);
  h.Finish();
  CHECK(h.engine().rule_state(0).keys == 0);
  CHECK(h.live_events() == 0);
}

TEST_CASE("a key dense for much longer than within holds only its window", "[dense][state]") {
  // Failures every millisecond for 8 s with a 100 ms window: about a hundred partial
  // matches live at any time, none is dropped, but ended partial matches leave their edges
  // on the nodes newer ones share; those edges and nodes are collected.
  EngineHarness h(BruteForce("100ms"));
  size_t peak_nodes = 0;
  for (int i = 0; i < 8000; ++i) {
    h.Feed(Ev(i, i, "fail", "10.0.0.2"));
    if (i % 100 == 0) peak_nodes = std::max(peak_nodes, h.engine().rule_state(0).buffered_nodes);
  }
  INFO("peak " << peak_nodes << " nodes");
  CHECK(h.engine().rule_stats(0).partial_matches_dropped == 0);
  // Without collection every node stays (8,000); collection runs each time the buffer
  // doubled past 1 MiB, so the buffer stays within a small multiple of the window.
  CHECK(peak_nodes < 2000);
  CHECK(h.live_events() < 2000);
  h.Feed(Ev(8000, 8000, "ok", "10.0.0.2"));
  CHECK(h.matches.size() == 1);
  h.Finish();
  CHECK(h.live_events() == 0);
}
