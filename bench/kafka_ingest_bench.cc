// Kafka consume → decode → engine, one instance, against librdkafka's mock cluster on
// loopback (the real Kafka protocol, an in-process broker). The events are the sshd samples
// of examples/ with increasing timestamps. Timed from the first record to the last (the
// group join is excluded). One JSON object per mode:
//   raw       librdkafka alone (rd_kafka_consume_batch_queue), the ceiling on this machine
//   consume   the kafka source and the queue, as the engine thread sees them
//   pipeline  the source, then JSON decoding and the rules (the Pipeline `vigil replay` uses)
//
//   build/release/bench/kafka_ingest_bench [--events N] [--partitions P] [--mode
//   raw|consume|pipeline|all]
//                                          [--rules PATH]...
//
// raw and consume read events produced beforehand. The mock broker keeps about 5 MB per
// partition, so N events need N * ~330 bytes / 5 MB partitions (the defaults, 1M events over
// 96 partitions, fit). pipeline produces while it consumes (at most 40k messages ahead)
// into 4 partitions whose event times advance together, so that the Pipeline's one
// watermark per stream sees them in order within --max-delay (default 5s).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vigil/edge/pipeline.h"
#include "vigil/ingest/record_queue.h"
#include "vigil/ingest/source_registry.h"
#include "vigil/rules/ruleset.h"

namespace {

using namespace vigil;
using Steady = std::chrono::steady_clock;

struct Args {
  size_t events = 1'000'000;
  int partitions = 96;
  std::string mode = "all";
  std::vector<std::string> rules;
  cep::Duration max_delay = 5 * cep::kSecond;
};

// The sample events with @timestamp rewritten: the i-th event of `partitions` interleaved
// partitions gets base + (i / partitions) ms, so partitions advance together.
std::vector<std::string> Events(size_t n, int partitions) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/examples/sshd-events.jsonl", std::ios::binary);
  std::vector<std::string> templates;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) templates.push_back(line);
  }
  std::vector<std::string> out;
  out.reserve(n);
  const cep::Timestamp base = 1733813746000LL * cep::kMillisecond;
  for (size_t i = 0; i < n && !templates.empty(); ++i) {
    std::string e = templates[i % templates.size()];
    size_t at = e.find("\"@timestamp\":\"");
    if (at != std::string::npos) {
      size_t end = e.find('"', at + 14);
      cep::Timestamp t =
          base + static_cast<int64_t>(i / static_cast<size_t>(partitions)) * cep::kMillisecond;
      e.replace(at + 14, end - at - 14, cep::FormatRfc3339Millis(t));
    }
    out.push_back(std::move(e));
  }
  return out;
}

class Mock {
 public:
  explicit Mock(int partitions) {
    char err[256];
    rd_kafka_conf_t* c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
    admin_ = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    mock_ = rd_kafka_mock_cluster_new(admin_, 1);
    brokers = rd_kafka_mock_cluster_bootstraps(mock_);
    rd_kafka_mock_topic_create(mock_, "auth", partitions, 1);
  }
  ~Mock() {
    rd_kafka_mock_cluster_destroy(mock_);
    rd_kafka_destroy(admin_);
  }
  std::string brokers;

 private:
  rd_kafka_t* admin_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
};

// Produces events[i] to partition i % partitions, staying at most `ahead` messages in front
// of *consumed (no limit when null).
void Produce(const std::string& brokers, const std::vector<std::string>& events, int partitions,
             const std::atomic<size_t>* consumed, size_t ahead) {
  char err[256];
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof err);
  rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err, sizeof err);
  rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  for (size_t i = 0; i < events.size(); ++i) {
    while (consumed && i > consumed->load(std::memory_order_relaxed) + ahead)
      rd_kafka_poll(p, 1);
    while (
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC("auth"),
                          RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % partitions)),
                          RD_KAFKA_V_VALUE(const_cast<char*>(events[i].data()), events[i].size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p, 10);
    }
  }
  rd_kafka_flush(p, 120000);
  if (consumed == nullptr) {
    // The mock broker keeps about 5 MB per partition: anything older is gone, so a run
    // would wait for messages that no longer exist.
    for (int part = 0; part < partitions; ++part) {
      int64_t lo = 0, hi = 0;
      rd_kafka_query_watermark_offsets(p, "auth", part, &lo, &hi, 10000);
      if (lo != 0) {
        std::fprintf(
            stderr,
            "kafka_ingest_bench: the mock broker dropped the oldest messages of partition %d "
            "(kept %lld..%lld): use more --partitions or fewer --events\n",
            part, static_cast<long long>(lo), static_cast<long long>(hi));
        std::exit(1);
      }
    }
  }
  rd_kafka_destroy(p);
}

void Report(const std::string& mode, size_t n, int partitions, double secs, size_t bytes,
            const std::string& extra) {
  std::printf(
      "{\"bench\":\"kafka_ingest\",\"mode\":\"%s\",\"events\":%zu,\"partitions\":%d,\"seconds\":%."
      "3f,"
      "\"events_per_s\":%.0f,\"mb_per_s\":%.1f%s}\n",
      mode.c_str(), n, partitions, secs, n / secs, bytes / secs / 1e6, extra.c_str());
  std::fflush(stdout);
}

size_t Bytes(const std::vector<std::string>& events) {
  size_t b = 0;
  for (const std::string& e : events)
    b += e.size();
  return b;
}

int RunRaw(const Args& a) {
  Mock mock(a.partitions);
  std::vector<std::string> events = Events(a.events, a.partitions);
  Produce(mock.brokers, events, a.partitions, nullptr, 0);
  char err[256];
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", mock.brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(c, "group.id", "raw", err, sizeof err);
  rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof err);
  rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, "auth", RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> msgs(1024);
  size_t got = 0;
  Steady::time_point first;
  while (got < a.events) {
    ssize_t k = rd_kafka_consume_batch_queue(q, 100, msgs.data(), msgs.size());
    for (ssize_t i = 0; i < k; ++i) {
      if (!msgs[i]->err) {
        if (got++ == 0) first = Steady::now();
      }
      rd_kafka_message_destroy(msgs[i]);
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - first).count();
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  Report("raw", got, a.partitions, secs, Bytes(events), "");
  return 0;
}

class CountAlerts final : public edge::AlertHandler {
 public:
  void OnAlert(const alerting::Alert&) override { ++alerts; }
  uint64_t alerts = 0;
};

int RunSource(const Args& a, bool pipeline) {
  const int partitions = pipeline ? 4 : a.partitions;
  Mock mock(partitions);
  std::vector<std::string> events = Events(a.events, partitions);
  std::atomic<size_t> consumed{0};
  std::thread producer;
  if (pipeline) {
    producer = std::thread([&] { Produce(mock.brokers, events, partitions, &consumed, 40000); });
  } else {
    Produce(mock.brokers, events, partitions, nullptr, 0);
  }

  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Diagnostics diags;
  std::vector<std::string> rule_paths = a.rules;
  if (rule_paths.empty()) rule_paths = {std::string(VIGIL_SOURCE_DIR) + "/rulesets/soc"};
  rules::Ruleset rs = rules::LoadRuleset(rule_paths, fields.get(), &diags);
  if (!diags.empty()) {
    std::fprintf(stderr, "kafka_ingest_bench: %s\n", diags.front().ToString().c_str());
    return 1;
  }
  const size_t rule_count = rs.rules.size();
  edge::PipelineOptions po;
  po.stream = "auth";
  po.format = "json";
  po.timestamp.fields = {"@timestamp"};
  po.max_delay = a.max_delay;
  CountAlerts alerts;
  auto made = edge::Pipeline::Create(std::move(rs), fields, po, &alerts);
  if (!made.ok()) {
    std::fprintf(stderr, "kafka_ingest_bench: %s\n", made.status().message().c_str());
    return 1;
  }
  edge::Pipeline& p = **made;

  cep::ConfigNode options = cep::ConfigNode::Map();
  options.Set("type", cep::ConfigNode::Scalar("kafka"));
  options.Set("brokers", cep::ConfigNode::Scalar(mock.brokers));
  options.Set("topic", cep::ConfigNode::Scalar("auth"));
  options.Set("group", cep::ConfigNode::Scalar("bench"));
  cep::ConfigNode props = cep::ConfigNode::Map();
  props.Set("log_level", cep::ConfigNode::Scalar("3"));
  options.Set("properties", props);
  ingest::SourceContext ctx;
  ctx.stream = "auth";
  ctx.log = [](ingest::LogLevel level, const std::string& msg) {
    if (level != ingest::LogLevel::kInfo) std::fprintf(stderr, "%s\n", msg.c_str());
  };
  auto source = ingest::CreateSource(options, "streams.auth.source", ctx);
  if (!source.ok()) {
    std::fprintf(stderr, "kafka_ingest_bench: %s\n", source.status().message().c_str());
    return 1;
  }
  ingest::RecordQueue queue;
  Status st = (*source)->Start(&queue, queue.AddSource("auth"));
  if (!st.ok()) {
    std::fprintf(stderr, "kafka_ingest_bench: %s\n", st.message().c_str());
    return 1;
  }

  std::vector<ingest::Record> batch;
  batch.reserve(4096);
  size_t got = 0;
  std::string error;
  Steady::time_point first;
  auto give_up = Steady::now() + std::chrono::seconds(600);
  while (got < a.events && Steady::now() < give_up) {
    batch.clear();
    if (queue.Pop(&batch, 4096, 100 * cep::kMillisecond) == 0) continue;
    if (got == 0) first = Steady::now();
    for (const ingest::Record& r : batch) {
      if (r.kind == ingest::RecordKind::kData) {
        if (pipeline) p.Process(r.data, "auth", ingest::RecordIdentity("auth", r), &error);
        ++got;
      }
      (*source)->Processed(r);
    }
    consumed.store(got, std::memory_order_relaxed);
  }
  double secs = std::chrono::duration<double>(Steady::now() - first).count();
  (*source)->Stop();
  if (producer.joinable()) producer.join();
  std::string extra;
  if (pipeline) {
    p.Finish();
    const edge::PipelineStats& ps = p.stats();
    extra = ",\"rules\":" + std::to_string(rule_count) +
            ",\"alerts\":" + std::to_string(ps.alerts) + ",\"late\":" + std::to_string(ps.late) +
            ",\"malformed\":" + std::to_string(ps.malformed + ps.no_time);
  }
  Report(pipeline ? "pipeline" : "consume", got, partitions, secs, Bytes(events), extra);
  return got == a.events ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--events")
      a.events = std::stoul(v);
    else if (k == "--partitions")
      a.partitions = std::stoi(v);
    else if (k == "--mode")
      a.mode = v;
    else if (k == "--rules")
      a.rules.push_back(v);
    else if (k == "--max-delay")
      a.max_delay = *cep::ParseDuration(v);
    else {
      std::fprintf(stderr, "kafka_ingest_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  int rc = 0;
  if (a.mode == "raw" || a.mode == "all") rc |= RunRaw(a);
  if (a.mode == "consume" || a.mode == "all") rc |= RunSource(a, false);
  if (a.mode == "pipeline" || a.mode == "all") rc |= RunSource(a, true);
  return rc;
}
