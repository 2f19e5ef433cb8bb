// State hygiene: a key whose partial matches, buffers, windows and timers are all done
// holds no state, and no event outlives its use. Regression tests for FlinkCEP's leaks:
//  - FLINK-19970: state of expired events and keys not removed (CEP operator leaks);
//  - FLINK-23314: state left behind for keys that go quiet before their window closes;
//  - FLINK-32701: a start state kept per key forever, even for keys that never matched.
#include <random>

#include <catch2/catch.hpp>

#include "harness.h"

using vigil::testing::EngineHarness;

namespace {

std::string Ev(int id, int64_t ts, const std::string& action, const std::string& host) {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"action\":\"" +
         action + "\",\"host\":\"" + host + "\"}";
}

// Patterns with every kind of step option; all bounded by `within` so every partial match
// must eventually complete or expire.
const char kPatterns[] = R"(
rules:
  - id: relaxed-loop
    key: [host]
    within: 40ms
    skip: no_skip
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
        count: {min: 2}
      - step: c
        where: 'action == "c"'
  - id: any-combinations
    key: [host]
    within: 30ms
    skip: no_skip
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
        contiguity: any
        count: {min: 1, max: 3}
        combinations: true
      - step: c
        where: 'action == "c"'
        contiguity: any
  - id: optional-greedy
    key: [host]
    within: 50ms
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
        count: {min: 0}
        greedy: true
      - step: c
        where: 'action == "c"'
  - id: not-followed
    key: [host]
    within: 20ms
    pattern:
      - step: a
        where: 'action == "a"'
      - step: no-b
        where: 'action == "b"'
        absent: true
      - step: c
        where: 'action == "c"'
  - id: absent-at-end
    key: [host]
    within: 25ms
    pattern:
      - step: a
        where: 'action == "a"'
      - step: no-c
        where: 'action == "c"'
        absent: true
  - id: strict-until
    key: [host]
    within: 35ms
    skip: to_next
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
        count: {min: 1}
        until: 'action == "c"'
        consecutive: true
  - id: threshold
    key: [host]
    where: 'action == "b"'
    threshold: {count: 5, window: 15ms}
)";

}  // namespace

TEST_CASE("property: once the watermark passes every deadline, no state and no event remains",
          "[state][property]") {
  const char* actions[] = {"a", "b", "c", "x"};
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    EngineHarness h(kPatterns);
    std::mt19937 rng(seed);
    int64_t ts = 0;
    int n = 400 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) {
      ts += rng() % 4;
      std::string host = "h" + std::to_string(rng() % 20);
      h.Feed(Ev(i, ts, actions[rng() % 4], host));
    }
    // One event on an unrelated key far in the future: the watermark passes every
    // `within` deadline and threshold window of the keys above.
    h.Feed(Ev(n, ts + 1000, "x", "elsewhere"));
    INFO("seed " << seed << ", " << h.matches.size() << " matches");
    CHECK(h.matches.size() > 0);
    for (uint32_t r = 0; r < h.engine().rule_count(); ++r) {
      auto st = h.engine().rule_state(r);
      INFO("rule " << h.engine().rule(r).id);
      CHECK(st.keys == 0);
      CHECK(st.partial_matches == 0);
      CHECK(st.buffered_nodes == 0);
      CHECK(st.leaked_nodes == 0);
    }
    CHECK(h.engine().live_keys() == 0);
    CHECK(h.engine().buffered_events() == 0);
    CHECK(h.live_events() == 0);  // every event was released, the last one too
    h.Finish();
  }
}

TEST_CASE("FLINK-32701: keys that never start a match hold no state", "[state][regression]") {
  EngineHarness h(kPatterns);
  for (int i = 0; i < 5000; ++i) h.Feed(Ev(i, i, "x", "host-" + std::to_string(i)));
  for (uint32_t r = 0; r < h.engine().rule_count(); ++r) {
    CHECK(h.engine().rule_state(r).keys == 0);
  }
  CHECK(h.engine().live_keys() == 0);
  CHECK(h.live_events() == 0);
}

TEST_CASE("FLINK-23314: a key that goes quiet is cleaned up when its window passes",
          "[state][regression]") {
  EngineHarness h(kPatterns);
  uint32_t loop = h.rule_index("relaxed-loop");
  uint32_t thr = h.rule_index("threshold");
  h.Feed(Ev(1, 100, "a", "quiet"));
  h.Feed(Ev(2, 101, "b", "quiet"));
  CHECK(h.engine().rule_state(loop).keys == 1);
  CHECK(h.engine().rule_state(thr).keys == 1);
  // The key never sees another event; other keys move the watermark on.
  h.Feed(Ev(3, 139, "x", "busy"));
  CHECK(h.engine().rule_state(loop).keys == 1);  // 139 - 100 < 40: may still match
  h.Feed(Ev(4, 140, "x", "busy"));
  CHECK(h.engine().rule_state(loop).keys == 0);
  CHECK(h.engine().rule_state(thr).keys == 0);
  CHECK(h.live_events() == 2);  // optional-greedy (within 50ms) may still match them
  h.Feed(Ev(5, 150, "x", "busy"));
  for (uint32_t r = 0; r < h.engine().rule_count(); ++r) CHECK(h.engine().rule_state(r).keys == 0);
  CHECK(h.live_events() == 0);
}

TEST_CASE("FLINK-19970: completed matches release their events at once", "[state][regression]") {
  EngineHarness h(R"(
rules:
  - id: a-b
    key: [host]
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
)");
  for (int i = 0; i < 1000; i += 2) {
    h.Feed(Ev(i, i, "a", "h" + std::to_string(i % 7)));
    h.Feed(Ev(i + 1, i + 1, "b", "h" + std::to_string(i % 7)));
  }
  CHECK(h.matches.size() == 500);
  auto st = h.engine().rule_state(0);
  CHECK(st.keys == 0);
  CHECK(st.buffered_nodes == 0);
  CHECK(h.live_events() == 0);
}

TEST_CASE("a pattern without within keeps partial matches until the end of input", "[state]") {
  EngineHarness h(R"(
rules:
  - id: a-b
    key: [host]
    pattern:
      - step: a
        where: 'action == "a"'
      - step: b
        where: 'action == "b"'
)");
  h.Feed(Ev(1, 1, "a", "h"));
  h.Feed(Ev(2, 100000, "x", "other"));
  CHECK(h.engine().rule_state(0).partial_matches == 1);
  CHECK(h.live_events() == 1);
  h.Finish();  // incomplete: dropped without an alert
  CHECK(h.matches.empty());
  CHECK(h.engine().rule_state(0).keys == 0);
  CHECK(h.live_events() == 0);
}
