#include "mosquitto_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "support/process.h"

namespace vigil::ingest::testing {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Waits for `pid` to exit for at most `ms`; true if it did (and was reaped).
bool WaitExit(int pid, int ms) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    poll(&p, 1, ms);
    close(pidfd);
  }
  int status;
  return waitpid(pid, &status, WNOHANG) == pid;
}

std::string UserName() {
  passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : "root";
}

}  // namespace

Mosquitto::Mosquitto(const vigil::testing::TempDir& dir, BrokerOptions options)
    : dir_(dir), options_(std::move(options)), port_(FreeLoopbackPort()) {
  std::ostringstream conf;
  conf << "listener " << port_ << " 127.0.0.1\n";
  // Run as whoever runs the tests (as root mosquitto would otherwise switch users and lose
  // access to the test's directory).
  conf << "user " << UserName() << "\n";
  if (options_.password_file.empty()) {
    conf << "allow_anonymous true\n";
  } else {
    conf << "allow_anonymous false\npassword_file " << options_.password_file << "\n";
  }
  if (!options_.certfile.empty()) {
    conf << "cafile " << options_.cafile << "\ncertfile " << options_.certfile << "\nkeyfile "
         << options_.keyfile << "\n";
    conf << "require_certificate " << (options_.require_certificate ? "true" : "false") << "\n";
  }
  if (options_.persistence) {
    conf << "persistence true\npersistence_location " << dir_.path() << "/\n";
  }
  conf << "max_queued_messages 1000000\nmax_queued_bytes 0\n";
  log_ = dir_.path() + "/mosquitto.log";
  conf << "log_dest file " << log_
       << "\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  conf_ = dir_.Write("mosquitto.conf", conf.str());
}

Mosquitto::~Mosquitto() {
  Stop();
}

std::string Mosquitto::url() const {
  return std::string(options_.certfile.empty() ? "tcp" : "ssl") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::string Mosquitto::log() const {
  std::ifstream f(log_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Mosquitto::Start() {
  REQUIRE(pid_ < 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // a test that dies does not leave its broker behind
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!Accepts(port_)) {
    if (WaitExit(pid_, 10)) {
      pid_ = -1;
      FAIL("mosquitto exited at start; its log:\n" << log());
    }
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("mosquitto did not listen within 20 s:\n" << log());
  }
}

void Mosquitto::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!WaitExit(pid_, 10000)) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

void Mosquitto::Publish(const std::string& topic, const std::vector<std::string>& messages, int qos,
                        const std::string& version, const std::vector<std::string>& extra) const {
  std::string input;
  for (const std::string& m : messages)
    input += m + "\n";
  std::vector<std::string> argv = {
      "/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
      std::to_string(port_),    "-t", topic,       "-q",
      std::to_string(qos),      "-l", "-V",        version == "5" ? "mqttv5" : "mqttv311"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = vigil::testing::RunProcess(argv, input, 120);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

TestCertificates MakeCertificates(const vigil::testing::TempDir& dir) {
  TestCertificates c;
  const std::string d = dir.path() + "/";
  c.ca_cert = d + "ca.pem";
  c.ca_key = d + "ca.key";
  c.server_cert = d + "server.pem";
  c.server_key = d + "server.key";
  c.client_cert = d + "client.pem";
  c.client_key = d + "client.key";
  c.other_ca_cert = d + "other-ca.pem";
  auto run = [](const std::vector<std::string>& argv) {
    auto r = vigil::testing::RunProcess(argv, "", 60);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  };
  const std::string openssl = "/usr/bin/openssl";
  run({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=Vigil Test CA", "-keyout", c.ca_key, "-out", c.ca_cert});
  run({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=Other CA", "-keyout", d + "other-ca.key", "-out", c.other_ca_cert});
  dir.Write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
       c.server_key, "-out", d + "server.csr"});
  run({openssl, "x509", "-req", "-in", d + "server.csr", "-CA", c.ca_cert, "-CAkey", c.ca_key,
       "-CAcreateserial", "-days", "2", "-extfile", d + "server.ext", "-out", c.server_cert});
  run({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=vigil-client", "-keyout",
       c.client_key, "-out", d + "client.csr"});
  run({openssl, "x509", "-req", "-in", d + "client.csr", "-CA", c.ca_cert, "-CAkey", c.ca_key,
       "-CAcreateserial", "-days", "2", "-out", c.client_cert});
  return c;
}

}  // namespace vigil::ingest::testing
