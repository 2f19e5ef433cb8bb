#include "rules_loading.h"

#include <cstdio>

#include "commands.h"

namespace vigil::edge {

void PrintError(const char* command, const std::string& message) {
  std::fprintf(stderr, "vigil %s: %s\n", command, message.c_str());
}

std::optional<rules::Ruleset> LoadRulesOrReport(const char* command,
                                                const std::vector<std::string>& paths,
                                                cep::FieldRegistry* fields) {
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRuleset(paths, fields, &diags);
  if (!diags.empty()) {
    std::string msg = diags.front().ToString();
    if (diags.size() > 1) {
      msg += " (and " + std::to_string(diags.size() - 1) + " more; run vigil validate)";
    }
    PrintError(command, msg);
    return std::nullopt;
  }
  return rs;
}

}  // namespace vigil::edge
