// mqtt: the alert published with QoS 1 (Paho MQTT C++); delivered once the broker's
// PUBACK arrives.
#include <mqtt/async_client.h>

#include "formats/formats.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct MqttSettings {
  std::string url;
  std::string topic;
  std::string client_id;
  std::string username;
  std::string password;
  bool retain = false;
  cep::Duration timeout = 10 * cep::kSecond;
  std::string ca_file, cert_file, key_file;
  bool verify = true;
  JsonBodySettings body;
};

const std::vector<cep::Option<MqttSettings>>& MqttOptions() {
  static const std::vector<cep::Option<MqttSettings>> table = Concat(
      std::vector<cep::Option<MqttSettings>>{
          {"url", cep::OptionType::kString, "", true, "tcp://host:1883 or ssl://host:8883.", {},
           cep::Member(&MqttSettings::url)},
          {"topic", cep::OptionType::kString, "", true,
           "The topic; may use {{ rule.id }} and {{ key.<field> }} ('/', '+', '#' in values become '_').", {},
           cep::Member(&MqttSettings::topic)},
          {"client_id", cep::OptionType::kString, "", false, "MQTT client id (default vigil-<node id>-<sink name>).", {},
           cep::Member(&MqttSettings::client_id)},
          {"username", cep::OptionType::kString, "", false, "User name.", {}, cep::Member(&MqttSettings::username)},
          {"password", cep::OptionType::kSecret, "", false, "Password.", {}, SecretMember(&MqttSettings::password)},
          {"retain", cep::OptionType::kBool, "false", false, "Publish retained.", {}, cep::Member(&MqttSettings::retain)},
          {"timeout", cep::OptionType::kDuration, "10s", false, "Connect and publish timeout.", {},
           cep::Member(&MqttSettings::timeout)},
          {"tls.ca_file", cep::OptionType::kString, "", false, "PEM file of CAs (ssl:// URLs).", {},
           cep::Member(&MqttSettings::ca_file)},
          {"tls.verify", cep::OptionType::kBool, "true", false, "Verify the broker's certificate.", {},
           cep::Member(&MqttSettings::verify)},
          {"tls.cert_file", cep::OptionType::kString, "", false, "Client certificate (mTLS).", {},
           cep::Member(&MqttSettings::cert_file)},
          {"tls.key_file", cep::OptionType::kString, "", false, "Its private key.", {},
           cep::Member(&MqttSettings::key_file)},
      },
      cep::PartOptions(&MqttSettings::body, JsonBodyOptions()));
  return table;
}

class MqttSink final : public Sink {
 public:
  MqttSink(MqttSettings s, BodyTemplate topic, JsonBody body, SinkContext context)
      : s_(std::move(s)), topic_(std::move(topic)), body_(std::move(body)), context_(std::move(context)) {}

  ~MqttSink() override {
    try {
      if (client_ && client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
    }
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    auto timeout = std::chrono::milliseconds(std::max<cep::Duration>(1, s_.timeout / cep::kMillisecond));
    try {
      if (!client_) {
        std::string id = s_.client_id.empty() ? "vigil-" + context_.node_id + "-" + context_.sink_name : s_.client_id;
        client_ = std::make_unique<mqtt::async_client>(s_.url, id, nullptr);
      }
      if (!client_->is_connected()) {
        // A fixed protocol version: with the default, Paho falls back from 3.1.1 to 3.1 in
        // the background after a failed connect, and the next connect waits behind it.
        auto b = mqtt::connect_options_builder().mqtt_version(MQTTVERSION_3_1_1).clean_session(true)
                     .connect_timeout(timeout)
                     .keep_alive_interval(std::chrono::seconds(30));
        if (!s_.username.empty()) b.user_name(s_.username);
        if (!s_.password.empty()) b.password(s_.password);
        if (s_.url.rfind("ssl://", 0) == 0 || s_.url.rfind("mqtts://", 0) == 0) {
          auto ssl = mqtt::ssl_options_builder().enable_server_cert_auth(s_.verify).verify(s_.verify);
          if (!s_.ca_file.empty()) ssl.trust_store(s_.ca_file);
          if (!s_.cert_file.empty()) ssl.key_store(s_.cert_file);
          if (!s_.key_file.empty()) ssl.private_key(s_.key_file);
          b.ssl(ssl.finalize());
        }
        if (!client_->connect(b.finalize())->wait_for(timeout)) {
          Reset();
          return DeliveryResult::Retry("mqtt: connect to " + s_.url + " timed out");
        }
      }
      auto msg = mqtt::make_message(topic_.Render(alert), body_.Render(alert, context_), 1, s_.retain);
      if (!client_->publish(msg)->wait_for(timeout)) {
        Reset();
        return DeliveryResult::Retry("mqtt: no PUBACK within the timeout");
      }
      return DeliveryResult::Delivered();
    } catch (const mqtt::exception& e) {
      Reset();
      return DeliveryResult::Retry(std::string("mqtt ") + s_.url + ": " + e.what());
    }
  }

 private:
  // Drops the connection (and whatever it had in flight); the next attempt connects
  // again with the same client object. (Destroying a Paho client after a failed connect
  // while another client lives in the process leaves later connects hanging, so the
  // object is kept.)
  void Reset() {
    try {
      if (client_ && client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::milliseconds(200));
    } catch (const mqtt::exception&) {
    }
  }

  MqttSettings s_;
  BodyTemplate topic_;
  JsonBody body_;
  SinkContext context_;
  std::unique_ptr<mqtt::async_client> client_;
};

}  // namespace

SinkType MqttSinkType() {
  SinkType t;
  t.name = "mqtt";
  t.summary =
      "Publishes each alert with QoS 1 to `topic` (which may hold `{{ rule.id }}` and `{{ "
      "key.<field> }}`); delivered when the broker's PUBACK arrives.";
  t.options_markdown = cep::OptionsMarkdown(MqttOptions());
  t.example =
      "sinks:\n"
      "  actuator:\n"
      "    type: mqtt\n"
      "    url: tcp://127.0.0.1:1883\n"
      "    topic: \"site/alerts/{{ rule.id }}\"\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    MqttSettings s;
    if (Status st = cep::ApplyOptions(MqttOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    if (s.url.rfind("tcp://", 0) != 0 && s.url.rfind("ssl://", 0) != 0 && s.url.rfind("mqtt://", 0) != 0 &&
        s.url.rfind("mqtts://", 0) != 0) {
      return cep::OptionError(c.Find("url"), path + ".url",
                              "'" + s.url + "' is not tcp://, ssl://, mqtt:// or mqtts://");
    }
    auto topic = BodyTemplate::Parse(s.topic, TemplateContext::kTopic, path + ".topic");
    if (!topic.ok()) return Located(c.Find("topic"), topic.status());
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new MqttSink(std::move(s), std::move(topic).value(), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
