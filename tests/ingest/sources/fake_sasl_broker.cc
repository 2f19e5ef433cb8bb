#include "fake_sasl_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace vigil::ingest::testing {

namespace {

constexpr int16_t kSaslHandshake = 17;
constexpr int16_t kApiVersions = 18;
constexpr int16_t kSaslAuthenticate = 36;
constexpr int16_t kSaslAuthenticationFailed = 58;

void Put16(std::string* b, int16_t v) {
  uint16_t u = htons(static_cast<uint16_t>(v));
  b->append(reinterpret_cast<const char*>(&u), 2);
}
void Put32(std::string* b, int32_t v) {
  uint32_t u = htonl(static_cast<uint32_t>(v));
  b->append(reinterpret_cast<const char*>(&u), 4);
}
void Put64(std::string* b, int64_t v) {
  Put32(b, static_cast<int32_t>(v >> 32));
  Put32(b, static_cast<int32_t>(v & 0xffffffff));
}
void PutString(std::string* b, const std::string& s) {
  Put16(b, static_cast<int16_t>(s.size()));
  b->append(s);
}
int16_t Get16(const std::string& b, size_t at) {
  uint16_t u;
  std::memcpy(&u, b.data() + at, 2);
  return static_cast<int16_t>(ntohs(u));
}
int32_t Get32(const std::string& b, size_t at) {
  uint32_t u;
  std::memcpy(&u, b.data() + at, 4);
  return static_cast<int32_t>(ntohl(u));
}

bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool Send(int fd, int32_t correlation, const std::string& body) {
  std::string frame;
  Put32(&frame, static_cast<int32_t>(4 + body.size()));
  Put32(&frame, correlation);
  frame += body;
  return write(fd, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size());
}

}  // namespace

FakeSaslBroker::FakeSaslBroker() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("fake broker: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

FakeSaslBroker::~FakeSaslBroker() {
  uint64_t one = 1;
  ssize_t ignored = write(stop_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
  close(listen_fd_);
  close(stop_fd_);
}

std::vector<std::string> FakeSaslBroker::users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return users_;
}

void FakeSaslBroker::Run() {
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLIN) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        Serve(fd);
        close(fd);
      }
    }
  }
}

void FakeSaslBroker::Serve(int fd) {
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) return;
    if (fds[0].revents & POLLIN) return;
    char size_buf[4];
    if (!ReadAll(fd, size_buf, 4)) return;
    int32_t size = Get32(std::string(size_buf, 4), 0);
    if (size < 8 || size > (1 << 20)) return;
    std::string req(static_cast<size_t>(size), '\0');
    if (!ReadAll(fd, req.data(), req.size())) return;
    int16_t key = Get16(req, 0);
    int16_t version = Get16(req, 2);
    int32_t correlation = Get32(req, 4);
    std::string body;
    if (key == kApiVersions) {
      // v3 body (flexible): error, compact array of (key, min, max, tags), throttle, tags.
      struct Api {
        int16_t key, min, max;
      };
      const Api apis[] = {{kApiVersions, 0, 3}, {kSaslHandshake, 0, 1}, {kSaslAuthenticate, 0, 1}};
      Put16(&body, 0);
      if (version >= 3) {
        body.push_back(static_cast<char>(std::size(apis) + 1));
        for (const Api& a : apis) {
          Put16(&body, a.key);
          Put16(&body, a.min);
          Put16(&body, a.max);
          body.push_back(0);
        }
        Put32(&body, 0);
        body.push_back(0);
      } else {
        Put32(&body, static_cast<int32_t>(std::size(apis)));
        for (const Api& a : apis) {
          Put16(&body, a.key);
          Put16(&body, a.min);
          Put16(&body, a.max);
        }
        if (version >= 1) Put32(&body, 0);
      }
    } else if (key == kSaslHandshake) {
      Put16(&body, 0);
      Put32(&body, 1);
      PutString(&body, "PLAIN");
    } else if (key == kSaslAuthenticate) {
      ++auth_attempts_;
      // Request: header (key, version, correlation, client id), then auth bytes
      // "authzid\0user\0password".
      size_t at = 8;
      int16_t client_len = Get16(req, at);
      at += 2 + (client_len > 0 ? static_cast<size_t>(client_len) : 0);
      if (at + 4 <= req.size()) {
        std::string auth = req.substr(at + 4);
        size_t first = auth.find('\0');
        size_t second = first == std::string::npos ? std::string::npos : auth.find('\0', first + 1);
        if (second != std::string::npos) {
          std::lock_guard<std::mutex> lock(mu_);
          users_.push_back(auth.substr(first + 1, second - first - 1));
        }
      }
      Put16(&body, kSaslAuthenticationFailed);
      PutString(&body, "Authentication failed: Invalid username or password");
      Put32(&body, 0);  // no auth bytes
      if (version >= 1) Put64(&body, 0);
    } else {
      return;  // nothing else is spoken before a login succeeds
    }
    if (!Send(fd, correlation, body)) return;
  }
}

}  // namespace vigil::ingest::testing
