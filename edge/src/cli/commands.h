// Internal: the subcommands of the `vigil` binary. Each returns the process exit code:
// 0 success, 1 the command ran and found problems (invalid rules, failed tests, I/O
// errors), 2 bad usage.
#pragma once

#include <string>

namespace vigil::edge {

int RunCommand(int argc, char** argv);
int ReplayCommand(int argc, char** argv);
int ValidateCommand(int argc, char** argv);
int TestCommand(int argc, char** argv);
int CtlCommand(int argc, char** argv);  // edge/src/ctl/

// Prints "vigil: <message>" to stderr.
void PrintError(const char* command, const std::string& message);

}  // namespace vigil::edge
