// Test support for `vigil run`: the daemon as a child process (its output in files, its
// systemd notifications on a socket of the test's), HTTP GETs against its endpoints, a
// strict parser of the Prometheus text format, and polling with deadlines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace vigil::edge::testing {

using vigil::testing::TempDir;

// Polls `cond` until it holds or `deadline` passes (never a fixed sleep).
bool Eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds deadline = std::chrono::seconds(30));

int FreePort();

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string content_type;
  std::string body;
};
HttpReply HttpGet(int port, const std::string& path);

// `vigil run ARGS...` in the background, in `cwd`; stdout and stderr go to files in
// `dir`; NOTIFY_SOCKET points at a datagram socket the test reads.
class DaemonProcess {
 public:
  DaemonProcess(const TempDir& dir, std::vector<std::string> args, std::string cwd = "");
  ~DaemonProcess();  // SIGKILL if still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout` for the exit; the exit code, -1 for a signal, nullopt if still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string out() const;
  std::string err() const;
  // Notifications received so far ("READY=1", "STOPPING=1"), in order.
  std::vector<std::string> notifications();

 private:
  std::string out_path_, err_path_;
  int notify_fd_ = -1;
  std::vector<std::string> notifications_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// One sample of a Prometheus text exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
struct Exposition {
  std::map<std::string, std::string> types;  // family → counter | gauge | ...
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  // The value of the sample with this name and exactly these labels.
  std::optional<double> Get(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};
// Parses text format 0.0.4 strictly: every line is a HELP, a TYPE or a sample; names and
// label names are valid; label values are quoted with only \\, \" and \n escapes; values
// are floats, NaN or +/-Inf; a family's TYPE comes before its samples and once; a sample
// belongs to a declared family; the text ends with a newline. Errors name the line.
std::optional<Exposition> ParseExposition(const std::string& text, std::string* error);

std::string ReadFile(const std::string& path);

}  // namespace vigil::edge::testing
