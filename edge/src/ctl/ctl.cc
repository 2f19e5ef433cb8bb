// `vigil ctl`: the command-line client of the admin gRPC API. Exit codes: 0 ok, 1 the call
// failed or found problems (invalid rules, unknown rule, refused token), 2 bad usage,
// 3 the server cannot be reached.
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "ctl/ctl_output.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/alerts.grpc.pb.h"
#include "vigil/v1/rules.grpc.pb.h"

namespace vigil::edge {

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2, kNoConnection = 3;
constexpr char kDroppedKey[] = "vigil-alerts-dropped";  // admin/services.h

const CommandSpec& Spec() {
  static const CommandSpec spec{
      "ctl",
      "vigil ctl [options] COMMAND\n"
      "\n"
      "Commands:\n"
      "  status                  streams, rules and sinks of the running appliance\n"
      "  health                  liveness and readiness\n"
      "  checkpoint              write a checkpoint now\n"
      "  rules list              the loaded rules\n"
      "  rules get ID            one rule, with its YAML\n"
      "  rules validate FILE     check a rule document (errors as file:line:column: message)\n"
      "  rules apply FILE        load or replace a rule document (hot; --name N names it)\n"
      "  rules delete ID         remove a rule and its state\n"
      "  rules enable ID         start matching a rule\n"
      "  rules disable ID        stop matching a rule (it stays loaded)\n"
      "  alerts tail             alerts as they are raised, until the server stops\n"
      "  alerts recent           the most recent alerts",
      "Client of the admin gRPC API of `vigil run`. Tables for people by default; --json\n"
      "prints one JSON document (JSON lines for alerts, each the alert as `vigil replay`\n"
      "prints it). Exit codes: 0 ok, 1 the call failed or found problems, 2 bad usage,\n"
      "3 cannot connect.",
      {
          {"address", "HOST:PORT", false, "The server (default 127.0.0.1:7070)."},
          {"server", "HOST:PORT", false, "Same as --address."},
          {"token-env", "NAME", false, "Read the API token from this environment variable."},
          {"token-file", "FILE", false, "Read the API token from this file."},
          {"tls-ca", "FILE", false, "Connect with TLS, trusting these PEM CA certificates."},
          {"tls-cert", "FILE", false,
           "TLS client certificate (PEM), for servers that require one."},
          {"tls-key", "FILE", false, "Private key of --tls-cert (PEM)."},
          {"tls-server-name", "NAME", false, "Expect this name in the server certificate."},
          {"timeout", "SECONDS", false, "Deadline of each call except alerts tail (default 30)."},
          {"json", "", false, "Print JSON instead of tables."},
          {"name", "NAME", false, "rules apply: the document's name (default: FILE)."},
          {"rule", "ID", true, "alerts tail/recent: only this rule's alerts (repeatable)."},
          {"min-severity", "S", false, "alerts tail/recent: info, low, medium, high or critical."},
          {"backlog", "N", false, "alerts tail: first send up to N recent alerts (default 0)."},
          {"limit", "N", false, "alerts recent: at most N alerts (default 100)."},
      }};
  return spec;
}

void Error(const std::string& message) {
  PrintError("ctl", message);
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool ParseCount(const std::string& text, uint32_t* out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  *out = static_cast<uint32_t>(std::stoul(text));
  return true;
}

struct Client {
  std::string address;
  std::string token;
  bool tls = false;
  int timeout_seconds = 30;
  bool json = false;
  std::shared_ptr<grpc::Channel> channel;

  void Prepare(grpc::ClientContext* ctx, bool deadline = true) const {
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    if (deadline) {
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
    }
  }

  // Reports a failed call; returns the exit code.
  int Fail(const std::string& what, const grpc::Status& s) const {
    grpc_connectivity_state state = channel->GetState(false);
    bool transport = s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                     s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (transport && state != GRPC_CHANNEL_READY) {
      std::string hint =
          tls ? " (TLS: check --tls-ca, --tls-server-name and the server's certificate)"
              : " (is `vigil run` listening there? a TLS server needs --tls-ca)";
      Error("cannot connect to " + address + ": " + s.error_message() + hint);
      return kNoConnection;
    }
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      Error(what + ": the server at " + address + " refused the call: " + s.error_message() +
            (token.empty() ? " (give the API token with --token-env NAME or --token-file FILE)"
                           : " (the token given was not accepted)"));
      return kFailed;
    }
    std::string msg = s.error_message();
    if (msg.find('\n') != std::string::npos) {
      // Diagnostics, one per line ("file:line:column: message"): printed as they are.
      Error(what + " failed:");
      std::fprintf(stderr, "%s%s", msg.c_str(), msg.back() == '\n' ? "" : "\n");
    } else {
      Error(what + ": " + msg);
    }
    return kFailed;
  }
};

void Print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
}

int StatusCommand(const Client& c) {
  auto stub = v1::Admin::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::StatusResponse reply;
  grpc::Status s = stub->Status(&ctx, v1::StatusRequest(), &reply);
  if (!s.ok()) return c.Fail("status", s);
  Print(c.json ? ctl::ToJson(reply) + "\n" : ctl::StatusText(reply));
  return kOk;
}

int Health(const Client& c) {
  auto stub = v1::Admin::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::HealthResponse reply;
  grpc::Status s = stub->Health(&ctx, v1::HealthRequest(), &reply);
  if (!s.ok()) return c.Fail("health", s);
  if (c.json) {
    Print(ctl::ToJson(reply) + "\n");
  } else {
    Print(std::string("live:   ") + (reply.live() ? "yes" : "no") +
          "\nready:  " + (reply.ready() ? "yes" : "no") + "\n" +
          (reply.detail().empty() ? "" : "detail: " + reply.detail() + "\n"));
  }
  return reply.live() && reply.ready() ? kOk : kFailed;
}

int Checkpoint(const Client& c) {
  auto stub = v1::Admin::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::CheckpointResponse reply;
  grpc::Status s = stub->Checkpoint(&ctx, v1::CheckpointRequest(), &reply);
  if (!s.ok()) return c.Fail("checkpoint", s);
  Print(c.json ? ctl::ToJson(reply) + "\n"
               : "checkpoint " + std::to_string(reply.checkpoint()) + ": " +
                     std::to_string(reply.bytes()) + " bytes written\n");
  return kOk;
}

int RulesList(const Client& c) {
  auto stub = v1::Rules::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::ListRulesResponse reply;
  grpc::Status s = stub->List(&ctx, v1::ListRulesRequest(), &reply);
  if (!s.ok()) return c.Fail("rules list", s);
  Print(c.json ? ctl::ToJson(reply) + "\n" : ctl::RulesTable(reply));
  return kOk;
}

int RulesGet(const Client& c, const std::string& id) {
  auto stub = v1::Rules::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::GetRuleRequest req;
  req.set_id(id);
  v1::Rule reply;
  grpc::Status s = stub->Get(&ctx, req, &reply);
  if (!s.ok()) return c.Fail("rules get " + id, s);
  Print(c.json ? ctl::ToJson(reply) + "\n" : ctl::RuleText(reply));
  return kOk;
}

int RulesValidate(const Client& c, const std::string& file) {
  std::string yaml, error;
  if (!ReadFile(file, &yaml, &error)) {
    Error("rules validate: " + error);
    return kUsage;
  }
  auto stub = v1::Rules::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::ValidateRulesRequest req;
  req.set_yaml(yaml);
  req.set_name(file);
  v1::ValidateRulesResponse reply;
  grpc::Status s = stub->Validate(&ctx, req, &reply);
  if (!s.ok()) return c.Fail("rules validate", s);
  if (c.json) {
    Print(ctl::ToJson(reply) + "\n");
    return reply.valid() ? kOk : kFailed;
  }
  if (!reply.valid()) {
    for (const v1::Diagnostic& d : reply.errors()) {
      std::string text = d.text();
      if (text.empty()) {
        text = d.position().file() + ":" + std::to_string(d.position().line()) + ":" +
               std::to_string(d.position().column()) + ": " + d.message();
      }
      std::printf("%s\n", text.c_str());
    }
    std::fprintf(stderr, "%d error%s in %s\n", reply.errors_size(),
                 reply.errors_size() == 1 ? "" : "s", file.c_str());
    return kFailed;
  }
  std::string ids;
  for (const std::string& id : reply.rule_ids())
    ids += (ids.empty() ? "" : ", ") + id;
  std::printf("ok: %d rule%s in %s%s\n", reply.rule_ids_size(),
              reply.rule_ids_size() == 1 ? "" : "s", file.c_str(),
              ids.empty() ? "" : (" (" + ids + ")").c_str());
  return kOk;
}

int RulesApply(const Client& c, const std::string& file, const std::string& name) {
  std::string yaml, error;
  if (!ReadFile(file, &yaml, &error)) {
    Error("rules apply: " + error);
    return kUsage;
  }
  auto stub = v1::Rules::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::ApplyRulesRequest req;
  req.set_yaml(yaml);
  req.set_name(name.empty() ? file : name);
  v1::ApplyRulesResponse reply;
  grpc::Status s = stub->Apply(&ctx, req, &reply);
  if (!s.ok()) return c.Fail("rules apply " + file, s);
  Print(c.json ? ctl::ToJson(reply) + "\n" : ctl::ApplyText(reply));
  return kOk;
}

int RulesChange(const Client& c, const std::string& verb, const std::string& id) {
  auto stub = v1::Rules::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  grpc::Status s;
  std::string json, text;
  if (verb == "delete") {
    v1::DeleteRuleRequest req;
    req.set_id(id);
    v1::DeleteRuleResponse reply;
    s = stub->Delete(&ctx, req, &reply);
    json = "{\"id\":" + ctl::JsonString(id) + ",\"deleted\":true}";
    text = "deleted rule " + id;
  } else {
    v1::SetRuleEnabledRequest req;
    req.set_id(id);
    req.set_enabled(verb == "enable");
    v1::SetRuleEnabledResponse reply;
    s = verb == "enable" ? stub->Enable(&ctx, req, &reply) : stub->Disable(&ctx, req, &reply);
    json = "{\"id\":" + ctl::JsonString(id) +
           ",\"enabled\":" + (verb == "enable" ? "true" : "false") + "}";
    text = (verb == "enable" ? "enabled rule " : "disabled rule ") + id;
  }
  if (!s.ok()) return c.Fail("rules " + verb + " " + id, s);
  Print((c.json ? json : text) + "\n");
  return kOk;
}

int AlertsTail(const Client& c, const v1::AlertFilter& filter, uint32_t backlog) {
  auto stub = v1::Alerts::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx, /*deadline=*/false);
  v1::TailAlertsRequest req;
  *req.mutable_filter() = filter;
  req.set_backlog(backlog);
  std::unique_ptr<grpc::ClientReader<v1::Alert>> reader = stub->Tail(&ctx, req);
  v1::Alert alert;
  while (reader->Read(&alert)) {
    std::string line = c.json ? ctl::AlertJson(alert) : ctl::AlertLine(alert);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);  // a tail is read as it comes
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return c.Fail("alerts tail", s);
  auto dropped = ctx.GetServerTrailingMetadata().find(kDroppedKey);
  if (dropped != ctx.GetServerTrailingMetadata().end() && dropped->second != "0") {
    Error("alerts tail: " + std::string(dropped->second.data(), dropped->second.size()) +
          " alerts were dropped because this client read too slowly");
  }
  if (!c.json) Error("alerts tail: the server ended the stream (it is shutting down)");
  return kOk;
}

int AlertsRecent(const Client& c, const v1::AlertFilter& filter, uint32_t limit) {
  auto stub = v1::Alerts::NewStub(c.channel);
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::RecentAlertsRequest req;
  *req.mutable_filter() = filter;
  req.set_limit(limit);
  v1::RecentAlertsResponse reply;
  grpc::Status s = stub->Recent(&ctx, req, &reply);
  if (!s.ok()) return c.Fail("alerts recent", s);
  std::vector<v1::Alert> alerts(reply.alerts().begin(), reply.alerts().end());
  if (c.json) {
    std::string out = "[";
    for (size_t i = 0; i < alerts.size(); ++i)
      out += (i ? "," : "") + ctl::AlertJson(alerts[i]);
    Print(out + "]\n");
  } else {
    Print(ctl::AlertTable(alerts));
  }
  return kOk;
}

// The options each command takes beyond the connection ones.
const std::map<std::string, std::set<std::string>>& CommandOptions() {
  static const std::map<std::string, std::set<std::string>> m = {
      {"rules apply", {"name"}},
      {"alerts tail", {"rule", "min-severity", "backlog"}},
      {"alerts recent", {"rule", "min-severity", "limit"}},
  };
  return m;
}

int RunCtl(int argc, char** argv) {
  ParsedArgs args;
  std::string error;
  if (!ParseArgs(Spec(), argc, argv, 2, &args, &error)) {
    Error(error);
    return kUsage;
  }
  if (args.help) {
    std::fputs(FormatHelp(Spec()).c_str(), stdout);
    return kOk;
  }
  const std::vector<std::string>& pos = args.positional;
  if (pos.empty()) {
    Error("no command given (see vigil ctl --help)");
    return kUsage;
  }
  // "rules list", "status": the command words, and what is left is its argument.
  std::string command = pos[0];
  size_t words = 1;
  if ((pos[0] == "rules" || pos[0] == "alerts") && pos.size() >= 2) {
    command += " " + pos[1];
    words = 2;
  }
  static const std::map<std::string, size_t> kArity = {
      {"status", 0},       {"health", 0},         {"checkpoint", 0},  {"rules list", 0},
      {"rules get", 1},    {"rules validate", 1}, {"rules apply", 1}, {"rules delete", 1},
      {"rules enable", 1}, {"rules disable", 1},  {"alerts tail", 0}, {"alerts recent", 0},
  };
  auto arity = kArity.find(command);
  if (arity == kArity.end() && words == 1 && (command == "rules" || command == "alerts")) {
    Error(command + ": needs a subcommand (" +
          (command == "rules" ? "list, get, validate, apply, delete, enable or disable"
                              : "tail or recent") +
          ")");
    return kUsage;
  }
  if (arity == kArity.end()) {
    Error("unknown command '" + command + "' (see vigil ctl --help)");
    return kUsage;
  }
  if (pos.size() - words != arity->second) {
    Error(command + ": " +
          (arity->second == 0 ? std::string("takes no arguments")
                              : "needs one argument (" +
                                    std::string(command.find("validate") != std::string::npos ||
                                                        command.find("apply") != std::string::npos
                                                    ? "FILE"
                                                    : "ID") +
                                    ")") +
          " (see vigil ctl --help)");
    return kUsage;
  }
  static const std::set<std::string> kConnection = {
      "address",  "server",  "token-env",       "token-file", "tls-ca",
      "tls-cert", "tls-key", "tls-server-name", "timeout",    "json"};
  auto allowed = CommandOptions().find(command);
  for (const auto& [name, values] : args.values) {
    if (kConnection.count(name)) continue;
    if (allowed == CommandOptions().end() || !allowed->second.count(name)) {
      Error("option '--" + name + "' does not apply to '" + command + "' (see vigil ctl --help)");
      return kUsage;
    }
  }

  Client c;
  c.json = args.has("json");
  if (args.has("address") && args.has("server")) {
    Error("give --address or --server, not both");
    return kUsage;
  }
  c.address = args.get("address", args.get("server", "127.0.0.1:7070"));
  if (args.has("timeout")) {
    uint32_t t = 0;
    if (!ParseCount(args.get("timeout"), &t) || t == 0) {
      Error("--timeout: expected a whole number of seconds, got '" + args.get("timeout") + "'");
      return kUsage;
    }
    c.timeout_seconds = static_cast<int>(t);
  }
  if (args.has("token-env") && args.has("token-file")) {
    Error("give --token-env or --token-file, not both");
    return kUsage;
  }
  if (args.has("token-env")) {
    const char* v = std::getenv(args.get("token-env").c_str());
    if (!v || !*v) {
      Error("--token-env " + args.get("token-env") + ": the variable is not set or empty");
      return kUsage;
    }
    c.token = v;
  } else if (args.has("token-file")) {
    if (!ReadFile(args.get("token-file"), &c.token, &error)) {
      Error("--token-file: " + error);
      return kUsage;
    }
    while (!c.token.empty() && std::isspace(static_cast<unsigned char>(c.token.back()))) {
      c.token.pop_back();
    }
    if (c.token.empty()) {
      Error("--token-file " + args.get("token-file") + ": the file is empty");
      return kUsage;
    }
  }

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (args.has("tls-ca") || args.has("tls-cert") || args.has("tls-key")) {
    if (args.has("tls-cert") != args.has("tls-key")) {
      Error("--tls-cert and --tls-key go together");
      return kUsage;
    }
    grpc::SslCredentialsOptions ssl;
    struct {
      const char* option;
      std::string* into;
    } files[] = {{"tls-ca", &ssl.pem_root_certs},
                 {"tls-cert", &ssl.pem_cert_chain},
                 {"tls-key", &ssl.pem_private_key}};
    for (auto& f : files) {
      if (args.has(f.option) && !ReadFile(args.get(f.option), f.into, &error)) {
        Error(std::string("--") + f.option + ": " + error);
        return kUsage;
      }
    }
    creds = grpc::SslCredentials(ssl);
    c.tls = true;
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments channel_args;
  if (args.has("tls-server-name"))
    channel_args.SetSslTargetNameOverride(args.get("tls-server-name"));
  c.channel = grpc::CreateCustomChannel(c.address, creds, channel_args);

  std::string arg = pos.size() > words ? pos[words] : "";
  if (command == "status") return StatusCommand(c);
  if (command == "health") return Health(c);
  if (command == "checkpoint") return Checkpoint(c);
  if (command == "rules list") return RulesList(c);
  if (command == "rules get") return RulesGet(c, arg);
  if (command == "rules validate") return RulesValidate(c, arg);
  if (command == "rules apply") return RulesApply(c, arg, args.get("name"));
  if (command == "rules delete" || command == "rules enable" || command == "rules disable") {
    return RulesChange(c, pos[1], arg);
  }
  v1::AlertFilter filter;
  for (const std::string& r : args.all("rule"))
    filter.add_rule_ids(r);
  if (args.has("min-severity")) {
    static const std::set<std::string> kSeverities = {"info", "low", "medium", "high", "critical"};
    if (!kSeverities.count(args.get("min-severity"))) {
      Error("--min-severity: expected info, low, medium, high or critical, got '" +
            args.get("min-severity") + "'");
      return kUsage;
    }
    filter.set_min_severity(args.get("min-severity"));
  }
  uint32_t n = 0;
  if (command == "alerts tail") {
    if (args.has("backlog") && !ParseCount(args.get("backlog"), &n)) {
      Error("--backlog: expected a count, got '" + args.get("backlog") + "'");
      return kUsage;
    }
    return AlertsTail(c, filter, n);
  }
  n = 100;
  if (args.has("limit") && (!ParseCount(args.get("limit"), &n) || n == 0)) {
    Error("--limit: expected a positive count, got '" + args.get("limit") + "'");
    return kUsage;
  }
  return AlertsRecent(c, filter, n);
}

}  // namespace

int CtlCommand(int argc, char** argv) {
  // gRPC finishes shutting down on a thread of its own once its last object is gone; a
  // process that exits meanwhile leaves TLS state behind (LeakSanitizer reports it). Hold a
  // reference for the whole command and drop it waiting.
  grpc_init();
  int rc = RunCtl(argc, argv);
  grpc_shutdown_blocking();
  return rc;
}

}  // namespace vigil::edge
