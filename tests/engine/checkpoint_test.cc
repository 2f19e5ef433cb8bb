// Checkpoints of the engine's state: random rules and events (the reference test's
// generator), checkpointed every few events, the engine "crashing" (dropped without a
// checkpoint) at random points and restored from the store: the alerts before each crash's
// last checkpoint plus the alerts after each restore are exactly an uninterrupted run's.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.h"
#include "random_cases.h"
#include "vigil/cep/state_store.h"
#include "vigil/rules/ruleset.h"

using vigil::testing::EngineHarness;
using namespace vigil::testing::random_cases;

namespace {

struct Plan {
  size_t every;                // a checkpoint after every this many events
  std::vector<size_t> crashes;  // after this many events fed (in total, before restarts)
};

// Matches of a run with checkpoints and crashes, and how many restores happened.
std::vector<std::string> RunWithCrashes(const Case& c, const Plan& plan, size_t* restores,
                                        size_t* restored_keys) {
  const vigil::cep::Duration delay = c.max_delay_ms * vigil::cep::kMillisecond;
  auto store = vigil::cep::NewMemoryStore();
  std::vector<std::string> out;
  size_t pos = 0;  // the first event after the last checkpoint
  for (size_t segment = 0;; ++segment) {
    EngineHarness h(c.rules, delay, *store);
    if (segment > 0) {
      ++*restores;
      *restored_keys += h.restored.keys;
    }
    const bool last = segment == plan.crashes.size();
    const size_t stop = last ? c.events.size() : std::max(plan.crashes[segment], pos);
    size_t kept = 0;  // matches up to the last checkpoint of this segment
    size_t next = pos;
    for (size_t i = pos; i < stop; ++i) {
      h.Feed(c.events[i]);
      if ((i + 1) % plan.every == 0) {
        h.Checkpoint(store.get());
        kept = h.matches.size();
        next = i + 1;
      }
    }
    if (last) {
      h.Finish();
      out.insert(out.end(), h.matches.begin(), h.matches.end());
      return out;
    }
    // The crash: what came after the last checkpoint is lost, and comes again.
    out.insert(out.end(), h.matches.begin(), h.matches.begin() + static_cast<long>(kept));
    pos = next;
  }
}

std::vector<std::string> CleanRun(const Case& c) {
  EngineHarness h(c.rules, c.max_delay_ms * vigil::cep::kMillisecond);
  for (const std::string& e : c.events) h.Feed(e);
  h.Finish();
  return h.matches;
}

}  // namespace

TEST_CASE("checkpoints: restored engines give an uninterrupted run's alerts, in order",
          "[checkpoint][property]") {
  size_t restores = 0, restored_keys = 0, compared = 0;
  for (uint32_t seed = 1; seed <= 120; ++seed) {
    if (seed == 38 || seed == 73) continue;  // combinatorial: 10^5 matches (reference_expected.txt)
    const Case c = Generate(seed);
    const std::vector<std::string> clean = CleanRun(c);
    Rng rng(seed * 7919);
    Plan plan;
    plan.every = 1 + rng.Below(40);
    const size_t crashes = 1 + rng.Below(3);
    for (size_t i = 0; i < crashes; ++i) plan.crashes.push_back(rng.Below(static_cast<uint32_t>(c.events.size())));
    std::sort(plan.crashes.begin(), plan.crashes.end());
    INFO("seed " << seed << ", checkpoint every " << plan.every << " events\n" << c.rules);
    const std::vector<std::string> got = RunWithCrashes(c, plan, &restores, &restored_keys);
    CHECK(got == clean);
    ++compared;
  }
  CHECK(compared > 100);
  CHECK(restores > 150);
  CHECK(restored_keys > 100);  // restores had partial matches to bring back
}

namespace {

std::string Ev(int id, int64_t ts, const std::string& action, const std::string& host, int v = 1) {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"action\":\"" + action +
         "\",\"host\":\"" + host + "\",\"v\":" + std::to_string(v) + "}";
}

const char kMixed[] = R"(
rules:
  - id: bursts
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 3, window: 100ms}
  - id: spread
    key: [host]
    where: 'action == "fail"'
    threshold: {distinct: v, count: 2, window: 100ms}
  - id: volume
    key: [host]
    where: 'action == "bytes"'
    threshold: {sum: v, value: 10, window: 50ms}
  - id: each-fail
    key: [host]
    where: 'action == "fail"'
    suppress: 40ms
  - id: login-then-gone
    key: [host]
    within: 30ms
    pattern:
      - step: login
        where: 'action == "login"'
      - step: logout
        where: 'action == "logout"'
        absent: true
)";

size_t KeyedEntries(const vigil::cep::StateStore& store) {
  size_t n = 0;
  REQUIRE(store.Scan(vigil::cep::StateFamily::kKeyed, {}, {}, [&](std::string_view, std::string_view) {
                 ++n;
                 return true;
               }).ok());
  return n;
}

}  // namespace

TEST_CASE("checkpoints: thresholds, suppression and the reorder buffer survive a restart",
          "[checkpoint]") {
  std::vector<std::string> events;
  const char* actions[] = {"fail", "bytes", "login", "logout", "noise"};
  for (int i = 0; i < 400; ++i) {
    int64_t ts = i * 3 - (i % 7 == 0 ? 4 : 0);  // some out of order, within the max delay
    events.push_back(Ev(i + 1, ts, actions[(i * 7 + i / 5) % 5], "h" + std::to_string(i % 3), i % 4 + 1));
  }
  EngineHarness clean(kMixed, 5 * vigil::cep::kMillisecond);
  for (const auto& e : events) clean.Feed(e);
  clean.Finish();
  REQUIRE(clean.matches.size() > 50);

  for (size_t crash : {size_t{1}, size_t{57}, size_t{200}, size_t{399}}) {
    auto store = vigil::cep::NewMemoryStore();
    EngineHarness a(kMixed, 5 * vigil::cep::kMillisecond, *store);
    for (size_t i = 0; i < crash; ++i) a.Feed(events[i]);
    a.Checkpoint(store.get());
    EngineHarness b(kMixed, 5 * vigil::cep::kMillisecond, *store);
    INFO("restarted after " << crash << " events");
    CHECK(b.engine().buffered_events() == a.engine().buffered_events());
    CHECK(b.engine().watermark() == a.engine().watermark());
    CHECK(b.engine().pending_timers() <= a.engine().pending_timers());  // stale timers are not kept
    for (uint32_t r = 0; r < b.engine().rule_count(); ++r) {
      CHECK(b.engine().rule_state(r).keys == a.engine().rule_state(r).keys);
    }
    for (size_t i = crash; i < events.size(); ++i) b.Feed(events[i]);
    b.Finish();
    std::vector<std::string> got = a.matches;
    got.insert(got.end(), b.matches.begin(), b.matches.end());
    CHECK(got == clean.matches);
  }
}

TEST_CASE("checkpoints: a key whose state is gone is gone from the store too", "[checkpoint]") {
  auto store = vigil::cep::NewMemoryStore();
  EngineHarness h(kMixed, 0, *store);
  h.Feed(Ev(1, 10, "login", "a"));
  h.Feed(Ev(2, 11, "fail", "b"));
  auto st = h.Checkpoint(store.get());
  CHECK(st.keys_written == 3);  // a: the pending absence; b: two threshold windows
  CHECK(KeyedEntries(*store) == st.keys_written);
  h.Feed(Ev(3, 200, "noise", "c"));  // every window and deadline passes
  CHECK(h.engine().live_keys() == 0);
  st = h.Checkpoint(store.get());
  CHECK(st.keys_written == 0);
  CHECK(KeyedEntries(*store) == 0);
  // Nothing changed: nothing is written again.
  h.Feed(Ev(4, 201, "noise", "c"));
  CHECK(h.Checkpoint(store.get()).keys_written == 0);
}

TEST_CASE("checkpoints: a changed rule starts fresh, an unchanged one keeps its state",
          "[checkpoint]") {
  const std::string v1 = R"(
rules:
  - id: kept
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 2, window: 1s}
  - id: changed
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 2, window: 1s}
  - id: removed
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 2, window: 1s}
)";
  const std::string v2 = R"(
rules:
  - id: kept
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 2, window: 1s}
    title: a new title does not change what it matches
  - id: changed
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 2, window: 2s}
)";
  auto store = vigil::cep::NewMemoryStore();
  {
    EngineHarness h(v1, 0, *store);
    h.Feed(Ev(1, 10, "fail", "a"));
    h.Checkpoint(store.get());
  }
  EngineHarness h(v2, 0, *store);
  CHECK(h.restored.keys == 1);
  CHECK(h.restored.stale_keys == 2);
  h.Feed(Ev(2, 20, "fail", "a"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(kept {"host":"a"} [1,2] @20)"});
  // The next checkpoint deletes the stale state.
  EngineHarness again(v2, 0, *store);
  again.Checkpoint(store.get());
  CHECK(KeyedEntries(*store) == 1);
}

TEST_CASE("checkpoints: garbled or foreign state is a clear error", "[checkpoint][bad-input]") {
  const std::string rules = R"(
rules:
  - id: bursts
    key: [host]
    where: 'action == "fail"'
    threshold: {count: 3, window: 1s}
)";
  auto store = vigil::cep::NewMemoryStore();
  {
    EngineHarness h(rules, 0, *store);
    h.Feed(Ev(1, 10, "fail", "a"));
    h.Checkpoint(store.get());
  }
  std::string key, value;
  REQUIRE(store->Scan(vigil::cep::StateFamily::kKeyed, {}, {}, [&](std::string_view k, std::string_view v) {
                 key = std::string(k);
                 value = std::string(v);
                 return false;
               }).ok());
  auto fields = std::make_shared<vigil::cep::FieldRegistry>();
  vigil::rules::Diagnostics diags;
  auto rs = vigil::rules::LoadRulesetFromString(rules, "t.yaml", fields.get(), &diags);
  REQUIRE(diags.empty());
  struct Null final : vigil::cep::MatchSink {
    void OnMatch(const vigil::cep::Match&) override {}
  } sink;
  auto restore = [&]() {
    vigil::cep::Engine engine(&sink);
    engine.AddStream("default", {});
    REQUIRE(engine.AddRule(rs.rules[0].spec).ok());
    auto r = engine.Restore(*store, *fields, nullptr);
    return r.ok() ? vigil::Status::Ok() : r.status();
  };
  SECTION("a truncated value") {
    vigil::cep::StateBatch b;
    b.Put(vigil::cep::StateFamily::kKeyed, key, value.substr(0, value.size() / 2));
    REQUIRE(store->Write(b, false).ok());
    const vigil::Status st = restore();
    CHECK(st.code() == vigil::Status::Code::kCorruption);
    CHECK(st.message() == "keyed state of rule 'bursts' for key \\x04\\x01a is garbled");
  }
  SECTION("state of another format") {
    vigil::cep::StateBatch b;
    std::string meta;
    REQUIRE(*store->Get(vigil::cep::StateFamily::kMeta, "engine", &meta));
    meta[1 + 13] = '9';  // "vigil-engine/9"
    b.Put(vigil::cep::StateFamily::kMeta, "engine", meta);
    REQUIRE(store->Write(b, false).ok());
    const vigil::Status st = restore();
    CHECK(st.code() == vigil::Status::Code::kCorruption);
    CHECK(st.message() == "engine state is in format 'vigil-engine/9', this version reads 'vigil-engine/1'");
  }
  SECTION("random bytes") {
    for (int i = 0; i < 200; ++i) {
      std::string junk = value;
      junk[static_cast<size_t>(i * 31) % junk.size()] ^= static_cast<char>(1 + i % 255);
      if (i % 3 == 0) junk.resize(static_cast<size_t>(i) % junk.size());
      vigil::cep::StateBatch b;
      b.Put(vigil::cep::StateFamily::kKeyed, key, junk);
      REQUIRE(store->Write(b, false).ok());
      (void)restore();  // an error or a state that reads back: never a crash (ASan checks)
    }
  }
}
