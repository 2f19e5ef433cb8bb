// `vigil run [--config FILE]`: the appliance, until SIGTERM/SIGINT or the end of every
// source. Signals are blocked in every thread and read from a signalfd by one thread, so
// no work happens in a signal handler.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "args.h"
#include "commands.h"
#include "run/daemon.h"

namespace vigil::edge {

namespace {

const CommandSpec& RunSpec() {
  static const CommandSpec spec{
      "run",
      "vigil run [--config FILE]",
      "Runs the appliance: reads the configured streams, detects, delivers alerts through the\n"
      "durable outbox, serves /metrics, /healthz and /readyz, until SIGTERM or SIGINT (then it\n"
      "stops intake, drains, checkpoints, flushes the sinks within shutdown.timeout and exits\n"
      "0) or until every source has ended (follow: false, end of stdin). SIGHUP reloads the\n"
      "rules. Without --config: JSON lines on stdin as stream 'default', rules from\n"
      "rulesets/, state under ./vigil-state, alerts to stdout.",
      {
          {"config", "FILE", false, "The appliance configuration (YAML; see docs/edge.md)."},
      }};
  return spec;
}

// Reads signals from a signalfd on its own thread and hands them to the daemon.
class SignalThread {
 public:
  // REQUIRES: the signals are blocked in every thread (BlockSignals before any thread).
  explicit SignalThread(Daemon* daemon) : daemon_(daemon) {
    sigset_t set = Signals();
    sfd_ = signalfd(-1, &set, SFD_CLOEXEC);
    efd_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { Loop(); });
  }
  ~SignalThread() {
    uint64_t one = 1;
    ssize_t n = write(efd_, &one, sizeof one);
    (void)n;
    thread_.join();
    close(sfd_);
    close(efd_);
  }
  static sigset_t Signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
  }
  static void BlockSignals() {
    sigset_t set = Signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

 private:
  void Loop() {
    bool stopping = false;
    for (;;) {
      pollfd fds[2] = {{sfd_, POLLIN, 0}, {efd_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      signalfd_siginfo info;
      if (read(sfd_, &info, sizeof info) != sizeof info) continue;
      if (info.ssi_signo == SIGHUP) {
        daemon_->RequestReload();
      } else if (!stopping) {
        stopping = true;
        std::fprintf(stderr, "vigil: info: %s: stopping (again to exit at once)\n",
                     info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        daemon_->RequestStop();
      } else {
        std::fprintf(stderr, "vigil: error: second signal: exiting without the final checkpoint\n");
        std::_Exit(1);
      }
    }
  }
  Daemon* daemon_;
  int sfd_ = -1, efd_ = -1;
  std::thread thread_;
};

}  // namespace

int RunCommand(int argc, char** argv) {
  const CommandSpec& spec = RunSpec();
  ParsedArgs args;
  std::string error;
  if (!ParseArgs(spec, argc, argv, 2, &args, &error)) {
    PrintError("run", error);
    return 2;
  }
  if (args.help) {
    std::fputs(FormatHelp(spec).c_str(), stdout);
    return 0;
  }
  if (!args.positional.empty()) {
    PrintError("run", "unexpected argument '" + args.positional[0] + "' (see vigil run --help)");
    return 2;
  }
  AppConfig config;
  if (args.has("config")) {
    auto loaded = LoadConfigFile(args.get("config"));
    if (!loaded.ok()) {
      // Every error of the file, one per line, each naming file, position and key.
      std::fprintf(stderr, "vigil run: %s\n", loaded.status().message().c_str());
      return 2;
    }
    config = std::move(loaded).value();
  } else {
    config = DefaultConfig();
  }
  // Before any thread exists, so that every thread inherits the mask.
  SignalThread::BlockSignals();
  DaemonOptions options;
  options.version = VIGIL_VERSION;
  auto daemon = Daemon::Create(std::move(config), std::move(options));
  if (!daemon.ok()) {
    std::fprintf(stderr, "vigil run: %s\n", daemon.status().message().c_str());
    return daemon.status().code() == vigil::Status::Code::kInvalidArgument ? 2 : 1;
  }
  SignalThread signals(daemon->get());
  if (vigil::Status st = (*daemon)->Start(); !st.ok()) {
    std::fprintf(stderr, "vigil run: %s\n", st.message().c_str());
    return st.code() == vigil::Status::Code::kInvalidArgument ? 2 : 1;
  }
  return (*daemon)->Run();
}

}  // namespace vigil::edge
