// The kafka sink against librdkafka's mock cluster (in-process, on loopback), read back
// with a consumer.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <map>

#include "support/net.h"
#include "support/sinks.h"
#include "vigil/cep/state_store.h"

namespace vigil::alerting::testing {
namespace {

// A mock cluster of one broker with topic vigil-alerts (3 partitions).
class MockCluster {
 public:
  MockCluster() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(rk_);
    cluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    REQUIRE(cluster_);
    REQUIRE(rd_kafka_mock_topic_create(cluster_, "vigil-alerts", 3, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void SetDown() { rd_kafka_mock_broker_set_down(cluster_, 1); }
  void SetUp() { rd_kafka_mock_broker_set_up(cluster_, 1); }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

struct Consumed {
  std::string key, value;
  int32_t partition;
};

// Reads `n` messages of vigil-alerts from the beginning (bounded in time).
std::vector<Consumed> Consume(const std::string& brokers, size_t n) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [k, v] : std::vector<std::pair<const char*, const char*>>{
           {"bootstrap.servers", brokers.c_str()}, {"group.id", "vigil-test"},
           {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}, {"log_level", "0"}}) {
    REQUIRE(rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK);
  }
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(c);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "vigil-alerts", RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(c, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  std::vector<Consumed> out;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.size() < n && std::chrono::steady_clock::now() < end) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (!m) continue;
    if (!m->err) {
      out.push_back({std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len), m->partition});
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return out;
}

TEST_CASE("kafka: the alert as the value and its key as the message key, one partition per key, in order") {
  MockCluster cluster;
  auto sink = MakeSink(R"({"type":"kafka","brokers":")" + cluster.bootstraps() + R"(","topic":"vigil-alerts"})");
  std::vector<Alert> alerts;
  // Alerts 1..12 over three keys (n % 250 is the last octet: make keys repeat).
  for (int i = 1; i <= 12; ++i) {
    Alert a = MakeTestAlert(i);
    std::string ip = "10.0.0." + std::to_string(i % 3);
    a.key_json = "{\"source.ip\":\"" + ip + "\"}";
    size_t k = a.json.find("\"key\":");
    size_t e = a.json.find('}', k);
    a.json = a.json.substr(0, k) + "\"key\":" + a.key_json + a.json.substr(e + 1);
    alerts.push_back(a);
    DeliveryResult r = sink->Deliver(*ViewOf(a));
    INFO(r.error);
    REQUIRE(r.ok());
  }
  std::vector<Consumed> got = Consume(cluster.bootstraps(), 12);
  REQUIRE(got.size() == 12);
  std::map<std::string, int32_t> partition_of_key;
  std::map<std::string, std::vector<std::string>> values_by_key;
  for (const Consumed& m : got) {
    auto [it, fresh] = partition_of_key.emplace(m.key, m.partition);
    CHECK(it->second == m.partition);
    values_by_key[m.key].push_back(m.value);
  }
  CHECK(partition_of_key.size() == 3);
  for (const Alert& a : alerts) {
    auto& v = values_by_key[a.key_json];
    REQUIRE_FALSE(v.empty());
    CHECK(v.front() == a.json);  // per key, in the order produced
    v.erase(v.begin());
  }
}

TEST_CASE("kafka: ECS documents and a broker outage, retried by the outbox until the broker is back") {
  MockCluster cluster;
  auto store = cep::NewMemoryStore();
  std::vector<OutboxSink> sinks;
  sinks.push_back({"topic", MakeSink(R"({"type":"kafka","brokers":")" + cluster.bootstraps() +
                                     R"(","topic":"vigil-alerts","format":"ecs","timeout":"300ms"})")});
  Outbox outbox(store.get(), std::move(sinks), QuickRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  cluster.SetDown();
  for (int i = 1; i <= 5; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].failures >= 1; }));
  CHECK(outbox.Stats().sinks[0].delivered == 0);
  cluster.SetUp();
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }, std::chrono::seconds(60)));
  std::vector<Consumed> got = Consume(cluster.bootstraps(), 5);
  REQUIRE(got.size() >= 5);
  std::vector<std::string> ids;
  for (const Consumed& m : got) {
    CHECK(m.value.find("\"kind\":\"alert\"") != std::string::npos);
    size_t p = m.value.find("\"id\":\"");
    REQUIRE(p != std::string::npos);
    ids.push_back(m.value.substr(p + 6, 32));
  }
  for (int i = 1; i <= 5; ++i) CHECK(std::count(ids.begin(), ids.end(), TestAlertId(i)) >= 1);
}

}  // namespace
}  // namespace vigil::alerting::testing
