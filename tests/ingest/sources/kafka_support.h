// Test support for the kafka source: librdkafka's mock cluster (the real Kafka protocol on
// loopback, in this process), kcat as an independent producer, and the group's committed
// offsets read back with a separate client.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace vigil::ingest::testing {

class MockKafka {
 public:
  explicit MockKafka(int brokers = 1) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(rk_ != nullptr);
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    REQUIRE(cluster_ != nullptr);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~MockKafka() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

  void CreateTopic(const std::string& topic, int partitions) {
    REQUIRE(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void BrokerDown(int id = 1) {
    REQUIRE(rd_kafka_mock_broker_set_down(cluster_, id) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void BrokerUp(int id = 1) {
    REQUIRE(rd_kafka_mock_broker_set_up(cluster_, id) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Produces `values` (one message each, in order) to one partition with kcat.
  void Produce(const std::string& topic, int partition, const std::vector<std::string>& values) {
    std::string input;
    for (const std::string& v : values)
      input += v + "\n";
    auto r = vigil::testing::RunProcess({"/usr/bin/kcat", "-P", "-b", bootstraps_, "-t", topic,
                                         "-p", std::to_string(partition), "-X", "log_level=0"},
                                        input, 60);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }

  // Produces one message with a key and no value (a tombstone), which kcat cannot send.
  void ProduceWithoutValue(const std::string& topic, int partition) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(p != nullptr);
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY("k", 1), RD_KAFKA_V_VALUE(nullptr, 0), RD_KAFKA_V_END);
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(rd_kafka_flush(p, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);
  }

  // The group's committed offset of a partition (-1001 when none), read by a client that
  // does not join the group.
  int64_t Committed(const std::string& group, const std::string& topic, int partition) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE(c != nullptr);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(c, list, 10000);
    int64_t offset = e == RD_KAFKA_RESP_ERR_NO_ERROR ? list->elems[0].offset : -2;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(c);
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
    return offset;
  }

  // Commits `offset` for a partition of `group` from outside (as another instance would).
  void Commit(const std::string& group, const std::string& topic, int partition, int64_t offset) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE(c != nullptr);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
    rd_kafka_resp_err_t e = rd_kafka_commit(c, list, 0);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(c);
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace vigil::ingest::testing
