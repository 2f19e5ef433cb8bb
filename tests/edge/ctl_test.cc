// `vigil ctl` as a child process against a real AdminServer in this process (over the
// in-memory TestBackend); its output is parsed.
#include <simdjson.h>

#include <thread>

#include "admin_support.h"

namespace vigil::edge::testing {
namespace {

using vigil::testing::Lines;
using vigil::testing::ProcessResult;
using vigil::testing::RunProcess;
using vigil::testing::TempDir;
using Strings = std::vector<std::string>;

ProcessResult Ctl(const AdminServer& server, Strings args, Strings before = {}) {
  Strings argv = std::move(before);
  argv.push_back(VIGIL_BINARY);
  argv.push_back("ctl");
  argv.push_back("--address");
  argv.push_back(server.address());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

// Splits a table row into its cells (columns are two or more spaces apart).
Strings Cells(const std::string& row) {
  Strings cells;
  size_t i = 0;
  while (i < row.size()) {
    size_t end = row.find("  ", i);
    if (end == std::string::npos) end = row.size();
    cells.push_back(row.substr(i, end - i));
    i = row.find_first_not_of(' ', end);
    if (i == std::string::npos) break;
  }
  return cells;
}

std::string Str(simdjson::dom::element e, const char* pointer) {
  std::string_view s;
  INFO(pointer);
  REQUIRE_FALSE(e.at_pointer(pointer).get(s));
  return std::string(s);
}

TEST_CASE("vigil ctl: rules validate, apply, list, get, enable, disable and delete") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  TempDir dir;
  std::string good = dir.Write("auth.yaml", kTwoRules);
  std::string bad = dir.Write("bad.yaml", kBadRule);

  ProcessResult r = Ctl(*server, {"rules", "validate", bad});
  CHECK(r.exit_code == 1);
  REQUIRE_FALSE(Lines(r.out).empty());
  CHECK_THAT(Lines(r.out)[0], Catch::StartsWith(bad + ":4:5: "));
  CHECK_THAT(r.err, Catch::Contains("in " + bad));

  r = Ctl(*server, {"rules", "validate", good});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "ok: 2 rules in " + good + " (login-failure, root-login)\n");

  r = Ctl(*server, {"--json", "rules", "validate", bad});
  CHECK(r.exit_code == 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(r.out).get(doc));
  CHECK(Str(doc, "/errors/0/position/file") == bad);
  int64_t line = 0;
  REQUIRE_FALSE(doc.at_pointer("/errors/0/position/line").get(line));
  CHECK(line == 4);

  r = Ctl(*server, {"rules", "apply", bad});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(bad + ":4:5: "));

  r = Ctl(*server, {"rules", "apply", good, "--name", "auth"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Lines(r.out) == Strings{"added:      login-failure, root-login", "changed:    -",
                                "unchanged:  -", "removed:    -"});
  dir.Write("auth.yaml", kTwoRulesV2);
  r = Ctl(*server, {"--json", "rules", "apply", good, "--name", "auth"});
  REQUIRE(r.exit_code == 0);
  REQUIRE_FALSE(parser.parse(r.out).get(doc));
  CHECK(Str(doc, "/changed/0") == "login-failure");
  CHECK(Str(doc, "/unchanged/0") == "root-login");

  r = Ctl(*server, {"rules", "list"});
  REQUIRE(r.exit_code == 0);
  Strings lines = Lines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(Cells(lines[0]) ==
        Strings{"ID", "KIND", "SEVERITY", "ENABLED", "STREAM", "SOURCE", "TITLE"});
  CHECK(Cells(lines[1]) ==
        Strings{"login-failure", "single_event", "high", "yes", "*", "api:auth", "Failed login"});
  CHECK(Cells(lines[2]) == Strings{"root-login", "single_event", "critical", "yes", "*", "api:auth",
                                   "Root logged in (renamed)"});
  // Aligned: every row's second column starts where the header's does.
  CHECK(lines[1].find("single_event") == lines[0].find("KIND"));
  CHECK(lines[2].find("single_event") == lines[0].find("KIND"));

  r = Ctl(*server, {"rules", "disable", "root-login"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "disabled rule root-login\n");
  r = Ctl(*server, {"--json", "rules", "list"});
  REQUIRE(r.exit_code == 0);
  REQUIRE_FALSE(parser.parse(r.out).get(doc));
  CHECK(Str(doc, "/rules/1/id") == "root-login");
  bool enabled = true;
  REQUIRE_FALSE(doc.at_pointer("/rules/1/enabled").get(enabled));
  CHECK_FALSE(enabled);
  r = Ctl(*server, {"--json", "rules", "enable", "root-login"});
  CHECK(r.out == "{\"id\":\"root-login\",\"enabled\":true}\n");

  r = Ctl(*server, {"rules", "get", "root-login"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("id:           root-login\n"));
  CHECK_THAT(r.out, Catch::Contains("enabled:      yes\n"));
  CHECK_THAT(r.out, Catch::Contains("where: 'user.name == \"root\"'"));

  r = Ctl(*server, {"rules", "get", "nope"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "vigil ctl: rules get nope: no rule 'nope'\n");

  r = Ctl(*server, {"rules", "delete", "login-failure"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "deleted rule login-failure\n");
  r = Ctl(*server, {"rules", "delete", "login-failure"});
  CHECK(r.exit_code == 1);
  r = Ctl(*server, {"rules", "list"});
  CHECK(Lines(r.out).size() == 2);
}

TEST_CASE("vigil ctl: status, health and checkpoint") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  ProcessResult r = Ctl(*server, {"status"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("node:             test-node\n"));
  Strings lines = Lines(r.out);
  auto streams = std::find(lines.begin(), lines.end(), "streams:");
  REQUIRE(streams + 2 < lines.end());
  CHECK(Cells(streams[1])[0] == "NAME");
  CHECK(Cells(streams[2]) == Strings{"events", "grpc", "running", "-", "-", "0", "0", "0"});

  r = Ctl(*server, {"--json", "status"});
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(r.out).get(doc));
  CHECK(Str(doc, "/node_id") == "test-node");
  CHECK(Str(doc, "/sinks/0/name") == "console");

  r = Ctl(*server, {"checkpoint"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "checkpoint 1: 0 bytes written\n");

  r = Ctl(*server, {"health"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "live:   yes\nready:  yes\n");
  backend.set_ready(false);
  r = Ctl(*server, {"health"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("detail: recovering state"));
}

TEST_CASE("vigil ctl: alerts recent and alerts tail, as tables and JSON lines") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  backend.Raise(MakeAlert("login-failure", "high", 1, "10.0.0.1"));
  backend.Raise(MakeAlert("root-login", "critical", 2, "10.0.0.2"));
  backend.Raise(MakeAlert("login-failure", "low", 3, "10.0.0.3"));

  ProcessResult r = Ctl(*server, {"alerts", "recent", "--rule", "login-failure"});
  REQUIRE(r.exit_code == 0);
  Strings lines = Lines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(Cells(lines[0]) == Strings{"TIME", "SEVERITY", "RULE", "KEY", "SUMMARY"});
  CHECK(Cells(lines[1]) == Strings{"2026-11-21T10:15:01.000Z", "high", "login-failure",
                                   R"({"source.ip":"10.0.0.1"})", "alert from 10.0.0.1"});

  r = Ctl(*server, {"--json", "alerts", "recent", "--min-severity", "high"});
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(r.out).get(doc));
  simdjson::dom::array arr;
  REQUIRE_FALSE(doc.get(arr));
  CHECK(arr.size() == 2);
  CHECK(Str(doc, "/1/rule/id") == "root-login");

  // tail: the child subscribes; alerts raised after that reach it; the server shutting
  // down ends it with exit code 0.
  ProcessResult tail;
  std::thread child([&] {
    tail = Ctl(*server, {"--json", "alerts", "tail", "--backlog", "1", "--rule", "root-login",
                         "--min-severity", "high"});
  });
  bool subscribed = backend.WaitForSubscribers(1, std::chrono::seconds(60));
  backend.Raise(MakeAlert("root-login", "medium", 4, "10.0.0.4"));   // below min severity
  backend.Raise(MakeAlert("login-failure", "high", 5, "10.0.0.5"));  // another rule
  backend.Raise(MakeAlert("root-login", "critical", 6, "10.0.0.6"));
  // Ends the tail from the backend's side once the child has read what was sent: the
  // subscription's queue empties first (Next returns queued alerts before `stopping`).
  backend.StopAlerts();
  child.join();
  REQUIRE(subscribed);
  INFO(tail.err);
  CHECK(tail.exit_code == 0);
  lines = Lines(tail.out);
  REQUIRE(lines.size() == 2);
  simdjson::dom::parser p1, p2;
  simdjson::dom::element a1, a2;
  REQUIRE_FALSE(p1.parse(lines[0]).get(a1));
  REQUIRE_FALSE(p2.parse(lines[1]).get(a2));
  CHECK(Str(a1, "/id") == "root-login-02");  // the backlog
  CHECK(Str(a2, "/id") == "root-login-06");
}

TEST_CASE("vigil ctl: alerts tail prints alerts as lines and ends when the server shuts down") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  ProcessResult tail;
  std::thread child([&] { tail = Ctl(*server, {"alerts", "tail"}); });
  bool subscribed = backend.WaitForSubscribers(1, std::chrono::seconds(60));
  backend.Raise(MakeAlert("root-login", "critical", 7, "10.0.0.7"));
  server->Shutdown(std::chrono::seconds(60));
  child.join();
  REQUIRE(subscribed);
  INFO(tail.err);
  CHECK(tail.exit_code == 0);
  // Raised before the shutdown, so still sent.
  CHECK(Lines(tail.out) ==
        Strings{"2026-11-21T10:15:07.000Z  critical  root-login  {\"source.ip\":\"10.0.0.7\"}  "
                "alert from 10.0.0.7"});
  CHECK_THAT(tail.err, Catch::Contains("the server ended the stream"));
}

TEST_CASE("vigil ctl: the token from --token-env or --token-file, refusals explained") {
  TestBackend backend;
  AdminServerOptions options;
  options.token = "ctl-s3cret";
  auto server = StartAdmin(&backend, options);
  TempDir dir;

  ProcessResult r = Ctl(*server, {"rules", "list"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("refused the call: missing authorization metadata"));
  CHECK_THAT(r.err, Catch::Contains("--token-env NAME or --token-file FILE"));

  r = Ctl(*server, {"--token-file", dir.Write("wrong", "nope\n"), "rules", "list"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("wrong bearer token (the token given was not accepted)"));
  CHECK(server->stats().refused == 2);

  r = Ctl(*server, {"--token-file", dir.Write("token", "ctl-s3cret\n"), "rules", "list"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = Ctl(*server, {"--token-env", "VIGIL_TEST_TOKEN", "health"},
          {"/usr/bin/env", "VIGIL_TEST_TOKEN=ctl-s3cret"});
  CHECK(r.exit_code == 0);
  CHECK(server->stats().requests == 2);
  CHECK(server->stats().refused == 2);

  r = Ctl(*server, {"--token-env", "VIGIL_TEST_UNSET_VARIABLE", "health"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("VIGIL_TEST_UNSET_VARIABLE: the variable is not set"));
}

TEST_CASE("vigil ctl: TLS with --tls-ca, and a clear error without it") {
  TestBackend backend;
  TempDir dir;
  TestCert cert = MakeCert(dir, "server");
  AdminServerOptions options;
  options.tls = TlsNode(cert);
  auto server = StartAdmin(&backend, options);

  ProcessResult r = Ctl(*server, {"--tls-ca", cert.cert_file, "health"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = Ctl(*server, {"health"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::StartsWith("vigil ctl: cannot connect to " + server->address() + ": "));
  CHECK_THAT(r.err, Catch::Contains("a TLS server needs --tls-ca"));
  TestCert other = MakeCert(dir, "other");
  r = Ctl(*server, {"--tls-ca", other.cert_file, "health"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("TLS: check --tls-ca"));
}

TEST_CASE("vigil ctl: cannot connect, usage errors") {
  TestBackend backend;
  std::string address;
  {
    auto server = StartAdmin(&backend);
    address = server->address();
  }  // nothing listens there any more
  ProcessResult r = RunProcess({VIGIL_BINARY, "ctl", "--address", address, "status"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::StartsWith("vigil ctl: cannot connect to " + address + ": "));

  struct Case {
    Strings args;
    std::string error;
  } cases[] = {
      {{}, "no command given"},
      {{"rules"}, "rules: needs a subcommand"},
      {{"rules", "frob"}, "unknown command 'rules frob'"},
      {{"rules", "get"}, "rules get: needs one argument (ID)"},
      {{"rules", "apply"}, "rules apply: needs one argument (FILE)"},
      {{"status", "extra"}, "status: takes no arguments"},
      {{"status", "--name", "x"}, "option '--name' does not apply to 'status'"},
      {{"alerts", "tail", "--min-severity", "urgent"}, "--min-severity: expected info"},
      {{"alerts", "tail", "--backlog", "many"}, "--backlog: expected a count"},
      {{"--adress", "x", "status"}, "did you mean '--address'?"},
      {{"rules", "validate", "/nonexistent/rules.yaml"}, "cannot read '/nonexistent/rules.yaml'"},
  };
  for (const Case& c : cases) {
    Strings argv{VIGIL_BINARY, "ctl"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    r = RunProcess(argv);
    INFO(c.error);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.error));
  }
  r = RunProcess({VIGIL_BINARY, "ctl", "--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("alerts tail"));
}

}  // namespace
}  // namespace vigil::edge::testing
