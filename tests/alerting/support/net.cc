#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "support/process.h"

namespace vigil::alerting::testing {

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a poll interval, not a wait
  }
  return true;
}

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Binds a socket of `type` on 127.0.0.1:port (0 = any) and returns it with its port.
int Bind(int type, int port, int* bound) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *bound = ntohs(a.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 64);
  return fd;
}

SSL_CTX* ServerContext(const std::optional<TlsServerOptions>& tls) {
  if (!tls) return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("test server: cannot load " + tls->cert_file);
  }
  if (!tls->client_ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx, tls->client_ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

// A plain or TLS stream.
class Stream {
 public:
  Stream(int fd, SSL_CTX* ctx) : fd_(fd) {
    if (ctx) {
      ssl_ = SSL_new(ctx);
      SSL_set_fd(ssl_, fd);
    }
  }
  ~Stream() {
    if (ssl_) SSL_free(ssl_);
  }
  bool Handshake() { return !ssl_ || SSL_accept(ssl_) == 1; }
  ssize_t Read(char* buf, size_t n) {
    if (ssl_) return SSL_read(ssl_, buf, static_cast<int>(n));
    return ::recv(fd_, buf, n, 0);
  }
  bool Write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ssl_ ? SSL_write(ssl_, s.data() + done, static_cast<int>(s.size() - done))
                       : ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

int FreePort() {
  int port = 0;
  int fd = Bind(SOCK_STREAM, 0, &port);
  ::close(fd);
  return port;
}

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TestCerts MakeCerts(const std::string& dir) {
  TestCerts c;
  c.ca = dir + "/ca.pem";
  c.server_cert = dir + "/server.pem";
  c.server_key = dir + "/server.key";
  c.client_cert = dir + "/client.pem";
  c.client_key = dir + "/client.key";
  c.other_ca = dir + "/other-ca.pem";
  {
    std::ofstream ext(dir + "/server.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
    std::ofstream cext(dir + "/client.ext");
    cext << "extendedKeyUsage=clientAuth\n";
  }
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    vigil::testing::ProcessResult r = vigil::testing::RunProcess(args, "", 60);
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  };
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  run(with({"req", "-x509", "-days", "2", "-subj", "/CN=vigil-test-ca", "-keyout", dir + "/ca.key", "-out", c.ca}, ec));
  run(with({"req", "-x509", "-days", "2", "-subj", "/CN=other-ca", "-keyout", dir + "/other-ca.key", "-out", c.other_ca}, ec));
  run(with({"req", "-subj", "/CN=localhost", "-keyout", c.server_key, "-out", dir + "/server.csr"}, ec));
  run({"x509", "-req", "-days", "2", "-in", dir + "/server.csr", "-CA", c.ca, "-CAkey", dir + "/ca.key",
       "-CAcreateserial", "-out", c.server_cert, "-extfile", dir + "/server.ext"});
  run(with({"req", "-subj", "/CN=vigil-client", "-keyout", c.client_key, "-out", dir + "/client.csr"}, ec));
  run({"x509", "-req", "-days", "2", "-in", dir + "/client.csr", "-CA", c.ca, "-CAkey", dir + "/ca.key",
       "-CAcreateserial", "-out", c.client_cert, "-extfile", dir + "/client.ext"});
  return c;
}

// ---- HTTP ----

std::string RecordedRequest::Header(const std::string& name) const {
  std::string n = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == n) return v;
  }
  return "";
}

TestHttpServer::TestHttpServer(Handler handler, std::optional<TlsServerOptions> tls, int port)
    : handler_(std::move(handler)), ssl_ctx_(ServerContext(tls)) {
  listen_fd_ = Bind(SOCK_STREAM, port, &port_);
  acceptor_ = std::thread([this] { Accept(); });
}

TestHttpServer::~TestHttpServer() {
  Stop();
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
}

std::string TestHttpServer::url() const {
  return std::string(ssl_ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<RecordedRequest> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t TestHttpServer::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

void TestHttpServer::Stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

void TestHttpServer::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) != 1) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int number = ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    conn_fds_.push_back(fd);
    threads_.emplace_back([this, fd, number] { Serve(fd, number); });
  }
}

void TestHttpServer::Serve(int fd, int number) {
  Stream s(fd, ssl_ctx_);
  if (!s.Handshake()) {
    ++handshake_failures_;
    ERR_clear_error();
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  std::string buf;
  char chunk[16384];
  while (!stop_) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) {
      ssize_t n = s.Read(chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    RecordedRequest req;
    req.connection = number;
    std::string head = buf.substr(0, end);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    size_t content_length = 0;
    bool close = false;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = Lower(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-length") content_length = std::stoul(value);
        if (name == "connection" && Lower(value) == "close") close = true;
        req.headers.emplace_back(name, value);
      }
      pos = e + 2;
    }
    while (buf.size() < end + 4 + content_length) {
      ssize_t n = s.Read(chunk, sizeof chunk);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
    req.body = buf.substr(end + 4, content_length);
    buf.erase(0, end + 4 + content_length);
    Reply reply = handler_(req);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + Reason(reply.status) + "\r\n";
    for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    bool reply_closes = false;
    for (const auto& [k, v] : reply.headers) reply_closes |= Lower(k) == "connection" && Lower(v) == "close";
    if (close && !reply_closes) out += "Connection: close\r\n";
    close |= reply_closes;
    out += "\r\n" + reply.body;
    if (!s.Write(out) || close) break;
  }
  ::shutdown(fd, SHUT_RDWR);
}

// ---- syslog ----

std::optional<Syslog5424> ParseSyslog5424(const std::string& f) {
  Syslog5424 m;
  if (f.size() < 4 || f[0] != '<') return std::nullopt;
  size_t gt = f.find('>');
  if (gt == std::string::npos || gt < 2 || gt > 4) return std::nullopt;
  std::string pri = f.substr(1, gt - 1);
  if (pri.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  m.pri = std::stoi(pri);
  if (m.pri > 191) return std::nullopt;
  size_t pos = gt + 1;
  auto field = [&](std::string* out) {
    size_t sp = f.find(' ', pos);
    if (sp == std::string::npos || sp == pos) return false;
    *out = f.substr(pos, sp - pos);
    pos = sp + 1;
    for (char c : *out) {
      if (c < 33 || c > 126) return false;
    }
    return true;
  };
  std::string version;
  if (!field(&version) || version != "1") return std::nullopt;
  m.version = 1;
  if (!field(&m.timestamp) || !field(&m.hostname) || !field(&m.app_name) || !field(&m.procid) ||
      !field(&m.msgid)) {
    return std::nullopt;
  }
  if (m.hostname.size() > 255 || m.app_name.size() > 48 || m.procid.size() > 128 || m.msgid.size() > 32) {
    return std::nullopt;
  }
  if (pos >= f.size()) return std::nullopt;
  if (f[pos] == '-') {
    m.structured_data = "-";
    ++pos;
  } else if (f[pos] == '[') {
    size_t close = f.find(']', pos);
    if (close == std::string::npos) return std::nullopt;
    m.structured_data = f.substr(pos, close - pos + 1);
    pos = close + 1;
  } else {
    return std::nullopt;
  }
  if (pos < f.size()) {
    if (f[pos] != ' ') return std::nullopt;
    m.msg = f.substr(pos + 1);
  }
  // TIMESTAMP: FULL-DATE "T" FULL-TIME with a Z or offset.
  if (m.timestamp.size() < 20 || m.timestamp[4] != '-' || m.timestamp[10] != 'T') return std::nullopt;
  return m;
}

std::string Cef::Ext(const std::string& key) const {
  for (const auto& [k, v] : extension) {
    if (k == key) return v;
  }
  return "";
}

std::optional<Cef> ParseCef(const std::string& text) {
  if (text.rfind("CEF:", 0) != 0) return std::nullopt;
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 4;
  for (; i < text.size() && fields.size() < 7; ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '|' || text[i + 1] == '\\')) {
      cur.push_back(text[++i]);
    } else if (c == '|') {
      fields.push_back(cur);
      cur.clear();
    } else if (c == '\n' || c == '\r') {
      return std::nullopt;  // not allowed in the header
    } else {
      cur.push_back(c);
    }
  }
  if (fields.size() != 7) return std::nullopt;
  Cef cef;
  cef.version = fields[0];
  cef.vendor = fields[1];
  cef.product = fields[2];
  cef.device_version = fields[3];
  cef.signature_id = fields[4];
  cef.name = fields[5];
  cef.severity = fields[6];
  // Extension: key=value pairs; a value runs to the next unescaped " key=".
  std::string ext = text.substr(i);
  auto is_key_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  size_t p = 0;
  while (p < ext.size()) {
    size_t eq = ext.find('=', p);
    if (eq == std::string::npos) return std::nullopt;
    std::string key = ext.substr(p, eq - p);
    if (key.empty() || !std::all_of(key.begin(), key.end(), is_key_char)) return std::nullopt;
    std::string value;
    size_t q = eq + 1;
    while (q < ext.size()) {
      char c = ext[q];
      if (c == '\\' && q + 1 < ext.size()) {
        char n = ext[q + 1];
        if (n == '=' || n == '\\') value.push_back(n);
        else if (n == 'n') value.push_back('\n');
        else if (n == 'r') value.push_back('\r');
        else return std::nullopt;  // an escape CEF does not define
        q += 2;
        continue;
      }
      if (c == '=') return std::nullopt;  // an unescaped '=' inside a value
      if (c == ' ') {
        size_t k = q + 1;
        while (k < ext.size() && is_key_char(ext[k])) ++k;
        if (k < ext.size() && ext[k] == '=' && k > q + 1) break;
      }
      value.push_back(c);
      ++q;
    }
    cef.extension.emplace_back(key, value);
    p = q < ext.size() ? q + 1 : q;
  }
  return cef;
}

SyslogReceiver::SyslogReceiver(Mode mode, std::optional<TlsServerOptions> tls)
    : mode_(mode), ssl_ctx_(ServerContext(tls)) {
  fd_ = Bind(mode == Mode::kUdp ? SOCK_DGRAM : SOCK_STREAM, 0, &port_);
  runner_ = std::thread([this] { Run(); });
}

SyslogReceiver::~SyslogReceiver() {
  Stop();
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
}

std::vector<std::string> SyslogReceiver::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::vector<std::string> SyslogReceiver::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

void SyslogReceiver::DropConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
}

void SyslogReceiver::Stop() {
  if (stop_.exchange(true)) return;
  if (runner_.joinable()) runner_.join();
  ::close(fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

void SyslogReceiver::Run() {
  char buf[70000];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) != 1) continue;
    if (mode_ == Mode::kUdp) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        messages_.emplace_back(buf, static_cast<size_t>(n));
      }
      continue;
    }
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    conn_fds_.push_back(c);
    threads_.emplace_back([this, c] { ServeStream(c); });
  }
}

void SyslogReceiver::ServeStream(int fd) {
  Stream s(fd, mode_ == Mode::kTls ? ssl_ctx_ : nullptr);
  if (!s.Handshake()) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("TLS handshake failed");
    ERR_clear_error();
    return;
  }
  std::string buf;
  char chunk[16384];
  while (true) {
    // RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG.
    size_t sp = buf.find(' ');
    if (sp != std::string::npos) {
      std::string len = buf.substr(0, sp);
      if (len.empty() || len.size() > 9 || len.find_first_not_of("0123456789") != std::string::npos ||
          len[0] == '0') {
        std::lock_guard<std::mutex> lock(mu_);
        errors_.push_back("not octet-counted: " + buf.substr(0, 40));
        break;
      }
      size_t n = std::stoul(len);
      if (buf.size() >= sp + 1 + n) {
        std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back(buf.substr(sp + 1, n));
        buf.erase(0, sp + 1 + n);
        continue;
      }
    }
    ssize_t n = s.Read(chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  ::shutdown(fd, SHUT_RDWR);
}

// ---- processes ----

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
}

void ChildProcess::Signal(int sig) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return std::nullopt;
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (std::chrono::steady_clock::now() > end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

Mosquitto::Mosquitto(const std::string& dir) : conf_(dir + "/mosquitto.conf") {
  port_ = FreePort();
  std::ofstream f(conf_);
  f << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
    << "log_dest none\n";
  f.close();
  Start();
}

void Mosquitto::Start() {
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf_});
  ready_ = Eventually([&] { return PortAccepts(port_) || !process_->running(); }, std::chrono::seconds(20)) &&
           process_->running();
}

void Mosquitto::Stop() {
  if (!process_) return;
  process_->Signal(SIGTERM);
  if (!process_->Wait(std::chrono::seconds(10))) {
    process_->Signal(SIGKILL);
    process_->Wait(std::chrono::seconds(10));
  }
  process_.reset();
}

Mosquitto::~Mosquitto() { Stop(); }

}  // namespace vigil::alerting::testing
