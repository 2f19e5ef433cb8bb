#include "args.h"

#include "vigil/rules/diagnostic.h"

namespace vigil::edge {

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& ParsedArgs::all(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values.find(name);
  return it == values.end() ? kEmpty : it->second;
}

bool ParseArgs(const CommandSpec& spec, int argc, char** argv, int start, ParsedArgs* out,
               std::string* error) {
  bool options_done = false;
  for (int i = start; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
      out->positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out->help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unknown option '" + arg + "' (options start with --; see vigil " + spec.name +
               " --help)";
      return false;
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const OptionSpec* opt = nullptr;
    for (const OptionSpec& o : spec.options) {
      if (o.name == name) opt = &o;
    }
    if (!opt) {
      std::vector<std::string> names;
      for (const OptionSpec& o : spec.options) names.push_back(o.name);
      *error = "unknown option '--" + name + "'";
      std::string hint = rules::SuggestClosest(name, names);
      if (!hint.empty()) *error += "; did you mean '--" + hint + "'?";
      *error += " (see vigil " + spec.name + " --help)";
      return false;
    }
    if (opt->value_name.empty()) {
      if (inline_value) {
        *error = "option '--" + name + "' takes no value";
        return false;
      }
      value = "true";
    } else if (!inline_value) {
      if (i + 1 >= argc) {
        *error = "option '--" + name + "' needs a value (" + opt->value_name + ")";
        return false;
      }
      value = argv[++i];
    }
    auto& slot = out->values[name];
    if (!slot.empty() && !opt->repeatable) {
      *error = "option '--" + name + "' given more than once";
      return false;
    }
    slot.push_back(value);
  }
  return true;
}

std::string FormatHelp(const CommandSpec& spec) {
  std::string s = "Usage: " + spec.usage + "\n\n" + spec.summary + "\n";
  s += "\nOptions:\n";  // every command has at least --help
  for (const OptionSpec& o : spec.options) {
    std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    if (left.size() < 24) left.resize(24, ' ');
    else left += "\n" + std::string(24, ' ');
    s += left + o.help + "\n";
  }
  s += "  -h, --help            Show this help.\n";
  return s;
}

}  // namespace vigil::edge
