// `vigil test`: the tests inside rule files.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "rules_loading.h"
#include "vigil/edge/rule_tests.h"

namespace vigil::edge {

int TestCommand(int argc, char** argv) {
  static const CommandSpec spec{
      "test",
      "vigil test PATH...",
      "Runs the tests: of every rule in the given files and folders with the production\n"
      "engine. Prints one line per test and 'N passed, N failed'; exits 1 if any failed.",
      {}};
  ParsedArgs args;
  std::string error;
  if (!ParseArgs(spec, argc, argv, 2, &args, &error)) {
    PrintError("test", error);
    return 2;
  }
  if (args.help) {
    std::fputs(FormatHelp(spec).c_str(), stdout);
    return 0;
  }
  if (args.positional.empty()) {
    PrintError("test", "no rule files or folders given (see vigil test --help)");
    return 2;
  }
  auto fields = std::make_shared<cep::FieldRegistry>();
  auto loaded = LoadRulesOrReport("test", args.positional, fields.get());
  if (!loaded) return 1;
  size_t passed = 0, failed = 0;
  for (const rules::Rule& rule : loaded->rules) {
    for (const rules::RuleTest& test : rule.tests) {
      RuleTestResult r = RunRuleTest(rule, test, *loaded, fields);
      if (r.passed) {
        ++passed;
        std::printf("PASS %s: %s\n", rule.id.c_str(), test.name.c_str());
      } else {
        ++failed;
        std::printf("FAIL %s: %s (%s:%d)\n%s\n", rule.id.c_str(), test.name.c_str(),
                    test.pos.file.c_str(), test.pos.line, r.detail.c_str());
      }
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace vigil::edge
