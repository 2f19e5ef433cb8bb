// The mqtt source's settings and their option tables (the source and its `tls:` map).
#pragma once

#include <string>
#include <vector>

#include "vigil/cep/options.h"
#include "vigil/cep/time.h"

namespace vigil::ingest {

struct MqttTlsSettings {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string key_password;
  bool verify = true;
};

struct MqttSettings {
  std::string url;  // tcp://, ssl:// (mqtt:// and mqtts:// are accepted as their aliases)
  std::vector<std::string> topics;
  int qos = 1;
  std::string client_id;      // empty: "<node id>-<stream>"
  std::string version = "5";  // 3.1.1 | 5
  bool clean_start = false;
  cep::Duration session_expiry = cep::kHour;
  cep::Duration keepalive = 30 * cep::kSecond;
  cep::Duration connect_timeout = 10 * cep::kSecond;
  cep::Duration reconnect_min = cep::kSecond;
  cep::Duration reconnect_max = cep::kMinute;
  std::string username;
  std::string password;
  bool tls_given = false;
  MqttTlsSettings tls;
};

const std::vector<cep::Option<MqttSettings>>& MqttOptions();
const std::vector<cep::Option<MqttTlsSettings>>& MqttTlsOptions();

}  // namespace vigil::ingest
