// The `vigil` binary: one program, one subcommand per job.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

const char kUsage[] =
    "Usage: vigil COMMAND [options]\n"
    "\n"
    "Vigil matches sequences, absences and thresholds over event streams and raises alerts.\n"
    "\n"
    "Commands:\n"
    "  run        The appliance: streams in, alerts out, until SIGTERM\n"
    "  replay     Run the rules over recorded events; alerts to stdout\n"
    "  validate   Check rule files; errors as file:line:column: message\n"
    "  test       Run the tests inside rule files\n"
    "  ctl        Talk to a running vigil: status, rules, alerts (admin API)\n"
    "\n"
    "Run 'vigil COMMAND --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  if (cmd == "run") return vigil::edge::RunCommand(argc, argv);
  if (cmd == "replay") return vigil::edge::ReplayCommand(argc, argv);
  if (cmd == "validate") return vigil::edge::ValidateCommand(argc, argv);
  if (cmd == "test") return vigil::edge::TestCommand(argc, argv);
  if (cmd == "ctl") return vigil::edge::CtlCommand(argc, argv);
  std::fprintf(stderr, "vigil: unknown command '%s' (see vigil --help)\n", cmd.c_str());
  return 2;
}
