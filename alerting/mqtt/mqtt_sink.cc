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

const Options<MqttSettings>& MqttOptions() {
  static const Options<MqttSettings> table = [] {
    Options<MqttSettings> o;
    o.Add({"url", OptionType::kString, "", true, false, "", "tcp://host:1883 or ssl://host:8883."},
          Set(&MqttSettings::url));
    o.Add({"topic", OptionType::kString, "", true, false, "",
           "The topic; may use {{ rule.id }} and {{ key.<field> }} ('/', '+', '#' in values "
           "become '_')."},
          Set(&MqttSettings::topic));
    o.Add({"client_id", OptionType::kString, "", false, false, "",
           "MQTT client id (default vigil-<node id>-<sink name>)."},
          Set(&MqttSettings::client_id));
    o.Add({"username", OptionType::kString, "", false, false, "", "User name."},
          Set(&MqttSettings::username));
    o.Add({"password", OptionType::kString, "", false, true, "", "Password."},
          Set(&MqttSettings::password));
    o.Add({"retain", OptionType::kBool, "false", false, false, "", "Publish retained."},
          Set(&MqttSettings::retain));
    o.Add({"timeout", OptionType::kDuration, "10s", false, false, "", "Connect and publish timeout."},
          Set(&MqttSettings::timeout));
    o.Add({"tls.ca_file", OptionType::kString, "", false, false, "", "PEM file of CAs (ssl:// URLs)."},
          Set(&MqttSettings::ca_file));
    o.Add({"tls.verify", OptionType::kBool, "true", false, false, "", "Verify the broker's certificate."},
          Set(&MqttSettings::verify));
    o.Add({"tls.cert_file", OptionType::kString, "", false, false, "", "Client certificate (mTLS)."},
          Set(&MqttSettings::cert_file));
    o.Add({"tls.key_file", OptionType::kString, "", false, false, "", "Its private key."},
          Set(&MqttSettings::key_file));
    AddJsonBodyOptions(o, &MqttSettings::body);
    return o;
  }();
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
  t.options = &MqttOptions();
  t.example =
      "sinks:\n"
      "  actuator:\n"
      "    type: mqtt\n"
      "    url: tcp://127.0.0.1:1883\n"
      "    topic: \"site/alerts/{{ rule.id }}\"\n";
  t.create = [](const ConfigValue& c, const std::string& path, const SinkContext& ctx,
                const SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    MqttSettings s;
    if (Status st = MqttOptions().Apply(c, path, secrets, &s, CommonSinkKeys()); !st.ok()) return st;
    if (s.url.rfind("tcp://", 0) != 0 && s.url.rfind("ssl://", 0) != 0 && s.url.rfind("mqtt://", 0) != 0 &&
        s.url.rfind("mqtts://", 0) != 0) {
      return Status::InvalidArgument(path + ".url: '" + s.url + "' is not tcp://, ssl://, mqtt:// or mqtts://");
    }
    auto topic = BodyTemplate::Parse(s.topic, TemplateContext::kTopic, path + ".topic");
    if (!topic.ok()) return topic.status();
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return body.status();
    return std::unique_ptr<Sink>(new MqttSink(std::move(s), std::move(topic).value(), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
