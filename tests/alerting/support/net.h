// Test support for alerting: loopback servers the sinks talk to (HTTP/1.1 with optional
// TLS and client certificates, syslog over UDP/TCP/TLS), child processes, certificates
// made at test time, and polling with a deadline.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vigil::alerting::testing {

// Polls `cond` until it holds or `deadline` passes. Never a fixed sleep.
bool Eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds deadline = std::chrono::seconds(30));

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// True when something accepts TCP connections on 127.0.0.1:port.
bool PortAccepts(int port);

// Certificates for TLS tests, made with the openssl CLI in `dir`: a CA, a server
// certificate for 127.0.0.1 / localhost, and a client certificate, all signed by the CA.
struct TestCerts {
  std::string ca, server_cert, server_key, client_cert, client_key;
  std::string other_ca;  // a CA that signed nothing here
};
TestCerts MakeCerts(const std::string& dir);

struct TlsServerOptions {
  std::string cert_file, key_file;
  std::string client_ca_file;  // set: a client certificate signed by it is required
};

// ---- HTTP ----
struct RecordedRequest {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  int connection = 0;  // which accepted connection carried it (1-based)
  std::string Header(const std::string& name) const;
};
struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// An HTTP/1.1 server on 127.0.0.1 with keep-alive, one thread per connection. The handler
// runs on the connection's thread. Stopped (and every thread joined) by its destructor.
class TestHttpServer {
 public:
  using Handler = std::function<Reply(const RecordedRequest&)>;
  // port 0: any free port.
  explicit TestHttpServer(Handler handler, std::optional<TlsServerOptions> tls = std::nullopt,
                          int port = 0);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // http(s)://127.0.0.1:<port>
  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  int connections() const { return connections_.load(); }
  int handshake_failures() const { return handshake_failures_.load(); }
  void Stop();

 private:
  void Accept();
  void Serve(int fd, int number);

  Handler handler_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> handshake_failures_{0};
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// ---- syslog ----
struct Syslog5424 {
  int pri = -1;
  int version = 0;
  std::string timestamp, hostname, app_name, procid, msgid, structured_data, msg;
};
// Strict RFC 5424 parse of one message; nullopt if it is not one.
std::optional<Syslog5424> ParseSyslog5424(const std::string& frame);

struct Cef {
  std::string version, vendor, product, device_version, signature_id, name, severity;
  std::vector<std::pair<std::string, std::string>> extension;  // unescaped
  std::string Ext(const std::string& key) const;
};
// Parses CEF:0|...|...|...|...|...|...|k=v ... (header and extension unescaped).
std::optional<Cef> ParseCef(const std::string& text);

// Receives syslog frames: UDP datagrams, or TCP/TLS streams with RFC 6587 octet counting
// (a stream that is not octet-counted is recorded as a framing error).
class SyslogReceiver {
 public:
  enum class Mode { kUdp, kTcp, kTls };
  explicit SyslogReceiver(Mode mode, std::optional<TlsServerOptions> tls = std::nullopt);
  ~SyslogReceiver();
  SyslogReceiver(const SyslogReceiver&) = delete;
  SyslogReceiver& operator=(const SyslogReceiver&) = delete;

  int port() const { return port_; }
  std::vector<std::string> messages() const;
  std::vector<std::string> errors() const;
  // Closes the open connections (the sink has to notice and reconnect).
  void DropConnections();
  void Stop();

 private:
  void Run();
  void ServeStream(int fd);

  Mode mode_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> messages_, errors_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> threads_;
  std::thread runner_;
};

// ---- processes ----
// A child process started in the background; killed (SIGKILL) and reaped by the
// destructor if still running.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout` for the child to exit; returns its wait status, or nullopt.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A mosquitto broker on a free loopback port, stopped by the destructor (SIGTERM, then
// SIGKILL if it does not exit in time).
class Mosquitto {
 public:
  explicit Mosquitto(const std::string& dir);
  ~Mosquitto();
  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  bool ready() const { return ready_; }
  void Stop();
  void Start();

 private:
  std::string conf_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace vigil::alerting::testing
