// Internal: command-line options for the subcommands, declared once for parsing and help.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vigil::edge {

struct OptionSpec {
  std::string name;        // without dashes: "rules"
  std::string value_name;  // empty: a flag without a value
  bool repeatable = false;
  std::string help;
};

struct CommandSpec {
  std::string name;       // "replay"
  std::string usage;      // "vigil replay [options] FILE..."
  std::string summary;    // one paragraph
  std::vector<OptionSpec> options;
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // flags map to {"true"}
  std::vector<std::string> positional;
  bool help = false;

  bool has(const std::string& name) const { return values.count(name) != 0; }
  // The last value given, or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
};

// Parses argv[start..argc). On a bad option returns false with a one-line `error`.
bool ParseArgs(const CommandSpec& spec, int argc, char** argv, int start, ParsedArgs* out,
               std::string* error);
std::string FormatHelp(const CommandSpec& spec);

}  // namespace vigil::edge
