// The mqtt source against a real mosquitto on loopback, with mosquitto_pub as the
// publisher: topics as metadata, wildcards, QoS 0/1/2 on MQTT 3.1.1 and 5, persistent
// sessions, the ingest log before acknowledgement (broker restarts, crashes, Paho's
// QoS 2 state), shared subscriptions, TLS with client certificates, wrong credentials, a
// broker down at start, back-pressure, option errors.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "mosquitto_support.h"
#include "mqtt/store_persistence.h"
#include "source_support.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace vigil::ingest {
namespace {

using testing::Consumer;
using testing::Eventually;
using testing::Keys;
using testing::LogCapture;
using testing::MakeSource;
using testing::Mosquitto;
using vigil::testing::TempDir;

cep::ConfigNode MqttOptions(const std::string& url, const std::vector<std::string>& topics,
                            std::vector<std::pair<std::string, std::string>> extra = {}) {
  cep::ConfigNode m = cep::ConfigNode::Map();
  m.Set("type", cep::ConfigNode::Scalar("mqtt"));
  m.Set("url", cep::ConfigNode::Scalar(url));
  cep::ConfigNode list = cep::ConfigNode::List();
  for (const std::string& t : topics)
    list.Append(cep::ConfigNode::Scalar(t));
  m.Set("topics", list);
  // Tests reconnect quickly.
  m.Set("reconnect_min", cep::ConfigNode::Scalar("1s"));
  m.Set("reconnect_max", cep::ConfigNode::Scalar("2s"));
  for (const auto& [k, v] : extra)
    m.Set(k, cep::ConfigNode::Scalar(v));
  return m;
}

struct Instance {
  Instance(const cep::ConfigNode& options, cep::StateStore* store,
           QueueLimits limits = QueueLimits(), Durability durability = Durability::kSync)
      : queue(limits), consumer(&queue) {
    SourceContext ctx;
    ctx.stream = "sensors";
    ctx.node_id = "gw-test";
    ctx.store = store;
    ctx.durability = durability;
    ctx.log = logs.fn();
    source = MakeSource(options, ctx);
    if (store) REQUIRE(source->Seek(*store).ok());
    consumer.sources = {source.get()};
    Status st = source->Start(&queue, queue.AddSource("sensors"));
    INFO(st.message());
    REQUIRE(st.ok());
  }
  ~Instance() { source->Stop(); }

  // Waits until connected and subscribed, draining the queue meanwhile as the engine would
  // (a persistent session may deliver at once; a full queue would hold Paho's thread).
  bool WaitRunning() {
    return consumer.PopUntil(
        [&] {
          SourceStatus st = source->status();
          return st.state == SourceState::kRunning && st.message.rfind("subscribed to ", 0) == 0;
        },
        std::chrono::seconds(30));
  }
  // "topic:payload" of every record so far.
  std::vector<std::string> Seen() const {
    std::vector<std::string> out;
    for (const Record& r : consumer.data)
      out.push_back(r.metadata.at(0) + ":" + r.data);
    return out;
  }

  LogCapture logs;
  RecordQueue queue;
  Consumer consumer;
  std::unique_ptr<Source> source;
};

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i)
    ids.push_back("{\"id\":" + std::to_string(i) + "}");
  return ids;
}

size_t LogEntries(const cep::StateStore& store) {
  size_t n = 0;
  for (const std::string& k : Keys(store, cep::StateFamily::kIngestLog))
    n += k.rfind("sensors/", 0) == 0;
  return n;
}

TEST_CASE("mqtt: wildcard subscriptions, and each message's topic as mqtt.topic", "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  Instance vigil(MqttOptions(broker.url(), {"site/+/sensors/#"}), store.get());
  REQUIRE(vigil.WaitRunning());
  CHECK(vigil.source->MetadataFields() == std::vector<std::string>{"mqtt.topic"});
  broker.Publish("site/a/sensors/temp", {"1"}, 1);
  broker.Publish("other/topic", {"not for us"}, 1);
  broker.Publish("site/b/sensors/x/y", {"2"}, 1);
  REQUIRE(vigil.consumer.PopData(2));
  CHECK(vigil.Seen() == std::vector<std::string>{"site/a/sensors/temp:1", "site/b/sensors/x/y:2"});
  CHECK(vigil.source->status().message == "subscribed to site/+/sensors/# at " + broker.url() +
                                              " (QoS 1, MQTT 5, client gw-test-sensors)");
  CHECK(vigil.source->DescribePosition(vigil.consumer.data[1]) ==
        "ingest log #1 (topic site/b/sensors/x/y)");
  // The decoded event gets the topic when a rule reads mqtt.topic.
  cep::FieldRegistry fields;
  cep::FieldId topic = fields.Intern("mqtt.topic");
  MetadataBinder binder(vigil.source->MetadataFields(), fields);
  cep::Event e;
  e.ResetFields(fields.size());
  binder.Apply(vigil.consumer.data[0], &e);
  CHECK(e.field(topic).s == "site/a/sensors/temp");
}

TEST_CASE("mqtt: QoS 0, 1 and 2 over MQTT 3.1.1 and 5, each message logged before it is queued",
          "[mqtt]") {
  auto [version, qos] = GENERATE(table<std::string, int>(
      {{"3.1.1", 0}, {"3.1.1", 1}, {"3.1.1", 2}, {"5", 0}, {"5", 1}, {"5", 2}}));
  INFO("MQTT " << version << " QoS " << qos);
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  Instance vigil(
      MqttOptions(broker.url(), {"t"}, {{"version", version}, {"qos", std::to_string(qos)}}),
      store.get());
  REQUIRE(vigil.WaitRunning());
  vigil.consumer.mark_processed = false;
  broker.Publish("t", Ids(0, 50), qos, version);
  REQUIRE(vigil.consumer.PopData(50));
  CHECK(vigil.consumer.Texts() == Ids(0, 50));
  // Every queued record is in the log; a checkpoint after processing them empties it.
  CHECK(LogEntries(*store) == 50);
  for (const Record& r : vigil.consumer.data)
    vigil.source->Processed(r);
  testing::Checkpoint(store.get(), {vigil.source.get()});
  CHECK(LogEntries(*store) == 0);
}

TEST_CASE("mqtt: QoS 0 messages go in batches, a QoS 1 message takes the batch with it, in order",
          "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  Instance vigil(MqttOptions(broker.url(), {"t"}), store.get());  // subscribed at QoS 1
  REQUIRE(vigil.WaitRunning());
  vigil.consumer.mark_processed = false;
  broker.Publish("t", Ids(0, 300), 0);
  broker.Publish("t", Ids(300, 301), 1);
  broker.Publish("t", Ids(301, 600), 0);
  REQUIRE(vigil.consumer.PopData(600));
  CHECK(vigil.consumer.Texts() == Ids(0, 600));
  CHECK(LogEntries(*store) == 600);
  for (size_t i = 0; i < vigil.consumer.data.size(); ++i) {
    INFO("record " << i);
    CHECK(vigil.consumer.data[i].position == i);
  }
}

TEST_CASE(
    "mqtt: MQTT 3.1.1 QoS 2: Paho's copy of an acknowledged message is in the store until it is "
    "logged",
    "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  // A queue of one record: the second message's callback has to wait, after PUBREC.
  Instance vigil(MqttOptions(broker.url(), {"t"}, {{"version", "3.1.1"}, {"qos", "2"}}),
                 store.get(), QueueLimits{1, 1 << 20});
  REQUIRE(vigil.WaitRunning());
  broker.Publish("t", {"first", "second"}, 2, "3.1.1");
  std::string prefix = StorePersistence::Prefix("sensors", "gw-test-sensors") + "r-";
  auto paho_received = [&] {
    size_t n = 0;
    for (const std::string& k : Keys(*store, cep::StateFamily::kIngestLog))
      n += k.rfind(prefix, 0) == 0;
    return n;
  };
  REQUIRE(Eventually([&] {
    return vigil.queue.size() == 1 && vigil.source->status().records == 1 && paho_received() == 1;
  }));
  REQUIRE(vigil.consumer.PopData(2));
  CHECK(vigil.consumer.Texts() == std::vector<std::string>{"first", "second"});
  CHECK(Eventually([&] { return paho_received() == 0; }));
}

TEST_CASE("mqtt: a persistent session keeps what was published while Vigil was stopped", "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  {
    Instance vigil(MqttOptions(broker.url(), {"t"}, {{"clean_start", "false"}}), store.get());
    REQUIRE(vigil.WaitRunning());
    broker.Publish("t", Ids(0, 3), 1);
    REQUIRE(vigil.consumer.PopData(3));
    testing::Checkpoint(store.get(), {vigil.source.get()});
  }
  broker.Publish("t", Ids(3, 13), 1);  // nobody connected
  Instance vigil(MqttOptions(broker.url(), {"t"}, {{"clean_start", "false"}}), store.get());
  REQUIRE(vigil.consumer.PopData(10));
  CHECK(vigil.consumer.Texts() == Ids(3, 13));
  CHECK(vigil.consumer.data[0].position == 3);  // ingest-log numbers go on
}

TEST_CASE("mqtt: the broker stops mid-stream and restarts: nothing Vigil acknowledged is lost",
          "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  // A small queue the engine does not drain yet: the broker still holds most of the first
  // batch for Vigil's session when it stops.
  Instance vigil(MqttOptions(broker.url(), {"t"}, {{"clean_start", "false"}, {"qos", "1"}}),
                 store.get(), QueueLimits{16, 1 << 20});
  REQUIRE(vigil.WaitRunning());
  broker.Publish("t", Ids(0, 300), 1);
  REQUIRE(Eventually([&] { return vigil.queue.size() == 16; }));
  broker.Stop();
  // Paho reports the lost connection from its receive thread, which waits in the message
  // callback while the queue is full: the engine has to drain for it to notice.
  REQUIRE(vigil.consumer.PopUntil(
      [&] { return vigil.source->status().state == SourceState::kReconnecting; }));
  CHECK(vigil.source->status().message.find("lost") != std::string::npos);
  broker.Start();  // same port, same persistence: the session and its queue come back
  REQUIRE(vigil.WaitRunning());
  broker.Publish("t", Ids(300, 400), 1);
  std::set<std::string> got;
  REQUIRE(vigil.consumer.PopUntil(
      [&] {
        got.clear();
        for (const Record& r : vigil.consumer.data)
          got.insert(r.data);
        return got.size() == 400;
      },
      std::chrono::seconds(60)));
  std::vector<std::string> all = Ids(0, 400);
  CHECK(got == std::set<std::string>(all.begin(), all.end()));
  // Redelivered messages (in flight when the broker stopped) are counted, not lost.
  INFO("records " << vigil.consumer.data.size() << " for 400 ids");
  CHECK(vigil.consumer.data.size() >= 400);
  CHECK(vigil.source->status().reconnects >= 1);
}

TEST_CASE(
    "mqtt: after a crash the acknowledged but unprocessed messages come back from the ingest log",
    "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  {
    Instance vigil(MqttOptions(broker.url(), {"t"}, {{"clean_start", "false"}}), store.get());
    REQUIRE(vigil.WaitRunning());
    vigil.consumer.mark_processed = false;
    broker.Publish("t", Ids(0, 20), 1);
    REQUIRE(vigil.consumer.PopData(20));
    for (int i = 0; i < 5; ++i)
      vigil.source->Processed(vigil.consumer.data[i]);
    testing::Checkpoint(store.get(), {vigil.source.get()});
    // The broker has been told (PUBACK) about all 20; the engine's state only holds 5.
  }
  Instance vigil(MqttOptions(broker.url(), {"t"}, {{"clean_start", "false"}}), store.get());
  REQUIRE(vigil.consumer.PopData(15));
  CHECK(vigil.consumer.Texts() == Ids(5, 20));
  CHECK(vigil.source->status().replayed == 15);
}

TEST_CASE("mqtt: a shared subscription spreads the messages over instances, each once", "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto sa = cep::NewMemoryStore(), sb = cep::NewMemoryStore();
  Instance a(MqttOptions(broker.url(), {"$share/vigil/events/#"}, {{"client_id", "gw-a"}}),
             sa.get());
  Instance b(MqttOptions(broker.url(), {"$share/vigil/events/#"}, {{"client_id", "gw-b"}}),
             sb.get());
  REQUIRE(a.WaitRunning());
  REQUIRE(b.WaitRunning());
  broker.Publish("events/x", Ids(0, 100), 1);
  auto deadline = testing::Clock::now() + std::chrono::seconds(30);
  while (a.consumer.data.size() + b.consumer.data.size() < 100 &&
         testing::Clock::now() < deadline) {
    a.consumer.PopOnce(std::chrono::milliseconds(10));
    b.consumer.PopOnce(std::chrono::milliseconds(10));
  }
  std::multiset<std::string> all;
  for (const std::string& s : a.consumer.Texts())
    all.insert(s);
  for (const std::string& s : b.consumer.Texts())
    all.insert(s);
  CHECK(all.size() == 100);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 100);
  CHECK(a.consumer.data.size() > 0);
  CHECK(b.consumer.data.size() > 0);
  for (const Record& r : a.consumer.data)
    CHECK(r.metadata.at(0) == "events/x");
}

TEST_CASE("mqtt: TLS with a CA and client certificates made at test time", "[mqtt]") {
  TempDir dir;
  auto certs = testing::MakeCertificates(dir);
  testing::BrokerOptions bo;
  bo.cafile = certs.ca_cert;
  bo.certfile = certs.server_cert;
  bo.keyfile = certs.server_key;
  bo.require_certificate = true;
  Mosquitto broker(dir, bo);
  broker.Start();
  auto tls = [&](const std::string& ca, bool with_client_cert) {
    cep::ConfigNode opts = MqttOptions(broker.url(), {"secure/#"});
    cep::ConfigNode t = cep::ConfigNode::Map();
    t.Set("ca_file", cep::ConfigNode::Scalar(ca));
    if (with_client_cert) {
      t.Set("cert_file", cep::ConfigNode::Scalar(certs.client_cert));
      t.Set("key_file", cep::ConfigNode::Scalar(certs.client_key));
    }
    opts.Set("tls", t);
    return opts;
  };
  auto store = cep::NewMemoryStore();
  {
    Instance vigil(tls(certs.ca_cert, true), store.get());
    REQUIRE(vigil.WaitRunning());
    broker.Publish(
        "secure/a", {"over tls"}, 1, "5",
        {"--cafile", certs.ca_cert, "--cert", certs.client_cert, "--key", certs.client_key});
    REQUIRE(vigil.consumer.PopData(1));
    CHECK(vigil.Seen() == std::vector<std::string>{"secure/a:over tls"});
  }
  {
    // A broker certificate from a CA we do not trust: a clear TLS error, retried.
    Instance vigil(tls(certs.other_ca_cert, true), store.get());
    REQUIRE(Eventually([&] { return vigil.source->status().state == SourceState::kError; },
                       std::chrono::seconds(30)));
    std::string msg = vigil.source->status().message;
    CHECK(msg.rfind("TLS with " + broker.url() + " failed: ", 0) == 0);
    CHECK(msg.find("certificate verify failed") != std::string::npos);
    CHECK(Eventually([&] { return vigil.logs.Contains("error: streams.sensors (mqtt): error: TLS with "); }, std::chrono::seconds(10)));
  }
}

TEST_CASE("mqtt: wrong credentials are refused with a clear error naming the source", "[mqtt]") {
  TempDir dir;
  std::string pwfile = dir.Write("passwords", "");
  auto r = vigil::testing::RunProcess({"/usr/bin/mosquitto_passwd", "-b", pwfile, "vigil", "right"},
                                      "", 30);
  REQUIRE(r.exit_code == 0);
  testing::BrokerOptions bo;
  bo.password_file = pwfile;
  Mosquitto broker(dir, bo);
  broker.Start();
  auto version = GENERATE(as<std::string>(), "3.1.1", "5");
  LogCapture logs;
  SourceContext ctx;
  ctx.stream = "sensors";
  ctx.store = nullptr;
  ctx.durability = Durability::kNone;
  ctx.log = logs.fn();
  cep::SecretSource secrets;
  secrets.getenv = [](const std::string&, std::string* v) {
    *v = "wrong";
    return true;
  };
  secrets.read_file = cep::SecretSource::Process().read_file;
  ctx.secrets = &secrets;
  auto source = MakeSource(
      MqttOptions(broker.url(), {"t"},
                  {{"username", "vigil"}, {"password_env", "MQTT_PW"}, {"version", version}}),
      ctx);
  RecordQueue q;
  REQUIRE(source->Start(&q, q.AddSource("sensors")).ok());
  bool error = Eventually([&] { return source->status().state == SourceState::kError; },
                          std::chrono::seconds(30));
  INFO(source->status().message);
  REQUIRE(error);
  CHECK(source->status().message.rfind(
            "the broker at " + broker.url() + " refused the connection: ", 0) == 0);
  // The state changes before the line is logged, on the source's thread.
  CHECK(Eventually([&] { return logs.Contains("error: streams.sensors (mqtt): error: the broker at "); },
                   std::chrono::seconds(10)));
  source->Stop();
}

TEST_CASE("mqtt: a broker down at start is retried with backoff and reported", "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);  // not started yet
  auto store = cep::NewMemoryStore();
  Instance vigil(MqttOptions(broker.url(), {"t"}), store.get());
  REQUIRE(Eventually([&] { return vigil.source->status().state == SourceState::kReconnecting; }));
  CHECK(vigil.source->status().message.rfind("cannot connect to " + broker.url() + ": ", 0) == 0);
  CHECK(vigil.source->status().message.find("; retrying in 1s") != std::string::npos);
  broker.Start();
  REQUIRE(vigil.WaitRunning());
  broker.Publish("t", {"finally"}, 1);
  REQUIRE(vigil.consumer.PopData(1));
  // The retry loop waits between attempts rather than spinning.
  CHECK(vigil.source->status().wakeups < 20);
}

TEST_CASE("mqtt: a full queue makes the message callback wait, all messages arrive in order",
          "[mqtt]") {
  TempDir dir;
  Mosquitto broker(dir);
  broker.Start();
  auto store = cep::NewMemoryStore();
  Instance vigil(MqttOptions(broker.url(), {"t"}), store.get(), QueueLimits{4, 1 << 20});
  REQUIRE(vigil.WaitRunning());
  broker.Publish("t", Ids(0, 200), 1);
  REQUIRE(Eventually([&] { return vigil.source->status().backpressure_waits > 0; }));
  CHECK(vigil.queue.size() <= 4);
  REQUIRE(vigil.consumer.PopData(200));
  CHECK(vigil.consumer.Texts() == Ids(0, 200));
}

TEST_CASE("mqtt: option errors name the key path", "[mqtt]") {
  cep::ConfigNode m = MqttOptions("http://x", {"t"}, {{"qos", "3"}, {"version", "4"}});
  Status st = CheckSource(m, "streams.sensors.source");
  CHECK(st.message() ==
        "streams.sensors.source.url: expected tcp://host:port or ssl://host:port, got 'http://x'\n"
        "streams.sensors.source.qos: must be 0, 1 or 2\n"
        "streams.sensors.source.version: expected one of 3.1.1 | 5, got '4'");
  cep::ConfigNode t = MqttOptions("ssl://127.0.0.1:8883", {"t"});
  cep::ConfigNode tls = cep::ConfigNode::Map();
  tls.Set("ca_fil", cep::ConfigNode::Scalar("x"));
  tls.Set("cert_file", cep::ConfigNode::Scalar("c.pem"));
  t.Set("tls", tls);
  CHECK(CheckSource(t, "streams.sensors.source").message() ==
        "streams.sensors.source.tls.ca_fil: unknown option; did you mean 'ca_file'?");
  cep::ConfigNode no_topics = cep::ConfigNode::Map();
  no_topics.Set("type", cep::ConfigNode::Scalar("mqtt"));
  no_topics.Set("url", cep::ConfigNode::Scalar("tcp://127.0.0.1:1883"));
  CHECK(CheckSource(no_topics, "streams.sensors.source").message() ==
        "streams.sensors.source.topics: required");
}

}  // namespace
}  // namespace vigil::ingest
