// kafka: the alert as the message value, the alert's key as the message key (so alerts
// of one key stay in one partition, in order); librdkafka's idempotent producer.
#include <librdkafka/rdkafka.h>

#include "formats/formats.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct KafkaSettings {
  std::string brokers;
  std::string topic;
  std::string sasl_username;
  std::string sasl_password;
  std::vector<std::pair<std::string, std::string>> properties;
  cep::Duration timeout = 10 * cep::kSecond;
  JsonBodySettings body;
};

const std::vector<cep::Option<KafkaSettings>>& KafkaOptions() {
  static const std::vector<cep::Option<KafkaSettings>> table = Concat(
      std::vector<cep::Option<KafkaSettings>>{
          {"brokers", cep::OptionType::kString, "", true, "Bootstrap servers, host:port[,...].", {},
           cep::Member(&KafkaSettings::brokers)},
          {"topic", cep::OptionType::kString, "", true, "The topic alerts are produced to.", {},
           cep::Member(&KafkaSettings::topic)},
          {"sasl_username", cep::OptionType::kString, "", false, "SASL user (sets sasl.username).", {},
           cep::Member(&KafkaSettings::sasl_username)},
          {"sasl_password", cep::OptionType::kSecret, "", false, "SASL password (sets sasl.password).", {},
           SecretMember(&KafkaSettings::sasl_password)},
          {"properties", cep::OptionType::kStringMap, "", false,
           "Further librdkafka producer properties (security.protocol, ssl.ca.location, sasl.mechanism, "
           "compression.type...).",
           {}, cep::Member(&KafkaSettings::properties)},
          {"timeout", cep::OptionType::kDuration, "10s", false,
           "How long one delivery may take before it is retried (message.timeout.ms).", {},
           cep::Member(&KafkaSettings::timeout)},
      },
      cep::PartOptions(&KafkaSettings::body, JsonBodyOptions()));
  return table;
}

struct DeliveryReport {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* r = static_cast<DeliveryReport*>(m->_private);
  if (!r) return;
  r->done = true;
  r->err = m->err;
}

class KafkaSink final : public Sink {
 public:
  KafkaSink(KafkaSettings s, JsonBody body, SinkContext context)
      : s_(std::move(s)), body_(std::move(body)), context_(std::move(context)) {}
  ~KafkaSink() override { Close(); }

  // Builds the producer config; shared with Create's validation so bad properties fail at startup.
  static Result<rd_kafka_conf_t*> Config(const KafkaSettings& s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    long ms = static_cast<long>(std::max<cep::Duration>(1, s.timeout / cep::kMillisecond));
    std::vector<std::pair<std::string, std::string>> props = {
        {"bootstrap.servers", s.brokers},
        {"enable.idempotence", "true"},  // acks=all, no duplicates or reordering from retries
        {"linger.ms", "1"},
        {"message.timeout.ms", std::to_string(ms)},
        {"socket.timeout.ms", std::to_string(std::max(10L, ms))},
    };
    if (!s.sasl_username.empty()) props.emplace_back("sasl.username", s.sasl_username);
    if (!s.sasl_password.empty()) props.emplace_back("sasl.password", s.sasl_password);
    for (const auto& p : s.properties) props.push_back(p);
    for (const auto& [k, v] : props) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return Status::InvalidArgument(k + ": " + err);
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
    return conf;
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    if (rk_ && rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) Close();
    if (!rk_) {
      auto conf = Config(s_);
      if (!conf.ok()) return DeliveryResult::Retry(conf.status().message());
      char err[512];
      rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
      if (!rk_) {
        rd_kafka_conf_destroy(*conf);
        return DeliveryResult::Retry(std::string("kafka producer: ") + err);
      }
    }
    std::string value = body_.Render(alert, context_);
    DeliveryReport report;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(s_.topic.c_str()),
        RD_KAFKA_V_KEY(alert.key_json().data(), alert.key_json().size()),
        RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&report), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return DeliveryResult::Retry(std::string("produce: ") + rd_kafka_err2str(e));
    // Wait for this message's report (it comes within message.timeout.ms, as success or
    // an error); then nothing of ours is left in flight.
    int wait_ms = static_cast<int>(s_.timeout / cep::kMillisecond) + 5000;
    for (int waited = 0; !report.done && waited < wait_ms; waited += 100) rd_kafka_poll(rk_, 100);
    if (!report.done) {
      // Cannot happen with message.timeout.ms set; if it does, drop the producer so the
      // report can never point at `report` again.
      Close();
      return DeliveryResult::Retry("kafka: no delivery report");
    }
    if (report.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return DeliveryResult::Retry(std::string("kafka: ") + rd_kafka_err2str(report.err));
    }
    return DeliveryResult::Delivered();
  }

 private:
  void Close() {
    if (!rk_) return;
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 0);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

  KafkaSettings s_;
  JsonBody body_;
  SinkContext context_;
  rd_kafka_t* rk_ = nullptr;
};

}  // namespace

SinkType KafkaSinkType() {
  SinkType t;
  t.name = "kafka";
  t.summary =
      "Produces each alert to `topic` with librdkafka's idempotent producer (acks=all): the "
      "value is the alert JSON, the key the alert's key as compact JSON "
      "(`{\"source.ip\":\"10.0.0.9\"}`), so alerts of one key stay in one partition, in order. "
      "Delivered once the broker acknowledges it.";
  t.options_markdown = cep::OptionsMarkdown(KafkaOptions());
  t.example =
      "sinks:\n"
      "  alerts-topic:\n"
      "    type: kafka\n"
      "    brokers: kafka1:9092,kafka2:9092\n"
      "    topic: vigil-alerts\n"
      "    properties: {security.protocol: ssl, ssl.ca.location: /etc/vigil/kafka-ca.pem}\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    KafkaSettings s;
    if (Status st = cep::ApplyOptions(KafkaOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    auto conf = KafkaSink::Config(s);
    if (!conf.ok()) return cep::OptionError(c.Find("properties"), path + ".properties", conf.status().message());
    rd_kafka_conf_destroy(*conf);
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new KafkaSink(std::move(s), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
