#include "syslog/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::alerting {

namespace {

int Millis(cep::Duration d) { return static_cast<int>(std::max<cep::Duration>(1, d / cep::kMillisecond)); }

std::string SslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Connects a socket of `type` to host:port within `timeout`.
Result<int> Connect(const std::string& host, const std::string& port, int type, cep::Duration timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::Unavailable(host + ":" + port + ": " + gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, Millis(timeout)) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        r = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (r == 0) {
      // Blocking from here on, with send/receive timeouts.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval tv{static_cast<time_t>(timeout / cep::kSecond),
                 static_cast<suseconds_t>((timeout % cep::kSecond) / cep::kMicrosecond)};
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      freeaddrinfo(res);
      return fd;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  return Status::Unavailable("connect to " + host + ":" + port + ": " + last);
}

// A stream peer that closed its side shows as readable with EOF: notice before writing,
// since a write into a half-closed connection "succeeds" and the frame is lost.
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  if (p.revents & (POLLHUP | POLLERR)) return true;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

class UdpTransport final : public SyslogTransport {
 public:
  UdpTransport(std::string host, std::string port, cep::Duration timeout)
      : host_(std::move(host)), port_(std::move(port)), timeout_(timeout) {}
  ~UdpTransport() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Send(const std::string& frame) override {
    if (fd_ < 0) {
      auto fd = Connect(host_, port_, SOCK_DGRAM, timeout_);
      if (!fd.ok()) return fd.status();
      fd_ = *fd;
    }
    ssize_t n = ::send(fd_, frame.data(), frame.size(), 0);
    if (n != static_cast<ssize_t>(frame.size())) {
      std::string why = n < 0 ? std::strerror(errno) : "short datagram";
      ::close(fd_);
      fd_ = -1;
      return Status::Unavailable("udp " + host_ + ":" + port_ + ": " + why);
    }
    return Status::Ok();
  }

 private:
  std::string host_, port_;
  cep::Duration timeout_;
  int fd_ = -1;
};

class TcpTransport final : public SyslogTransport {
 public:
  TcpTransport(std::string host, std::string port, cep::Duration timeout)
      : host_(std::move(host)), port_(std::move(port)), timeout_(timeout) {}
  ~TcpTransport() override { Close(); }
  Status Send(const std::string& frame) override {
    if (fd_ >= 0 && PeerClosed(fd_)) Close();
    if (fd_ < 0) {
      auto fd = Connect(host_, port_, SOCK_STREAM, timeout_);
      if (!fd.ok()) return fd.status();
      fd_ = *fd;
    }
    size_t done = 0;
    while (done < frame.size()) {
      ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = std::strerror(errno);
        Close();
        return Status::Unavailable("tcp " + host_ + ":" + port_ + ": " + why);
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::string host_, port_;
  cep::Duration timeout_;
  int fd_ = -1;
};

class TlsTransport final : public SyslogTransport {
 public:
  TlsTransport(std::string host, std::string port, cep::Duration timeout, SyslogTlsSettings tls)
      : host_(std::move(host)), port_(std::move(port)), timeout_(timeout), tls_(std::move(tls)) {}
  ~TlsTransport() override {
    Close();
    if (ctx_) SSL_CTX_free(ctx_);
  }

  Status Send(const std::string& frame) override {
    if (ssl_ && PeerClosed(fd_)) Close();
    if (!ssl_) {
      if (Status s = Open(); !s.ok()) {
        Close();
        return s;
      }
    }
    size_t done = 0;
    while (done < frame.size()) {
      int n = SSL_write(ssl_, frame.data() + done, static_cast<int>(frame.size() - done));
      if (n <= 0) {
        std::string why = SslError();
        Close();
        return Status::Unavailable("tls " + host_ + ":" + port_ + ": " + why);
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  Status Open() {
    if (!ctx_) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      if (!ctx_) return Status::Unavailable(SslError());
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      if (tls_.verify) {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        int ok = tls_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                      : SSL_CTX_load_verify_locations(ctx_, tls_.ca_file.c_str(), nullptr);
        if (ok != 1) return Status::Unavailable("tls: cannot load CAs " + tls_.ca_file + ": " + SslError());
      }
      if (!tls_.cert_file.empty() &&
          (SSL_CTX_use_certificate_chain_file(ctx_, tls_.cert_file.c_str()) != 1 ||
           SSL_CTX_use_PrivateKey_file(ctx_, (tls_.key_file.empty() ? tls_.cert_file : tls_.key_file).c_str(),
                                       SSL_FILETYPE_PEM) != 1)) {
        return Status::Unavailable("tls: cannot load client certificate " + tls_.cert_file + ": " + SslError());
      }
    }
    auto fd = Connect(host_, port_, SOCK_STREAM, timeout_);
    if (!fd.ok()) return fd.status();
    fd_ = *fd;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    const std::string& name = tls_.server_name.empty() ? host_ : tls_.server_name;
    SSL_set_tlsext_host_name(ssl_, name.c_str());
    if (tls_.verify) {
      // A name that is an IP address is checked against the certificate's IP SANs.
      if (X509_VERIFY_PARAM* p = SSL_get0_param(ssl_)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(p, name.c_str()) != 1) {
          ERR_clear_error();
          SSL_set1_host(ssl_, name.c_str());
        }
      }
    }
    if (SSL_connect(ssl_) != 1) {
      long v = SSL_get_verify_result(ssl_);
      std::string why = v != X509_V_OK ? X509_verify_cert_error_string(v) : SslError();
      return Status::Unavailable("tls handshake with " + host_ + ":" + port_ + ": " + why);
    }
    return Status::Ok();
  }

  void Close() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string host_, port_;
  cep::Duration timeout_;
  SyslogTlsSettings tls_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<SyslogTransport> NewSyslogTransport(SyslogTransport::Kind kind, std::string host,
                                                    std::string port, cep::Duration timeout,
                                                    SyslogTlsSettings tls) {
  switch (kind) {
    case SyslogTransport::Kind::kUdp: return std::make_unique<UdpTransport>(host, port, timeout);
    case SyslogTransport::Kind::kTcp: return std::make_unique<TcpTransport>(host, port, timeout);
    case SyslogTransport::Kind::kTls: break;
  }
  return std::make_unique<TlsTransport>(host, port, timeout, std::move(tls));
}

bool ParseSyslogAddress(const std::string& address, std::string* scheme, std::string* host,
                        std::string* port) {
  size_t sep = address.find("://");
  if (sep == std::string::npos) return false;
  *scheme = address.substr(0, sep);
  std::string rest = address.substr(sep + 3);
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return false;
    *host = rest.substr(1, close - 1);
    *port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return false;
    *host = rest.substr(0, colon);
    *port = rest.substr(colon + 1);
  }
  return !host->empty() && !port->empty() &&
         port->find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace vigil::alerting
