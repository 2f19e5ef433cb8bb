// The kafka source against librdkafka's mock cluster (real protocol, loopback), with kcat as
// an independent producer: partitions and offsets, resuming from a stored or committed
// offset, commits only after checkpoints, a cooperative rebalance between two instances,
// brokers down at start and mid-run, wrong credentials, back-pressure, dead letters.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>

#include "fake_sasl_broker.h"
#include "kafka_support.h"
#include "source_support.h"
#include "vigil/ingest/dead_letter.h"

namespace vigil::ingest {
namespace {

using testing::Checkpoint;
using testing::Consumer;
using testing::Eventually;
using testing::LogCapture;
using testing::MakeSource;
using testing::MockKafka;
using testing::Options;

cep::ConfigNode KafkaOptions(const std::string& brokers, const std::string& topic,
                             std::vector<std::pair<std::string, std::string>> extra = {}) {
  cep::ConfigNode m =
      Options({{"type", "kafka"}, {"brokers", brokers}, {"topic", topic}, {"group", "vigil-test"}});
  for (const auto& [k, v] : extra)
    m.Set(k, cep::ConfigNode::Scalar(v));
  // Quicker group protocol for tests.
  cep::ConfigNode props = cep::ConfigNode::Map();
  props.Set("heartbeat.interval.ms", cep::ConfigNode::Scalar("100"));
  props.Set("log_level", cep::ConfigNode::Scalar("3"));
  m.Set("properties", props);
  m.Set("session_timeout", cep::ConfigNode::Scalar("6s"));
  return m;
}

// One Vigil instance: a kafka source, its queue and a consumer playing the engine.
struct Instance {
  Instance(const cep::ConfigNode& options, cep::StateStore* store,
           QueueLimits limits = QueueLimits(), const std::string& stream = "auth")
      : queue(limits), consumer(&queue) {
    SourceContext ctx;
    ctx.stream = stream;
    ctx.node_id = "test-node";
    ctx.log = logs.fn();
    ctx.dead_letters = &dead;
    secrets.getenv = [](const std::string& name, std::string* value) {
      if (name != "KAFKA_PASSWORD") return false;
      *value = "not-the-password";
      return true;
    };
    secrets.read_file = cep::SecretSource::Process().read_file;
    ctx.secrets = &secrets;
    source = MakeSource(options, ctx);
    if (store) REQUIRE(source->Seek(*store).ok());
    consumer.sources = {source.get()};
    consumer.checkpoint_store = store;
    Status st = source->Start(&queue, queue.AddSource(stream));
    INFO(st.message());
    REQUIRE(st.ok());
  }
  ~Instance() { source->Stop(); }

  // "p<partition>@<offset>:<value>" of every record so far.
  std::vector<std::string> Seen() const {
    std::vector<std::string> out;
    for (const Record& r : consumer.data) {
      out.push_back("p" + std::to_string(r.partition) + "@" + std::to_string(r.position) + ":" +
                    r.data);
    }
    return out;
  }

  LogCapture logs;
  DeadLetters dead{logs.fn()};
  cep::SecretSource secrets;
  RecordQueue queue;
  Consumer consumer;
  std::unique_ptr<Source> source;
};

using Seen = std::vector<std::string>;

TEST_CASE("kafka: each Kafka partition is a partition index and positions are offsets", "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 2);
  kafka.Produce("logs", 0, {"a0", "a1", "a2"});
  kafka.Produce("logs", 1, {"b0", "b1"});
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), nullptr);
  REQUIRE(vigil.consumer.PopData(5));
  std::vector<std::string> seen = vigil.Seen();
  std::sort(seen.begin(), seen.end());
  CHECK(seen == Seen{"p0@0:a0", "p0@1:a1", "p0@2:a2", "p1@0:b0", "p1@1:b1"});
  for (const Record& r : vigil.consumer.data)
    CHECK(r.end == r.position + 1);
  SourceStatus st = vigil.source->status();
  CHECK(st.state == SourceState::kRunning);
  CHECK(st.message ==
        "consuming 'logs' from " + kafka.bootstraps() + " in group 'vigil-test', partitions [0,1]");
  // The counters follow the queue push; the consumer may have popped first.
  REQUIRE(Eventually([&] { return vigil.source->status().records == 5; }));
  st = vigil.source->status();
  CHECK(st.records == 5);
  REQUIRE(st.partitions.size() == 2);
  CHECK(st.partitions[0].next == 3);
  CHECK(vigil.source->DescribePosition(vigil.consumer.data[0]).find("offset") != std::string::npos);
  CHECK(vigil.logs.Contains("info: streams.auth (kafka): assigned partitions "));
}

TEST_CASE(
    "kafka: a partition resumes at the stored offset, or the committed one when that is ahead",
    "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 2);
  kafka.Produce("logs", 0, {"m0", "m1", "m2", "m3", "m4"});
  kafka.Produce("logs", 1, {"n0", "n1", "n2", "n3", "n4"});
  auto store = cep::NewMemoryStore();
  cep::StateBatch batch;
  batch.Put(cep::StateFamily::kPositions, "auth/0", "offset=3");  // a checkpoint this instance took
  batch.Put(cep::StateFamily::kPositions, "auth/1", "offset=1");
  REQUIRE(store->Write(batch, true).ok());
  kafka.Commit("vigil-test", "logs", 1, 4);  // another instance got further on partition 1
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), store.get());
  REQUIRE(vigil.consumer.PopData(3));
  std::vector<std::string> seen = vigil.Seen();
  std::sort(seen.begin(), seen.end());
  CHECK(seen == Seen{"p0@3:m3", "p0@4:m4", "p1@4:n4"});
}

TEST_CASE("kafka: offsets are committed to the group only after a checkpoint covers them",
          "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 1);
  kafka.Produce("logs", 0, {"x0", "x1", "x2"});
  auto store = cep::NewMemoryStore();
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), store.get());
  vigil.consumer.mark_processed = false;
  REQUIRE(vigil.consumer.PopData(3));
  vigil.source->Processed(vigil.consumer.data[0]);
  vigil.source->Processed(vigil.consumer.data[1]);
  CHECK(kafka.Committed("vigil-test", "logs", 0) == RD_KAFKA_OFFSET_INVALID);
  cep::StateBatch batch;
  vigil.source->AddPositions(&batch);
  REQUIRE(store->Write(batch, true).ok());
  CHECK(testing::Get(*store, cep::StateFamily::kPositions, "auth/0") == "offset=2");
  CHECK(kafka.Committed("vigil-test", "logs", 0) == RD_KAFKA_OFFSET_INVALID);  // not durable yet
  vigil.source->OnCheckpointed();
  CHECK(Eventually([&] { return kafka.Committed("vigil-test", "logs", 0) == 2; }));
}

TEST_CASE(
    "kafka: a rebalance to a second instance checkpoints first, nothing is lost or read twice",
    "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 4);
  for (int p = 0; p < 4; ++p)
    kafka.Produce("logs", p, {"p" + std::to_string(p) + "-0", "p" + std::to_string(p) + "-1"});
  auto store_a = cep::NewMemoryStore(), store_b = cep::NewMemoryStore();
  Instance a(KafkaOptions(kafka.bootstraps(), "logs"), store_a.get());
  REQUIRE(a.consumer.PopData(8));
  // A periodic checkpoint, as the runtime takes every checkpoint_interval, and its commit.
  // The commit made inside the revocation callback below can fail when the coordinator has
  // already begun the next generation (librdkafka 2.0.2 with the mock cluster, about one
  // run in three on a loaded VM: REBALANCE_IN_PROGRESS, then ILLEGAL_GENERATION); the next
  // owner then resumes from this commit. Without it, that run would re-read everything.
  Checkpoint(store_a.get(), {a.source.get()});
  for (int p = 0; p < 4; ++p)
    REQUIRE(Eventually([&] { return kafka.Committed("vigil-test", "logs", p) == 2; }));
  Instance b(KafkaOptions(kafka.bootstraps(), "logs"), store_b.get());
  // Drive both engines until the partitions are shared.
  auto pump = [&](const std::function<bool()>& done) {
    auto deadline = testing::Clock::now() + std::chrono::seconds(60);
    while (!done()) {
      if (testing::Clock::now() > deadline) return false;
      a.consumer.PopOnce(std::chrono::milliseconds(10));
      b.consumer.PopOnce(std::chrono::milliseconds(10));
    }
    return true;
  };
  auto assigned = [](const Instance& i) {
    int n = 0;
    for (const PartitionStatus& p : i.source->status().partitions)
      n += p.assigned;
    return n;
  };
  // What both instances logged, to read when a check below fails.
  auto logs = [&] {
    std::string out;
    for (const std::string& l : a.logs.lines())
      out += "A " + l + "\n";
    for (const std::string& l : b.logs.lines())
      out += "B " + l + "\n";
    return out;
  };
  REQUIRE(pump([&] { return assigned(b) > 0 && assigned(a) + assigned(b) == 4; }));
  INFO(logs());
  // A gave partitions away only after a checkpoint requested for that purpose.
  CHECK(a.consumer.checkpoints >= 1);  // Checkpoint() above answered no request
  int revoked = 0;
  for (const Record& r : a.consumer.controls)
    revoked += r.kind == RecordKind::kPartitionRevoked;
  CHECK(revoked == assigned(b));
  for (const PartitionStatus& p : b.source->status().partitions) {
    if (p.assigned)
      CHECK(kafka.Committed("vigil-test", "logs", static_cast<int>(p.partition)) == 2);
  }
  for (int p = 0; p < 4; ++p)
    kafka.Produce("logs", p, {"p" + std::to_string(p) + "-2"});
  bool all_read = pump([&] { return a.consumer.data.size() + b.consumer.data.size() >= 12; });
  INFO(logs());
  REQUIRE(all_read);
  std::multiset<std::string> all;
  for (const std::string& s : a.Seen())
    all.insert(s);
  for (const std::string& s : b.Seen())
    all.insert(s);
  std::set<std::string> unique(all.begin(), all.end());
  CHECK(all.size() == 12);  // every message exactly once
  CHECK(unique.size() == 12);
  // B only saw what was produced after it took its partitions.
  for (const std::string& s : b.Seen())
    CHECK(s.find("-2") != std::string::npos);
}

TEST_CASE("kafka: brokers down at start are retried with backoff, reported, and not busy-polled",
          "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 1);
  kafka.Produce("logs", 0, {"first"});
  kafka.BrokerDown();
  auto started = testing::Clock::now();
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), nullptr);
  REQUIRE(Eventually([&] { return vigil.source->status().state == SourceState::kReconnecting; }));
  SourceStatus st = vigil.source->status();
  CHECK(st.message.rfind("cannot reach the brokers (", 0) == 0);
  CHECK(st.message.find("retrying with backoff") != std::string::npos);
  CHECK(
      vigil.logs.Contains("warning: streams.auth (kafka): reconnecting: cannot reach the brokers"));
  // Let a few reconnection attempts pass; the poll loop wakes once per poll interval (100ms),
  // not in a tight loop.
  REQUIRE(vigil.consumer.PopUntil(
      [&] { return testing::Clock::now() - started > std::chrono::milliseconds(1500); },
      std::chrono::seconds(5)));
  auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(testing::Clock::now() - started)
          .count();
  CHECK(vigil.source->status().wakeups <= static_cast<uint64_t>(elapsed_ms / 100 * 2 + 10));
  kafka.BrokerUp();
  REQUIRE(vigil.consumer.PopData(1, std::chrono::seconds(60)));
  CHECK(vigil.Seen() == Seen{"p0@0:first"});
  CHECK(vigil.source->status().state == SourceState::kRunning);
}

TEST_CASE("kafka: a broker that goes down mid-run is waited for, the stream resumes without gaps",
          "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 1);
  kafka.Produce("logs", 0, {"m0", "m1"});
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), nullptr);
  REQUIRE(vigil.consumer.PopData(2));
  kafka.BrokerDown();
  REQUIRE(Eventually([&] { return vigil.source->status().state == SourceState::kReconnecting; },
                     std::chrono::seconds(30)));
  kafka.BrokerUp();
  kafka.Produce("logs", 0, {"m2", "m3"});
  REQUIRE(vigil.consumer.PopData(4, std::chrono::seconds(60)));
  CHECK(vigil.Seen() == Seen{"p0@0:m0", "p0@1:m1", "p0@2:m2", "p0@3:m3"});
  CHECK(Eventually([&] { return vigil.source->status().state == SourceState::kRunning; }));
  CHECK(vigil.source->status().reconnects >= 1);
}

TEST_CASE("kafka: wrong credentials are a clear error naming the source", "[kafka]") {
  testing::FakeSaslBroker broker;
  Instance vigil(KafkaOptions(broker.address(), "logs",
                              {{"security.protocol", "sasl_plaintext"},
                               {"sasl.mechanism", "PLAIN"},
                               {"sasl.username", "vigil-reader"},
                               {"sasl.password_env", "KAFKA_PASSWORD"}}),
                 nullptr);
  REQUIRE(Eventually([&] { return vigil.source->status().state == SourceState::kError; },
                     std::chrono::seconds(30)));
  SourceStatus st = vigil.source->status();
  CHECK(st.message.rfind("authentication failed: ", 0) == 0);
  CHECK(st.message.find("Invalid username or password") != std::string::npos);
  CHECK(Eventually(
      [&] {
        return vigil.logs.Contains("error: streams.auth (kafka): error: authentication failed: ");
      },
      std::chrono::seconds(10)));
  CHECK(broker.auth_attempts() >= 1);
  CHECK(broker.users().at(0) == "vigil-reader");
}

TEST_CASE("kafka: a full queue pauses fetching, every message still arrives once, in order",
          "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 1);
  std::vector<std::string> values;
  for (int i = 0; i < 300; ++i)
    values.push_back("v" + std::to_string(i));
  kafka.Produce("logs", 0, values);
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), nullptr, QueueLimits{4, 1 << 20});
  REQUIRE(Eventually([&] { return vigil.source->status().backpressure_waits > 0; },
                     std::chrono::seconds(30)));
  CHECK(vigil.queue.size() <= 4);
  REQUIRE(vigil.consumer.PopData(300, std::chrono::seconds(60)));
  for (int i = 0; i < 300; ++i)
    CHECK(vigil.consumer.data[i].data == "v" + std::to_string(i));
  CHECK(vigil.consumer.data.size() == 300);
}

TEST_CASE("kafka: a message without a value is dead-lettered with its offset", "[kafka]") {
  MockKafka kafka;
  kafka.CreateTopic("logs", 1);
  kafka.Produce("logs", 0, {"before"});
  kafka.ProduceWithoutValue("logs", 0);
  kafka.Produce("logs", 0, {"after"});
  Instance vigil(KafkaOptions(kafka.bootstraps(), "logs"), nullptr);
  REQUIRE(vigil.consumer.PopData(2));
  CHECK(vigil.Seen() == Seen{"p0@0:before", "p0@2:after"});
  CHECK(vigil.dead.count("auth") == 1);
  CHECK(vigil.dead.recent().at(0).where == "partition 0 offset 1 of 'logs'");
}

TEST_CASE("kafka: option errors name the key path", "[kafka]") {
  CHECK(
      CheckSource(Options({{"type", "kafka"}, {"topic", "t"}}), "streams.auth.source").message() ==
      "streams.auth.source.brokers: required");
  CHECK(CheckSource(Options({{"type", "kafka"},
                             {"brokers", "b:9092"},
                             {"topic", "t"},
                             {"sasl.password", "hunter2"}}),
                    "streams.auth.source")
            .message() ==
        "streams.auth.source.sasl.password: secrets are not written in the file: use "
        "password_env (an environment variable) or password_file (a file holding it)");
  cep::ConfigNode props = cep::ConfigNode::Map();
  props.Set("enable.auto.commit", cep::ConfigNode::Scalar("true"));
  cep::ConfigNode m = Options({{"type", "kafka"}, {"brokers", "b:9092"}, {"topic", "t"}});
  m.Set("properties", props);
  CHECK(CheckSource(m, "streams.auth.source").message() ==
        "streams.auth.source.properties: 'enable.auto.commit' is set by Vigil or by its own option "
        "here, not "
        "through properties");
  CHECK(CheckSource(Options({{"type", "kafka"},
                             {"brokers", "b:9092"},
                             {"topic", "t"},
                             {"security.protocol", "tls"}}),
                    "streams.auth.source")
            .message() ==
        "streams.auth.source.security.protocol: expected one of plaintext | ssl | sasl_plaintext | "
        "sasl_ssl, got "
        "'tls'");
  // librdkafka's own checks of pass-through properties name the property.
  cep::ConfigNode bad = Options({{"type", "kafka"}, {"brokers", "b:9092"}, {"topic", "t"}});
  cep::ConfigNode bad_props = cep::ConfigNode::Map();
  bad_props.Set("fetch.wait.max.ms", cep::ConfigNode::Scalar("soon"));
  bad.Set("properties", bad_props);
  SourceContext ctx;
  ctx.stream = "auth";
  auto src = CreateSource(bad, "streams.auth.source", ctx);
  REQUIRE(src.ok());
  RecordQueue q;
  Status st = (*src)->Start(&q, q.AddSource("auth"));
  CHECK(st.message().rfind("streams.auth.source.properties.fetch.wait.max.ms: ", 0) == 0);
}

}  // namespace
}  // namespace vigil::ingest
