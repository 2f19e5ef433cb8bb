// The vigil binary's command line: help, usage errors, unreadable inputs and invalid rules
// (one line naming what is wrong, a non-zero exit), and `vigil validate`.
#include <catch2/catch.hpp>
#include <string>

#include "edge_support.h"

namespace vigil::edge::testing {
namespace {

// A usage error: exit 2, nothing on stdout, one line on stderr.
void CheckUsageError(const ProcessResult& r, const std::string& contains) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(Lines(r.err).size() == 1);
  CHECK_THAT(r.err, Catch::Contains(contains));
}

TEST_CASE("cli: vigil --help lists the commands", "[edge][cli]") {
  for (const char* flag : {"--help", "-h", "help"}) {
    ProcessResult r = RunVigil({flag});
    INFO(flag);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("Usage: vigil COMMAND"));
    CHECK_THAT(r.out,
               Catch::Contains("replay") && Catch::Contains("validate") && Catch::Contains("test"));
  }
}

TEST_CASE("cli: vigil without a command prints the usage and fails", "[edge][cli]") {
  ProcessResult r = RunVigil({});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("Usage: vigil COMMAND"));
}

TEST_CASE("cli: vigil --version", "[edge][cli]") {
  ProcessResult r = RunVigil({"--version"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("vigil ") && Catch::EndsWith("\n"));
  CHECK(Lines(r.out).size() == 1);
}

TEST_CASE("cli: every command has --help", "[edge][cli]") {
  SECTION("replay") {
    for (const char* flag : {"--help", "-h"}) {
      ProcessResult r = RunVigil({"replay", flag});
      CHECK(r.exit_code == 0);
      CHECK(r.err.empty());
      CHECK_THAT(r.out, Catch::StartsWith("Usage: vigil replay [options] FILE..."));
      for (const char* option :
           {"--rules PATH", "--stream NAME", "--format FORMAT", "--time-field FIELD",
            "--time-format FORMAT", "--max-delay DURATION", "--help"}) {
        CHECK_THAT(r.out, Catch::Contains(option));
      }
    }
  }
  SECTION("validate") {
    ProcessResult r = RunVigil({"validate", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("Usage: vigil validate PATH...") &&
                          Catch::Contains("file:line:column: message") &&
                          Catch::Contains("Options:\n  -h, --help"));
  }
  SECTION("test") {
    ProcessResult r = RunVigil({"test", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("Usage: vigil test PATH...") &&
                          Catch::Contains("N passed, N failed") &&
                          Catch::Contains("Options:\n  -h, --help"));
  }
  SECTION("--help wins over other arguments") {
    ProcessResult r = RunVigil({"replay", "--rules", "nowhere", "missing.jsonl", "--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("Usage: vigil replay"));
  }
}

TEST_CASE("cli: an unknown command is one line and exit 2", "[edge][cli]") {
  CheckUsageError(RunVigil({"replya", "x.jsonl"}), "unknown command 'replya'");
  CheckUsageError(RunVigil({"--bogus"}), "unknown command '--bogus'");
}

TEST_CASE("cli: an unknown option is one line with a suggestion", "[edge][cli]") {
  TempDir dir;
  std::string rules = dir.Write("rules.yaml", kLoginRules);
  CheckUsageError(RunVigil({"replay", "--rule", rules, "-"}),
                  "vigil replay: unknown option '--rule'; did you mean '--rules'?");
  CheckUsageError(RunVigil({"replay", "--max-dealy", "5s", "-"}), "did you mean '--max-delay'?");
  CheckUsageError(RunVigil({"replay", "--time_format=auto", "-"}), "did you mean '--time-format'?");
  // Far from every option: no guess.
  ProcessResult r = RunVigil({"replay", "--frobnicate", "-"});
  CheckUsageError(r, "unknown option '--frobnicate'");
  CHECK_THAT(r.err, !Catch::Contains("did you mean"));
  CheckUsageError(RunVigil({"replay", "-x", "-"}), "unknown option '-x'");
  CheckUsageError(RunVigil({"validate", "--strict", rules}), "unknown option '--strict'");
  CheckUsageError(RunVigil({"test", "--verbose", rules}), "unknown option '--verbose'");
}

TEST_CASE("cli: bad option values are usage errors", "[edge][cli]") {
  TempDir dir;
  std::string rules = dir.Write("rules.yaml", kLoginRules);
  CheckUsageError(RunVigil({"replay", "--rules"}), "option '--rules' needs a value (PATH)");
  CheckUsageError(RunVigil({"replay", "--rules", rules, "--time-format", "epoch_us", "-"}),
                  "--time-format 'epoch_us' must be rfc3339, epoch_s, epoch_ms, epoch_ns or auto");
  CheckUsageError(RunVigil({"replay", "--rules", rules, "--max-delay", "soon", "-"}),
                  "--max-delay");
  CheckUsageError(RunVigil({"replay", "--rules", rules, "--format", "xml", "-"}), "xml");
  CheckUsageError(RunVigil({"replay", "--rules", rules, "--stream", "a", "--stream", "b", "-"}),
                  "option '--stream' given more than once");
  CheckUsageError(RunVigil({"replay", "--rules", rules}), "no event files given");
  CheckUsageError(RunVigil({"validate"}), "no rule files or folders given");
  CheckUsageError(RunVigil({"test"}), "no rule files or folders given");
}

TEST_CASE("cli: a missing events file is named, with a non-zero exit", "[edge][cli]") {
  TempDir dir;
  std::string rules = dir.Write("rules.yaml", kLoginRules);
  std::string missing = dir.path() + "/missing.jsonl";
  ProcessResult r = RunVigil({"replay", "--rules", rules, missing});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(Problems(r.err) == Strings{"vigil replay: " + missing + ": No such file or directory"});

  SECTION("the other files are still replayed") {
    std::string events = dir.Write("events.jsonl", Login(At(1), "10.0.0.1") + "\n");
    ProcessResult both = RunVigil({"replay", "--rules", rules, missing, events});
    CHECK(both.exit_code == 1);
    CHECK(Lines(both.out).size() == 1);
    CHECK(Summary(both.err) == "replay: 1 events, 1 alerts, 0 late, 0 malformed, 0 without time");
  }
  SECTION("a folder is not an events file") {
    ProcessResult folder = RunVigil({"replay", "--rules", rules, dir.path()});
    CHECK(folder.exit_code == 1);
    CHECK(Problems(folder.err) == Strings{"vigil replay: " + dir.path() + ": Is a directory"});
  }
}

TEST_CASE("cli: a missing rules path is one line and exit 1", "[edge][cli]") {
  TempDir dir;
  std::string events = dir.Write("events.jsonl", Login(At(1), "10.0.0.1") + "\n");
  std::string missing = dir.path() + "/no-rules";
  ProcessResult r = RunVigil({"replay", "--rules", missing, events});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(Lines(r.err) == Strings{"vigil replay: " + missing + ": no such file or directory"});
}

TEST_CASE("cli: an invalid rule file is one line with file:line:column", "[edge][cli]") {
  TempDir dir;
  std::string events = dir.Write("events.jsonl", Login(At(1), "10.0.0.1") + "\n");
  SECTION("an unknown key") {
    std::string bad =
        dir.Write("bad.yaml", "rules:\n  - id: x\n    titel: y\n    where: 'a == 1'\n");
    ProcessResult r = RunVigil({"replay", "--rules", bad, events});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(Lines(r.err) == Strings{"vigil replay: " + bad +
                                  ":3:5: unknown key 'titel' in rule; did you mean 'title'?"});
  }
  SECTION("a YAML syntax error") {
    std::string bad = dir.Write("syntax.yaml", "rules:\n  - id: x\n    where: [unclosed\n");
    ProcessResult r = RunVigil({"replay", "--rules", bad, events});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    REQUIRE(Lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::StartsWith("vigil replay: " + bad + ":") &&
                          Catch::Contains("YAML syntax error"));
  }
  SECTION("several errors: the first, and how many more") {
    std::string bad =
        dir.Write("two.yaml",
                  "rules:\n  - id: x\n    title: t\n    where: 'a =='\n"
                  "  - id: y\n    title: t\n    severity: extreme\n    where: 'a == 1'\n");
    ProcessResult r = RunVigil({"replay", "--rules", bad, events});
    CHECK(r.exit_code == 1);
    REQUIRE(Lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::StartsWith("vigil replay: " + bad + ":4:") &&
                          Catch::EndsWith("(and 1 more; run vigil validate)\n"));
  }
  SECTION("vigil test refuses it the same way") {
    std::string bad =
        dir.Write("bad.yaml", "rules:\n  - id: x\n    titel: y\n    where: 'a == 1'\n");
    ProcessResult r = RunVigil({"test", bad});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(Lines(r.err) == Strings{"vigil test: " + bad +
                                  ":3:5: unknown key 'titel' in rule; did you mean 'title'?"});
  }
}

TEST_CASE("validate: valid rules print what was checked, exit 0", "[edge][validate]") {
  TempDir dir;
  std::string rules = dir.Write("rules/login.yaml", kLoginRules);
  ProcessResult r = RunVigil({"validate", rules});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "ok: 2 rules in 1 file\n");

  dir.Write("rules/more/one.yml",
            "rules:\n  - id: one\n    title: One\n    where: 'event.action == \"x\"'\n");
  ProcessResult folder = RunVigil({"validate", dir.path() + "/rules"});
  CHECK(folder.exit_code == 0);
  CHECK(folder.out == "ok: 3 rules in 2 files\n");
}

TEST_CASE("validate: every error as file:line:column: message, exit 1", "[edge][validate]") {
  TempDir dir;
  std::string good = dir.Write("rules/good.yaml", kLoginRules);
  std::string bad =
      dir.Write("rules/bad.yaml",
                "rules:\n  - id: x\n    title: t\n    where: 'a =='\n"
                "  - id: y\n    title: t\n    severity: extreme\n    where: 'a == 1'\n");
  ProcessResult r = RunVigil({"validate", dir.path() + "/rules"});
  CHECK(r.exit_code == 1);
  Strings lines = Lines(r.out);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::StartsWith(bad + ":4:"));
  CHECK(lines[1] == bad +
                        ":7:15: severity 'extreme' must be one of info, low, medium, high, "
                        "critical");
  CHECK(r.err == "2 errors in 2 files\n");

  SECTION("a duplicate rule id across files names both places") {
    std::string dup = dir.Write("dup.yaml", kLoginRules);
    ProcessResult d = RunVigil({"validate", good, dup});
    CHECK(d.exit_code == 1);
    CHECK_THAT(d.out, Catch::StartsWith(dup + ":2:9: duplicate rule id 'login-failure'") &&
                          Catch::Contains(good + ":2"));
  }
  SECTION("a missing path is an error too") {
    ProcessResult m = RunVigil({"validate", good, dir.path() + "/nothing.yaml"});
    CHECK(m.exit_code == 1);
    CHECK_THAT(m.out, Catch::Contains(dir.path() + "/nothing.yaml: no such file or directory"));
  }
}

}  // namespace
}  // namespace vigil::edge::testing
