// The outbox: order, at-least-once, retries, circuit breaker, give-up and dead letters,
// the size bound, deduplication, and checkpoints/recovery (memory and RocksDB stores).
#include "vigil/alerting/outbox.h"

#include <catch2/catch.hpp>

#include "support/alerts.h"
#include "support/net.h"
#include "support/temp_dir.h"
#include "vigil/cep/state_store.h"

namespace vigil::alerting::testing {
namespace {

using Strings = std::vector<std::string>;

OutboxOptions FastRetries(const cep::Clock* clock = nullptr) {
  OutboxOptions o;
  o.retry.initial = cep::kMillisecond;
  o.retry.max = 4 * cep::kMillisecond;
  o.retry.breaker_failures = 3;
  o.clock = clock;
  o.jitter_seed = 7;
  o.log = [](const std::string&) {};
  return o;
}

Strings Ids(int from, int to) {
  Strings v;
  for (int i = from; i <= to; ++i) v.push_back(TestAlertId(i));
  return v;
}

std::vector<OutboxSink> Sinks(std::vector<std::pair<std::string, ScriptedSink*>> sinks) {
  std::vector<OutboxSink> out;
  for (auto& [name, s] : sinks) out.push_back({name, std::make_unique<SinkRef>(s)});
  return out;
}

size_t KeysWithPrefix(const cep::StateStore& store, char prefix) {
  size_t n = 0;
  REQUIRE(store.Scan(cep::StateFamily::kOutbox, "", "", [&](std::string_view k, std::string_view) {
                  if (!k.empty() && k[0] == prefix) ++n;
                  return true;
                }).ok());
  return n;
}

// A store whose next Write fails, once.
class FailOnceStore final : public cep::StateStore {
 public:
  explicit FailOnceStore(cep::StateStore* inner) : inner_(inner) {}
  Status Write(const cep::StateBatch& b, bool sync) override {
    if (fail_next_) {
      fail_next_ = false;
      return Status::IOError("disk full (test)");
    }
    return inner_->Write(b, sync);
  }
  Result<bool> Get(cep::StateFamily f, std::string_view k, std::string* v) const override {
    return inner_->Get(f, k, v);
  }
  Status Scan(cep::StateFamily f, std::string_view b, std::string_view e, const ScanFn& fn) const override {
    return inner_->Scan(f, b, e, fn);
  }
  uint64_t ApproximateBytes(cep::StateFamily f) const override { return inner_->ApproximateBytes(f); }
  std::string Describe() const override { return "fail-once"; }
  bool fail_next_ = true;

 private:
  cep::StateStore* inner_;
};

TEST_CASE("outbox delivers every alert to each of its sinks in order") {
  auto store = cep::NewMemoryStore();
  ScriptedSink a, b;
  Outbox outbox(store.get(), Sinks({{"a", &a}, {"b", &b}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 300; ++i) REQUIRE(outbox.Append(MakeTestAlert(i), 0b11) == AppendResult::kAppended);
  REQUIRE(Eventually([&] { return a.delivered().size() == 300 && b.delivered().size() == 300; }));
  CHECK(a.delivered() == Ids(1, 300));
  CHECK(b.delivered() == Ids(1, 300));
  OutboxStats s = outbox.Stats();
  CHECK(s.appended == 300);
  CHECK(s.held == 0);
  CHECK(s.held_bytes == 0);
  CHECK(s.sinks[0].delivered == 300);
  CHECK(s.sinks[1].backlog == 0);
}

TEST_CASE("an alert goes only to the sinks it is routed to") {
  auto store = cep::NewMemoryStore();
  ScriptedSink a, b;
  Outbox outbox(store.get(), Sinks({{"a", &a}, {"b", &b}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  REQUIRE(outbox.Append(MakeTestAlert(1), 0b01) == AppendResult::kAppended);
  REQUIRE(outbox.Append(MakeTestAlert(2), 0b10) == AppendResult::kAppended);
  REQUIRE(outbox.Append(MakeTestAlert(3), 0b11) == AppendResult::kAppended);
  CHECK(outbox.Append(MakeTestAlert(4), 0) == AppendResult::kNoSinks);
  CHECK(outbox.Append(MakeTestAlert(5), 0b100) == AppendResult::kNoSinks);  // no third sink
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  CHECK(a.delivered() == Strings{TestAlertId(1), TestAlertId(3)});
  CHECK(b.delivered() == Strings{TestAlertId(2), TestAlertId(3)});
}

TEST_CASE("a sink that is down gets every alert once it is back, in order, and does not hold up the others") {
  auto store = cep::NewMemoryStore();
  ScriptedSink down, up;
  down.set_failing(true);
  Outbox outbox(store.get(), Sinks({{"down", &down}, {"up", &up}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 50; ++i) REQUIRE(outbox.Append(MakeTestAlert(i), 0b11) == AppendResult::kAppended);
  REQUIRE(Eventually([&] { return up.delivered().size() == 50; }));
  CHECK(up.delivered() == Ids(1, 50));
  REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].circuit_open; }));
  OutboxStats s = outbox.Stats();
  CHECK(down.delivered().empty());
  CHECK(s.sinks[0].backlog == 50);
  CHECK(s.sinks[0].consecutive_failures >= 3);
  CHECK(s.sinks[0].last_error == "sink is down");
  CHECK(s.held == 50);
  down.set_failing(false);
  REQUIRE(Eventually([&] { return down.delivered().size() == 50; }));
  CHECK(down.delivered() == Ids(1, 50));  // each once, in order
  s = outbox.Stats();
  CHECK_FALSE(s.sinks[0].circuit_open);
  CHECK(s.sinks[0].consecutive_failures == 0);
  CHECK(s.held == 0);
}

TEST_CASE("an alert id the outbox already holds is dropped") {
  auto store = cep::NewMemoryStore();
  ScriptedSink down;
  down.set_failing(true);
  Outbox outbox(store.get(), Sinks({{"down", &down}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  CHECK(outbox.Append(MakeTestAlert(1), 1) == AppendResult::kAppended);
  CHECK(outbox.Append(MakeTestAlert(1), 1) == AppendResult::kDuplicate);
  CHECK(outbox.Stats().duplicates == 1);
  down.set_failing(false);
  REQUIRE(Eventually([&] { return down.delivered().size() == 1; }));
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  // Once delivered and let go of, the same id is a new alert again (at least once).
  CHECK(outbox.Append(MakeTestAlert(1), 1) == AppendResult::kAppended);
}

TEST_CASE("backoff doubles from initial up to max with equal jitter and honours Retry-After") {
  RetryPolicy p;
  p.initial = 100 * cep::kMillisecond;
  p.max = 1000 * cep::kMillisecond;
  std::mt19937_64 rng(1);
  for (int round = 0; round < 200; ++round) {
    for (int failures = 1; failures <= 8; ++failures) {
      cep::Duration base = std::min<cep::Duration>(p.max, p.initial << (failures - 1));
      cep::Duration d = BackoffDelay(p, failures, 0, &rng);
      INFO("failures " << failures << " delay " << d);
      CHECK(d >= base / 2);
      CHECK(d <= base);
    }
  }
  CHECK(BackoffDelay(p, 1, 700 * cep::kMillisecond, &rng) == 700 * cep::kMillisecond);
  CHECK(BackoffDelay(p, 1, 60 * cep::kSecond, &rng) == p.max);
  CHECK(BackoffDelay(p, 1000, 0, &rng) <= p.max);
}

TEST_CASE("retries wait for the clock: nothing is retried before its backoff deadline") {
  auto store = cep::NewMemoryStore();
  cep::ManualClock clock(kAlertTime);
  ScriptedSink sink;
  sink.set_failing(true);
  OutboxOptions o = FastRetries(&clock);
  o.retry.initial = cep::kSecond;
  o.retry.max = cep::kSecond;
  Outbox outbox(store.get(), Sinks({{"s", &sink}}), o);
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  outbox.Append(MakeTestAlert(1), 1);
  REQUIRE(Eventually([&] { return sink.attempts() == 1; }));
  // Each step forward of the clock past the deadline (at most 1s) allows one more attempt.
  for (int attempt = 2; attempt <= 5; ++attempt) {
    clock.Advance(cep::kSecond);
    outbox.Wake();
    REQUIRE(Eventually([&] { return sink.attempts() == attempt; }));
  }
  sink.set_failing(false);
  clock.Advance(cep::kSecond);
  outbox.Wake();
  REQUIRE(Eventually([&] { return sink.delivered().size() == 1; }));
  CHECK(sink.attempts() == 6);
  CHECK(outbox.Stats().sinks[0].failures == 5);
}

TEST_CASE("an alert undelivered for give_up_after becomes a dead letter, kept across restarts") {
  auto store = cep::NewMemoryStore();
  cep::ManualClock clock(kAlertTime);
  ScriptedSink sink;
  sink.set_failing(true);
  OutboxOptions o = FastRetries(&clock);
  o.retry.initial = cep::kSecond;
  o.retry.max = cep::kMinute;
  o.retry.give_up_after = cep::kHour;
  {
    Outbox outbox(store.get(), Sinks({{"s", &sink}}), o);
    REQUIRE(outbox.Recover().ok());
    outbox.Start();
    for (int i = 1; i <= 3; ++i) outbox.Append(MakeTestAlert(i), 1);
    REQUIRE(Eventually([&] { return sink.attempts() == 1; }));
    clock.Advance(cep::kHour + cep::kSecond);
    outbox.Wake();
    REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].dead_letters == 3; }));
    std::vector<DeadLetter> dead = outbox.DeadLetters();
    REQUIRE(dead.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(dead[i].alert_id == TestAlertId(i + 1));
      CHECK(dead[i].sink == "s");
      CHECK(dead[i].reason.find("undelivered after 1h") != std::string::npos);
      CHECK(dead[i].reason.find("sink is down") != std::string::npos);
      CHECK(dead[i].alert_json == MakeTestAlert(i + 1).json);
    }
    CHECK(outbox.Stats().held == 0);
    // Alerts 2 and 3 were given up without an attempt of their own: the sink was failing
    // and they were as old.
    CHECK(sink.attempts() == 1);
    sink.set_failing(false);
    outbox.Append(MakeTestAlert(4), 1);
    REQUIRE(Eventually([&] { return sink.delivered().size() == 1; }));
    REQUIRE(outbox.Commit(true).ok());
  }
  ScriptedSink again;
  Outbox restarted(store.get(), Sinks({{"s", &again}}), o);
  REQUIRE(restarted.Recover().ok());
  std::vector<DeadLetter> dead = restarted.DeadLetters();
  REQUIRE(dead.size() == 3);
  CHECK(dead[2].alert_id == TestAlertId(3));
  CHECK(restarted.Stats().held == 0);
}

TEST_CASE("an alert the receiver rejects is dead-lettered at once and the next is delivered") {
  auto store = cep::NewMemoryStore();
  ScriptedSink sink;
  sink.Reject(TestAlertId(2));
  Outbox outbox(store.get(), Sinks({{"s", &sink}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 3; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return sink.delivered().size() == 2; }));
  CHECK(sink.delivered() == Strings{TestAlertId(1), TestAlertId(3)});
  REQUIRE(outbox.DeadLetters().size() == 1);
  CHECK(outbox.DeadLetters()[0].reason == "rejected: rejected by the test");
  CHECK(sink.attempts() == 3);
}

TEST_CASE("a full outbox keeps the oldest alerts, counts the overflow and still serves sinks that keep up") {
  auto store = cep::NewMemoryStore();
  ScriptedSink down, up;
  down.set_failing(true);
  OutboxOptions o = FastRetries();
  auto size = [](int i) { return MakeTestAlert(i).json.size() + MakeTestAlert(i).id.size() + 64; };
  o.max_bytes = 20 * size(1);
  size_t fits = 0;  // how many of alerts 1, 2, ... fit under the bound
  for (uint64_t sum = 0; sum + size(static_cast<int>(fits) + 1) <= o.max_bytes; ++fits) sum += size(static_cast<int>(fits) + 1);
  REQUIRE(fits >= 15);
  Outbox outbox(store.get(), Sinks({{"down", &down}, {"up", &up}}), o);
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 60; ++i) {
    REQUIRE(outbox.Append(MakeTestAlert(i), 0b11) == AppendResult::kAppended);
    REQUIRE(Eventually([&] { return up.delivered().size() == static_cast<size_t>(i); }));
  }
  OutboxStats s = outbox.Stats();
  CHECK(up.delivered() == Ids(1, 60));
  CHECK(s.sinks[1].overflow == 0);
  CHECK(s.sinks[0].backlog == fits);
  CHECK(s.sinks[0].overflow == 60 - fits);
  CHECK(s.held_bytes <= o.max_bytes);
  // Only the dead sink left: the outbox refuses, the caller goes on.
  CHECK(outbox.Append(MakeTestAlert(61), 0b01) == AppendResult::kOverflow);
  CHECK(outbox.Stats().overflow == 1);
  down.set_failing(false);
  REQUIRE(Eventually([&] { return down.delivered().size() == fits; }));
  CHECK(down.delivered() == Ids(1, static_cast<int>(fits)));  // the oldest were kept
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  CHECK(outbox.Append(MakeTestAlert(62), 0b01) == AppendResult::kAppended);
}

TEST_CASE("undelivered alerts and each sink's progress survive a restart") {
  auto store = cep::NewMemoryStore();
  ScriptedSink a, b;
  b.set_failing(true);
  {
    Outbox outbox(store.get(), Sinks({{"a", &a}, {"b", &b}}), FastRetries());
    REQUIRE(outbox.Recover().ok());
    outbox.Start();
    for (int i = 1; i <= 10; ++i) outbox.Append(MakeTestAlert(i), 0b11);
    REQUIRE(Eventually([&] { return a.delivered().size() == 10; }));
    REQUIRE(outbox.Commit(true).ok());
    CHECK(KeysWithPrefix(*store, 'a') == 10);
  }
  ScriptedSink a2, b2;
  Outbox outbox(store.get(), Sinks({{"a", &a2}, {"b", &b2}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  CHECK(outbox.Stats().held == 10);
  // Re-processing after the restart re-emits alerts with their ids: those held are dropped.
  CHECK(outbox.Append(MakeTestAlert(4), 0b11) == AppendResult::kDuplicate);
  outbox.Start();
  REQUIRE(Eventually([&] { return b2.delivered().size() == 10; }));
  CHECK(b2.delivered() == Ids(1, 10));
  CHECK(a2.delivered().empty());  // a had them all before the checkpoint
  // New alerts continue after the old ones.
  outbox.Append(MakeTestAlert(11), 0b11);
  REQUIRE(Eventually([&] { return a2.delivered().size() == 1 && b2.delivered().size() == 11; }));
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  REQUIRE(outbox.Commit(true).ok());
  CHECK(KeysWithPrefix(*store, 'a') == 0);
}

TEST_CASE("alerts delivered before a checkpoint never reach the store") {
  auto store = cep::NewMemoryStore();
  ScriptedSink a;
  Outbox outbox(store.get(), Sinks({{"a", &a}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 5; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  cep::StateBatch batch;
  outbox.AddToCheckpoint(&batch);
  for (const auto& op : batch.ops()) {
    CHECK(op.family == cep::StateFamily::kOutbox);
    CHECK(op.key[0] != 'a');  // only the cursor and the next sequence number
  }
  CHECK(batch.size() == 2);
}

TEST_CASE("a checkpoint that failed to write is carried by the next one") {
  auto inner = cep::NewMemoryStore();
  FailOnceStore store(inner.get());
  ScriptedSink down;
  down.set_failing(true);
  {
    Outbox outbox(&store, Sinks({{"s", &down}}), FastRetries());
    REQUIRE(outbox.Recover().ok());
    outbox.Start();
    for (int i = 1; i <= 4; ++i) outbox.Append(MakeTestAlert(i), 1);
    CHECK_FALSE(outbox.Commit(true).ok());
    CHECK(KeysWithPrefix(*inner, 'a') == 0);
    REQUIRE(outbox.Commit(true).ok());
    CHECK(KeysWithPrefix(*inner, 'a') == 4);
  }
  ScriptedSink up;
  Outbox outbox(inner.get(), Sinks({{"s", &up}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  REQUIRE(Eventually([&] { return up.delivered().size() == 4; }));
  CHECK(up.delivered() == Ids(1, 4));
}

TEST_CASE("alerts of a sink removed from the config are dropped at recovery") {
  auto store = cep::NewMemoryStore();
  ScriptedSink gone, kept;
  gone.set_failing(true);
  {
    Outbox outbox(store.get(), Sinks({{"gone", &gone}, {"kept", &kept}}), FastRetries());
    REQUIRE(outbox.Recover().ok());
    outbox.Start();
    outbox.Append(MakeTestAlert(1), 0b01);
    outbox.Append(MakeTestAlert(2), 0b11);
    REQUIRE(Eventually([&] { return kept.delivered().size() == 1; }));
    REQUIRE(outbox.Commit(true).ok());
  }
  ScriptedSink kept2;
  Outbox outbox(store.get(), Sinks({{"kept", &kept2}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  CHECK(outbox.Stats().held == 0);
  REQUIRE(outbox.Commit(true).ok());
  CHECK(KeysWithPrefix(*store, 'a') == 0);
  CHECK(KeysWithPrefix(*store, 'c') == 1);  // the removed sink's cursor is gone too
}

TEST_CASE("the outbox recovers from a RocksDB store") {
  vigil::testing::TempDir dir;
  ScriptedSink down;
  down.set_failing(true);
  {
    auto store = cep::OpenRocksDbStore(dir.path() + "/state");
    REQUIRE(store.ok());
    Outbox outbox(store->get(), Sinks({{"s", &down}}), FastRetries());
    REQUIRE(outbox.Recover().ok());
    outbox.Start();
    for (int i = 1; i <= 25; ++i) outbox.Append(MakeTestAlert(i), 1);
    REQUIRE(outbox.Commit(true).ok());
  }
  auto store = cep::OpenRocksDbStore(dir.path() + "/state");
  REQUIRE(store.ok());
  ScriptedSink up;
  Outbox outbox(store->get(), Sinks({{"s", &up}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  REQUIRE(Eventually([&] { return up.delivered().size() == 25; }));
  CHECK(up.delivered() == Ids(1, 25));
}

TEST_CASE("periodic commits make appended alerts durable without a caller") {
  auto store = cep::NewMemoryStore();
  ScriptedSink down;
  down.set_failing(true);
  Outbox outbox(store.get(), Sinks({{"s", &down}}), FastRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  outbox.StartPeriodicCommit(5 * cep::kMillisecond);
  for (int i = 1; i <= 3; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return KeysWithPrefix(*store, 'a') == 3; }));
  outbox.Stop();
}

TEST_CASE("routing: the rule's sinks or the default ones, above each sink's min_severity") {
  Router router({{"soc", true, SeverityRank("info")},
                 {"pager", false, SeverityRank("high")},
                 {"console", true, SeverityRank("medium")}});
  auto defaults = router.Resolve({});
  REQUIRE(defaults.ok());
  CHECK(*defaults == 0b101);
  auto named = router.Resolve({"pager", "soc"});
  REQUIRE(named.ok());
  CHECK(*named == 0b011);
  auto unknown = router.Resolve({"soc", "pagr"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() == "unknown sink 'pagr' (configured: soc, pager, console)");
  CHECK(router.Route(0b111, "low") == 0b001);
  CHECK(router.Route(0b111, "medium") == 0b101);
  CHECK(router.Route(0b111, "critical") == 0b111);
  CHECK(router.Route(0b010, "medium") == 0);
}

}  // namespace
}  // namespace vigil::alerting::testing
