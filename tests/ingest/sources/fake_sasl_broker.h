// A loopback "broker" that speaks just enough of the Kafka protocol to refuse a SASL/PLAIN
// login the way a real broker does (ApiVersions, SaslHandshake, then SaslAuthenticate
// answered with SASL_AUTHENTICATION_FAILED). librdkafka's mock cluster has no SASL, and
// wrong credentials must be tested against the real wire exchange.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::ingest::testing {

class FakeSaslBroker {
 public:
  FakeSaslBroker();
  ~FakeSaslBroker();
  FakeSaslBroker(const FakeSaslBroker&) = delete;
  FakeSaslBroker& operator=(const FakeSaslBroker&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int auth_attempts() const { return auth_attempts_; }
  // The user names the clients tried (from the PLAIN exchange).
  std::vector<std::string> users() const;

 private:
  void Run();
  void Serve(int fd);

  int listen_fd_ = -1;
  int stop_fd_ = -1;
  int port_ = 0;
  std::atomic<int> auth_attempts_{0};
  mutable std::mutex mu_;
  std::vector<std::string> users_;
  std::thread thread_;
};

}  // namespace vigil::ingest::testing
