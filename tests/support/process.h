// Test support: running the vigil binary (or any program) and capturing what it prints.
#pragma once

#include <string>
#include <vector>

namespace vigil::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 if it did not exit normally (signal)
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs `argv` (argv[0] is the program path) with `stdin_data` on standard input, in the
// working directory `cwd` (empty: this process's), waits for it (killing it after
// `timeout_seconds`), and returns its exit code and output.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         int timeout_seconds = 60, const std::string& cwd = "");

// Runs the vigil binary built with the tests: RunVigil({"replay", "--rules", ...}).
ProcessResult RunVigil(const std::vector<std::string>& args, const std::string& stdin_data = "");
// The same, in the working directory `cwd`, so that relative paths in its output read as
// they would in a shell there.
ProcessResult RunVigilIn(const std::string& cwd, const std::vector<std::string>& args);

// Splits text into lines (without the newlines; a trailing empty line is dropped).
std::vector<std::string> Lines(const std::string& text);

}  // namespace vigil::testing
