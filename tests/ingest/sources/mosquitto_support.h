// Test support for the mqtt source: a real mosquitto on a free loopback port with a config
// file written by the test, stopped by its PID with a bounded wait; mosquitto_pub as the
// publisher; certificates made with openssl at test time.
#pragma once

#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace vigil::ingest::testing {

// A free TCP port on 127.0.0.1 (bound, read back, released).
int FreeLoopbackPort();

struct BrokerOptions {
  bool persistence = true;  // keep sessions and queued messages across a restart
  // TLS listener: PEM files; require_certificate asks clients for a certificate.
  std::string cafile, certfile, keyfile;
  bool require_certificate = false;
  std::string password_file;  // anonymous clients refused when set
};

class Mosquitto {
 public:
  Mosquitto(const vigil::testing::TempDir& dir, BrokerOptions options = BrokerOptions());
  ~Mosquitto();
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // Starts the broker and waits (bounded) until it accepts connections.
  void Start();
  // SIGTERM (mosquitto saves its persistence), waits at most 10 s, then SIGKILL.
  void Stop();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const;  // tcp:// or ssl://127.0.0.1:<port>
  std::string log() const;

  // Publishes each of `messages` to `topic` with mosquitto_pub (-l: one message per line).
  // `extra`: more mosquitto_pub arguments (TLS files, credentials).
  void Publish(const std::string& topic, const std::vector<std::string>& messages, int qos,
               const std::string& version = "5", const std::vector<std::string>& extra = {}) const;

 private:
  const vigil::testing::TempDir& dir_;
  BrokerOptions options_;
  int port_ = 0;
  int pid_ = -1;
  std::string conf_, log_;
};

// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
struct TestCertificates {
  std::string ca_cert, ca_key;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca_cert;  // a CA that signed nothing here
};
TestCertificates MakeCertificates(const vigil::testing::TempDir& dir);

}  // namespace vigil::ingest::testing
