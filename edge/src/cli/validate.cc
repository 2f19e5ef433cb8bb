// `vigil validate`: every error of every rule file, as file:line:column: message.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "vigil/rules/ruleset.h"

namespace vigil::edge {

int ValidateCommand(int argc, char** argv) {
  static const CommandSpec spec{
      "validate",
      "vigil validate PATH...",
      "Checks rule files and folders. Prints every error as file:line:column: message and\n"
      "exits 1 if there is any; otherwise prints what was checked and exits 0.",
      {}};
  ParsedArgs args;
  std::string error;
  if (!ParseArgs(spec, argc, argv, 2, &args, &error)) {
    PrintError("validate", error);
    return 2;
  }
  if (args.help) {
    std::fputs(FormatHelp(spec).c_str(), stdout);
    return 0;
  }
  if (args.positional.empty()) {
    PrintError("validate", "no rule files or folders given (see vigil validate --help)");
    return 2;
  }
  cep::FieldRegistry fields;
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRuleset(args.positional, &fields, &diags);
  for (const rules::Diagnostic& d : diags) std::printf("%s\n", d.ToString().c_str());
  if (!diags.empty()) {
    std::fprintf(stderr, "%zu error%s in %zu file%s\n", diags.size(), diags.size() == 1 ? "" : "s",
                 rs.files.size(), rs.files.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("ok: %zu rule%s in %zu file%s\n", rs.rules.size(), rs.rules.size() == 1 ? "" : "s",
              rs.files.size(), rs.files.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace vigil::edge
