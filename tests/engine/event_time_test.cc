// Event time: reordering within the max delay, lateness, deadlines and absences.
#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include "harness.h"

using vigil::cep::kMillisecond;
using vigil::cep::ProcessResult;
using vigil::testing::EngineHarness;

namespace {

std::string Ev(int id, int64_t ts, const std::string& action, const std::string& host = "h1") {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"action\":\"" +
         action + "\",\"host\":\"" + host + "\"}";
}

const char kRules[] = R"(
rules:
  - id: login-then-sudo
    key: [host]
    within: 100ms
    pattern:
      - step: login
        where: 'action == "login"'
      - step: sudo
        where: 'action == "sudo"'
        count: {min: 1, max: 2}
  - id: many-errors
    key: [host]
    where: 'action == "error"'
    threshold: {count: 3, window: 50ms}
  - id: each-sudo
    key: [host]
    where: 'action == "sudo"'
)";

struct Generated {
  int64_t ts;
  std::string json;
};

// A stream of events over 3 hosts with times increasing by 0..7 ms.
std::vector<Generated> Stream(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  const char* actions[] = {"login", "sudo", "error", "noise"};
  const char* hosts[] = {"h1", "h2", "h3"};
  std::vector<Generated> out;
  int64_t ts = 1000;
  for (int i = 0; i < n; ++i) {
    ts += rng() % 8;
    out.push_back({ts, Ev(i, ts, actions[rng() % 4], hosts[rng() % 3])});
  }
  return out;
}

}  // namespace

TEST_CASE("out-of-order input within the max delay gives the same alerts as sorted input",
          "[event-time]") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::vector<Generated> sorted = Stream(seed, 300);
    // Displace each event by less than the max delay: shuffle within windows of 20 ms.
    std::vector<Generated> shuffled = sorted;
    std::mt19937 rng(seed * 7919);
    for (size_t i = 0; i < shuffled.size();) {
      size_t j = i;
      while (j < shuffled.size() && shuffled[j].ts - shuffled[i].ts < 20) ++j;
      std::shuffle(shuffled.begin() + static_cast<long>(i), shuffled.begin() + static_cast<long>(j), rng);
      i = j;
    }
    // Equal timestamps must keep their relative order to be comparable: stable-sort the
    // sorted reference the same way the engine orders (time, then arrival).
    std::vector<Generated> reference = shuffled;
    std::stable_sort(reference.begin(), reference.end(),
                     [](const Generated& a, const Generated& b) { return a.ts < b.ts; });

    EngineHarness ordered(kRules, 0);
    for (const auto& g : reference) REQUIRE(ordered.Feed(g.json) == ProcessResult::kAccepted);
    ordered.Finish();
    EngineHarness disordered(kRules, 25 * kMillisecond);
    for (const auto& g : shuffled) REQUIRE(disordered.Feed(g.json) == ProcessResult::kAccepted);
    disordered.Finish();
    INFO("seed " << seed);
    REQUIRE(!ordered.matches.empty());
    CHECK(disordered.matches == ordered.matches);
    CHECK(disordered.engine().stats().late == 0);
  }
}

TEST_CASE("events older than the watermark are late: counted, never matched", "[event-time]") {
  EngineHarness h(kRules, 10 * kMillisecond);
  CHECK(h.Feed(Ev(1, 100, "sudo")) == ProcessResult::kAccepted);
  CHECK(h.Feed(Ev(2, 95, "sudo")) == ProcessResult::kAccepted);  // watermark 90
  CHECK(h.Feed(Ev(3, 200, "noise")) == ProcessResult::kAccepted);  // watermark 190
  CHECK(h.Feed(Ev(4, 150, "sudo")) == ProcessResult::kLate);
  CHECK(h.Feed(Ev(5, 190, "sudo")) == ProcessResult::kAccepted);  // equal to the watermark
  h.Finish();
  CHECK(h.engine().stats().late == 1);
  CHECK(h.matches == std::vector<std::string>{
                         R"(each-sudo {"host":"h1"} [2] @95)", R"(each-sudo {"host":"h1"} [1] @100)",
                         R"(each-sudo {"host":"h1"} [5] @190)"});
}

TEST_CASE("equal timestamps keep arrival order", "[event-time]") {
  EngineHarness h(kRules, 0);
  for (int i = 1; i <= 3; ++i) h.Feed(Ev(i, 50, "sudo"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(each-sudo {"host":"h1"} [1] @50)",
                                              R"(each-sudo {"host":"h1"} [2] @50)",
                                              R"(each-sudo {"host":"h1"} [3] @50)"});
}

namespace {
const char kAbsence[] = R"(
rules:
  - id: door-left-open
    key: [host]
    within: 300ms
    pattern:
      - step: opened
        where: 'action == "open"'
      - step: closed
        where: 'action == "close"'
        absent: true
)";
}  // namespace

TEST_CASE("an absence fires exactly at its deadline, in event time", "[event-time][absence]") {
  EngineHarness h(kAbsence);
  h.Feed(Ev(1, 1000, "open", "door1"));
  h.Feed(Ev(2, 1299, "noise", "door2"));  // watermark 1299: deadline 1300 not reached
  CHECK(h.matches.empty());
  h.Feed(Ev(3, 1300, "noise", "door2"));  // watermark 1300: the deadline passes
  REQUIRE(h.matches.size() == 1);
  CHECK(h.matches[0] == R"(door-left-open {"host":"door1"} [1] @1300)");
}

TEST_CASE("a matching event before the deadline cancels the absence, at the deadline it does not",
          "[event-time][absence]") {
  EngineHarness h(kAbsence);
  h.Feed(Ev(1, 1000, "open", "d1"));
  h.Feed(Ev(2, 1299, "close", "d1"));  // in time: no alert for d1
  h.Feed(Ev(3, 2000, "open", "d2"));
  h.Feed(Ev(4, 2300, "close", "d2"));  // at the deadline: `within` is strict, too late
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(door-left-open {"host":"d2"} [3] @2300)"});
}

TEST_CASE("the final watermark of a bounded run resolves pending absences", "[event-time][absence]") {
  EngineHarness h(kAbsence);
  h.Feed(Ev(1, 1000, "open", "d1"));
  h.Feed(Ev(2, 1100, "open", "d2"));
  h.Feed(Ev(3, 1150, "close", "d2"));
  CHECK(h.matches.empty());
  h.Finish();  // the stream went idle: +infinity
  CHECK(h.matches == std::vector<std::string>{R"(door-left-open {"host":"d1"} [1] @1300)"});
}

TEST_CASE("within drops partial matches that can no longer finish in time", "[event-time]") {
  EngineHarness h(kRules);
  uint32_t rule = h.rule_index("login-then-sudo");
  h.Feed(Ev(1, 1000, "login"));
  CHECK(h.engine().rule_state(rule).partial_matches == 1);
  h.Feed(Ev(2, 1100, "sudo"));  // 100 ms after the login: not strictly within
  CHECK(h.engine().rule_state(rule).partial_matches == 0);
  h.Feed(Ev(3, 1200, "login"));
  h.Feed(Ev(4, 1299, "sudo"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(each-sudo {"host":"h1"} [2] @1100)",
                                              R"(login-then-sudo {"host":"h1"} [3,4] @1299)",
                                              R"(each-sudo {"host":"h1"} [4] @1299)"});
}

TEST_CASE("the watermark is the minimum over partitions; an idle one stops holding it back",
          "[event-time][partition]") {
  EngineHarness h(kRules, 0);
  h.Feed(Ev(2, 50, "sudo"), 1);
  h.Feed(Ev(1, 100, "sudo"), 0);
  CHECK(h.engine().watermark() == 50 * kMillisecond);
  h.Feed(Ev(3, 300, "sudo"), 0);  // partition 1 is behind: the watermark waits for it
  CHECK(h.engine().watermark() == 50 * kMillisecond);
  CHECK(h.matches == std::vector<std::string>{R"(each-sudo {"host":"h1"} [2] @50)"});

  h.engine().SetPartitionIdle(0, 1, true);  // silent for its idle time: no longer waited for
  CHECK(h.engine().watermark() == 300 * kMillisecond);
  CHECK(h.matches.size() == 3);  // events 1 and 3 released by the call itself
  CHECK(h.Feed(Ev(4, 200, "sudo"), 1) == ProcessResult::kLate);  // back, but behind
  CHECK(h.Feed(Ev(5, 310, "sudo"), 1) == ProcessResult::kAccepted);
  h.Feed(Ev(6, 400, "sudo"), 0);
  CHECK(h.engine().watermark() == 310 * kMillisecond);  // partition 1 counts again
  // A partition first seen behind the watermark is late too: partitions join as they come.
  CHECK(h.Feed(Ev(7, 305, "sudo"), 2) == ProcessResult::kLate);

  h.engine().RemovePartition(0, 1);  // revoked: its watermark is forgotten
  CHECK(h.engine().watermark() == 400 * kMillisecond);
  h.Finish();
  CHECK(h.engine().stats().late == 2);
  CHECK(h.matches == std::vector<std::string>{
                         R"(each-sudo {"host":"h1"} [2] @50)", R"(each-sudo {"host":"h1"} [1] @100)",
                         R"(each-sudo {"host":"h1"} [3] @300)", R"(each-sudo {"host":"h1"} [5] @310)",
                         R"(each-sudo {"host":"h1"} [6] @400)"});
}

TEST_CASE("partitions all idle keep the watermark where it was", "[event-time][partition]") {
  EngineHarness h(kRules, 0);
  h.Feed(Ev(2, 80, "noise"), 1);
  h.Feed(Ev(1, 100, "noise"), 0);
  h.engine().SetPartitionIdle(0, 0, true);
  h.engine().SetPartitionIdle(0, 1, true);
  CHECK(h.engine().watermark() == 80 * kMillisecond);
  h.engine().SetPartitionIdle(0, 7, false);  // a partition never seen: nothing to do
  CHECK(h.engine().watermark() == 80 * kMillisecond);
}
