// Internal: the HTTP endpoints of `vigil run` (GET /metrics, /healthz, /readyz): a small
// HTTP/1.1 server on one thread. One request per connection (Connection: close), requests
// bounded in size and in time, so a slow or hostile client cannot hold it for long.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "vigil/cep/status.h"

namespace vigil::edge {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Thread safety: Listen and Start from one thread, then Stop from any; the handler runs on
// the server's thread.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const std::string& method, const std::string& path)>;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr int kRequestTimeoutMs = 5000;

  HttpServer() = default;
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "host:port" (IPv4 address or "localhost"; "[v6]:port" for IPv6; port 0 picks a
  // free one). Errors name the address.
  Status Listen(const std::string& address);
  int port() const { return port_; }
  void Start(Handler handler);
  void Stop();

 private:
  void Run();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop wakes the poll
  int port_ = 0;
  std::thread thread_;
};

}  // namespace vigil::edge
