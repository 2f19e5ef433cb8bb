#include "mqtt/mqtt_settings.h"

namespace vigil::ingest {

namespace {

using cep::Member;
using cep::OptionType;
using cep::OptionValue;

std::string Positive(cep::Duration* out, const OptionValue& v) {
  if (v.duration <= 0) return "must be positive";
  *out = v.duration;
  return {};
}

}  // namespace

const std::vector<cep::Option<MqttTlsSettings>>& MqttTlsOptions() {
  static const std::vector<cep::Option<MqttTlsSettings>> t = {
      {"ca_file",
       OptionType::kString,
       "",
       false,
       "CA certificates (PEM) the broker's certificate must chain to.",
       {},
       Member(&MqttTlsSettings::ca_file)},
      {"cert_file",
       OptionType::kString,
       "",
       false,
       "Client certificate (PEM), for brokers that require one.",
       {},
       Member(&MqttTlsSettings::cert_file)},
      {"key_file",
       OptionType::kString,
       "",
       false,
       "The client certificate's private key (PEM).",
       {},
       Member(&MqttTlsSettings::key_file)},
      {"key_password",
       OptionType::kSecret,
       "",
       false,
       "Passphrase of key_file.",
       {},
       Member(&MqttTlsSettings::key_password)},
      {"verify",
       OptionType::kBool,
       "true",
       false,
       "Check the broker's certificate and host name (turn off only for tests).",
       {},
       Member(&MqttTlsSettings::verify)},
  };
  return t;
}

const std::vector<cep::Option<MqttSettings>>& MqttOptions() {
  static const std::vector<cep::Option<MqttSettings>> t = {
      {"url",
       OptionType::kString,
       "",
       true,
       "Broker: `tcp://host:port`, or `ssl://host:port` for TLS (`mqtt://` and `mqtts://` also "
       "work).",
       {},
       [](MqttSettings& s, const OptionValue& v) -> std::string {
         const std::string& u = v.text;
         for (const char* scheme : {"tcp://", "ssl://", "mqtt://", "mqtts://"}) {
           if (u.rfind(scheme, 0) == 0 && u.size() > std::string(scheme).size()) {
             s.url = u;
             return {};
           }
         }
         return "expected tcp://host:port or ssl://host:port, got '" + u + "'";
       }},
      {"topics",
       OptionType::kStringList,
       "",
       true,
       "Topic filters; `+` and `#` wildcards, and `$share/<group>/<filter>` for a shared "
       "subscription (the broker spreads messages over the instances of the group).",
       {},
       [](MqttSettings& s, const OptionValue& v) -> std::string {
         if (v.list.empty()) return "needs at least one topic filter";
         for (const std::string& f : v.list) {
           if (f.empty()) return "a topic filter is empty";
         }
         s.topics = v.list;
         return {};
       }},
      {"qos",
       OptionType::kInt,
       "1",
       false,
       "Subscription QoS: 0 (at most once), 1 (at least once), 2 (exactly once on the wire).",
       {},
       [](MqttSettings& s, const OptionValue& v) -> std::string {
         if (v.integer < 0 || v.integer > 2) return "must be 0, 1 or 2";
         s.qos = static_cast<int>(v.integer);
         return {};
       }},
      {"client_id",
       OptionType::kString,
       "",
       false,
       "Client identifier; a persistent session is tied to it (default: `<node id>-<stream>`).",
       {},
       Member(&MqttSettings::client_id)},
      {"version",
       OptionType::kEnum,
       "5",
       false,
       "MQTT protocol version.",
       {"3.1.1", "5"},
       Member(&MqttSettings::version)},
      {"clean_start",
       OptionType::kBool,
       "false",
       false,
       "`false`: a persistent session, so the broker keeps subscriptions and queues messages "
       "while Vigil is away (MQTT 3.1.1: clean session off).",
       {},
       Member(&MqttSettings::clean_start)},
      {"session_expiry",
       OptionType::kDuration,
       "1h",
       false,
       "MQTT 5: how long the broker keeps the session after a disconnect.",
       {},
       Member(&MqttSettings::session_expiry)},
      {"keepalive",
       OptionType::kDuration,
       "30s",
       false,
       "Keep-alive interval.",
       {},
       [](MqttSettings& s, const OptionValue& v) { return Positive(&s.keepalive, v); }},
      {"connect_timeout",
       OptionType::kDuration,
       "10s",
       false,
       "How long one connection attempt may take.",
       {},
       [](MqttSettings& s, const OptionValue& v) { return Positive(&s.connect_timeout, v); }},
      {"reconnect_min",
       OptionType::kDuration,
       "1s",
       false,
       "First wait before reconnecting; it doubles each time.",
       {},
       [](MqttSettings& s, const OptionValue& v) { return Positive(&s.reconnect_min, v); }},
      {"reconnect_max",
       OptionType::kDuration,
       "1m",
       false,
       "Longest wait between reconnection attempts.",
       {},
       [](MqttSettings& s, const OptionValue& v) { return Positive(&s.reconnect_max, v); }},
      {"username",
       OptionType::kString,
       "",
       false,
       "User name.",
       {},
       Member(&MqttSettings::username)},
      {"password",
       OptionType::kSecret,
       "",
       false,
       "Password.",
       {},
       Member(&MqttSettings::password)},
      {"tls",
       OptionType::kNode,
       "",
       false,
       "TLS settings (`ca_file`, `cert_file`, `key_file`, `key_password_env`, `verify`); see "
       "below.",
       {},
       [](MqttSettings& s, const OptionValue& v) -> std::string {
         // Checked by the caller against MqttTlsOptions, which knows the key path.
         s.tls_given = v.node != nullptr && !v.node->is_null();
         return {};
       }},
  };
  return t;
}

}  // namespace vigil::ingest
