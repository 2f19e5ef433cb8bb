#include "daemon_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vigil::edge::testing {

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a poll interval, not a wait
  }
  return true;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

HttpReply HttpGet(int port, const std::string& path) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) all.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t head_end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::atoi(all.c_str() + 9);
  std::string head = all.substr(0, head_end);
  size_t ct = head.find("Content-Type: ");
  if (ct != std::string::npos) reply.content_type = head.substr(ct + 14, head.find("\r\n", ct) - ct - 14);
  reply.body = all.substr(head_end + 4);
  return reply;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DaemonProcess::DaemonProcess(const TempDir& dir, std::vector<std::string> args, std::string cwd) {
  static int counter = 0;
  const std::string tag = std::to_string(++counter);
  out_path_ = dir.path() + "/daemon" + tag + ".out";
  err_path_ = dir.path() + "/daemon" + tag + ".err";
  const std::string notify_path = dir.path() + "/notify" + tag + ".sock";
  notify_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_path.c_str(), sizeof addr.sun_path - 1);
  if (bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("cannot bind " + notify_path);
  }
  args.insert(args.begin(), VIGIL_BINARY);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that dies does not leave its daemon behind
    setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

DaemonProcess::~DaemonProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (notify_fd_ >= 0) close(notify_fd_);
}

void DaemonProcess::Signal(int sig) {
  if (!reaped_ && pid_ > 0) kill(pid_, sig);
}

std::optional<int> DaemonProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return std::nullopt;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(timeout.count()));
    close(pidfd);
  }
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  reaped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string DaemonProcess::out() const { return ReadFile(out_path_); }
std::string DaemonProcess::err() const { return ReadFile(err_path_); }

std::vector<std::string> DaemonProcess::notifications() {
  char buf[4096];
  ssize_t n;
  while ((n = recv(notify_fd_, buf, sizeof buf, 0)) > 0) notifications_.emplace_back(buf, static_cast<size_t>(n));
  return notifications_;
}

std::optional<double> Exposition::Get(const std::string& name,
                                      const std::map<std::string, std::string>& labels) const {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::optional<Exposition> ParseExposition(const std::string& text, std::string* error) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
  static const std::regex kValue("[+-]?(Inf|NaN|[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?|\\.[0-9]+([eE][+-]?[0-9]+)?)");
  static const std::vector<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
  Exposition e;
  if (text.empty() || text.back() != '\n') {
    *error = "the text does not end with a newline";
    return std::nullopt;
  }
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::map<std::string, bool> sampled;  // families whose samples have begun
  std::string current;
  auto fail = [&](const std::string& why) {
    *error = "line " + std::to_string(n) + ": " + why + ": " + line;
    return std::nullopt;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) return fail("empty line");
    if (line[0] == '#') {
      std::istringstream ws(line);
      std::string hash, kind, name;
      ws >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) continue;  // a comment
      if (!std::regex_match(name, kName)) return fail("bad metric name");
      std::string rest;
      std::getline(ws, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kind == "TYPE") {
        if (e.types.count(name)) return fail("second TYPE for " + name);
        if (sampled.count(name)) return fail("TYPE after samples of " + name);
        if (std::find(kTypes.begin(), kTypes.end(), rest) == kTypes.end()) return fail("unknown type");
        e.types[name] = rest;
      } else {
        if (e.help.count(name)) return fail("second HELP for " + name);
        e.help[name] = rest;
      }
      current = name;
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) return fail("bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail("label without '='");
        std::string lname = line.substr(i, eq - i);
        if (!std::regex_match(lname, kLabelName)) return fail("bad label name '" + lname + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') return fail("label value not quoted");
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) return fail("dangling escape");
            char c = line[++j];
            if (c == 'n') {
              value += '\n';
            } else if (c == '\\' || c == '"') {
              value += c;
            } else {
              return fail("bad escape");
            }
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) return fail("unterminated label value");
        if (s.labels.count(lname)) return fail("label " + lname + " twice");
        s.labels[lname] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail("unterminated label set");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') return fail("no value");
    std::string rest = line.substr(i + 1);
    std::string value = rest.substr(0, rest.find(' '));  // an optional timestamp may follow
    if (!std::regex_match(value, kValue)) return fail("bad value '" + value + "'");
    s.value = value.find("NaN") != std::string::npos ? NAN : std::strtod(value.c_str(), nullptr);
    if (value == "+Inf" || value == "Inf") s.value = INFINITY;
    if (value == "-Inf") s.value = -INFINITY;
    // The family: the name itself, or for histograms and summaries the name less its suffix.
    std::string family = s.name;
    if (!e.types.count(family)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        size_t len = std::strlen(suffix);
        if (family.size() > len && family.compare(family.size() - len, len, suffix) == 0 &&
            e.types.count(family.substr(0, family.size() - len))) {
          family = family.substr(0, family.size() - len);
          break;
        }
      }
    }
    if (!e.types.count(family)) return fail("sample of an undeclared family");
    if (family != current) return fail("sample of " + family + " outside its family's block");
    sampled[family] = true;
    for (const Sample& other : e.samples) {
      if (other.name == s.name && other.labels == s.labels) return fail("duplicate sample");
    }
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace vigil::edge::testing
