#include "vigil/edge/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "vigil/edge/admin_server.h"

namespace vigil::edge {

namespace {

using cep::ConfigNode;
using cep::Member;
using cep::Option;
using cep::OptionType;
using cep::OptionValue;

// YAML → ConfigNode, keeping positions (yaml-cpp marks are 0-based).
ConfigNode FromYaml(const YAML::Node& n) {
  int line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
  int col = n.Mark().column >= 0 ? n.Mark().column + 1 : 0;
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return ConfigNode::Scalar(n.Scalar(), line, col);
    case YAML::NodeType::Sequence: {
      ConfigNode list = ConfigNode::List(line, col);
      for (const YAML::Node& item : n) list.Append(FromYaml(item));
      return list;
    }
    case YAML::NodeType::Map: {
      ConfigNode map = ConfigNode::Map(line, col);
      for (auto it = n.begin(); it != n.end(); ++it) {
        map.Set(it->first.Scalar(), FromYaml(it->second));
      }
      return map;
    }
    default: {
      ConfigNode null;
      return null;
    }
  }
}

// Setters that keep a sub-tree for a nested table.
template <typename S>
std::function<std::string(S&, const OptionValue&)> Keep(const ConfigNode* S::*member) {
  return [member](S& s, const OptionValue& v) -> std::string {
    s.*member = v.node;
    return {};
  };
}

// ---- the tables ----

struct Root {
  const ConfigNode* node = nullptr;
  const ConfigNode* state = nullptr;
  const ConfigNode* streams = nullptr;
  std::vector<std::string> rules = {"rulesets/"};
  const ConfigNode* sinks = nullptr;
  const ConfigNode* delivery = nullptr;
  const ConfigNode* api = nullptr;
  const ConfigNode* shutdown = nullptr;
};

const std::vector<Option<Root>>& RootTable() {
  static const std::vector<Option<Root>> t = {
      {"node", OptionType::kNode, "", false, "This instance: `id` names it in alerts and metrics.", {}, Keep(&Root::node)},
      {"state", OptionType::kNode, "", false, "Durable state (RocksDB): see `state`.", {}, Keep(&Root::state)},
      {"streams", OptionType::kNode, "", false, "Input streams by name: see `streams.<name>`.", {}, Keep(&Root::streams)},
      {"rules", OptionType::kStringList, "rulesets/", false, "Rule files or folders.", {}, Member(&Root::rules)},
      {"sinks", OptionType::kNode, "", false, "Alert destinations by name (docs/sinks.md).", {}, Keep(&Root::sinks)},
      {"delivery", OptionType::kNode, "", false, "Retry and outbox settings: see `delivery`.", {}, Keep(&Root::delivery)},
      {"api", OptionType::kNode, "", false, "Admin API (gRPC) and HTTP endpoints: see `api`.", {}, Keep(&Root::api)},
      {"shutdown", OptionType::kNode, "", false, "Graceful stop: see `shutdown`.", {}, Keep(&Root::shutdown)},
  };
  return t;
}

struct NodeSection {
  std::string id;
};
const std::vector<Option<NodeSection>>& NodeTable() {
  static const std::vector<Option<NodeSection>> t = {
      {"id", OptionType::kString, "", false, "Instance name (default: the host name).", {}, Member(&NodeSection::id)},
  };
  return t;
}

const std::vector<Option<StateConfig>>& StateTable() {
  static const std::vector<Option<StateConfig>> t = {
      {"dir", OptionType::kString, "./vigil-state", false, "RocksDB directory.", {}, Member(&StateConfig::dir)},
      {"checkpoint_interval", OptionType::kDuration, "5s", false, "Time between checkpoints.", {},
       [](StateConfig& s, const OptionValue& v) -> std::string {
         if (v.duration <= 0) return "must be positive";
         s.checkpoint_interval = v.duration;
         return {};
       }},
      {"durability", OptionType::kEnum, "sync", false,
       "How events of sources that cannot replay are made durable before they are acknowledged: "
       "`sync` (fsync'd group commit), `buffered` (written, not fsync'd), `none`.",
       {"sync", "buffered", "none"}, Member(&StateConfig::durability)},
      {"max_memory", OptionType::kBytes, "256MB", false, "Hot keyed state above this is evicted to RocksDB.", {},
       Member(&StateConfig::max_memory)},
  };
  return t;
}

struct StreamSection {
  const ConfigNode* source = nullptr;
  std::string format;
  std::string timezone;
  int64_t year = 0;
  const ConfigNode* extract = nullptr;
  const ConfigNode* timestamp = nullptr;
  const ConfigNode* watermark = nullptr;
  std::string late;
};
const std::vector<Option<StreamSection>>& StreamTable() {
  static const std::vector<Option<StreamSection>> t = {
      {"source", OptionType::kNode, "", true, "Where events come from: `type` (kafka, mqtt, grpc, file, stdin) and its options.", {},
       Keep(&StreamSection::source)},
      {"format", OptionType::kEnum, "json", false, "Decoder.", {"json", "syslog", "raw"}, Member(&StreamSection::format)},
      {"timezone", OptionType::kString, "UTC", false, "syslog: zone of RFC 3164 timestamps (UTC or a fixed offset such as +02:00).", {},
       Member(&StreamSection::timezone)},
      {"year", OptionType::kInt, "0", false, "syslog: fixed year of RFC 3164 timestamps (0: the current year rule).", {},
       Member(&StreamSection::year)},
      {"extract", OptionType::kNode, "", false, "Named-capture regexes on a field that add fields: a list of {field, pattern, types}.", {},
       Keep(&StreamSection::extract)},
      {"timestamp", OptionType::kNode, "", false, "Where the event time is: {field, format}.", {}, Keep(&StreamSection::timestamp)},
      {"watermark", OptionType::kNode, "", false, "{max_delay, idle}.", {}, Keep(&StreamSection::watermark)},
      {"late", OptionType::kString, "drop", false, "Events older than the watermark: `drop` or `sink:<name>`.", {},
       Member(&StreamSection::late)},
  };
  return t;
}

struct ExtractSection {
  std::string field, pattern;
  const ConfigNode* types = nullptr;
};
const std::vector<Option<ExtractSection>>& ExtractTable() {
  static const std::vector<Option<ExtractSection>> t = {
      {"field", OptionType::kString, "", true, "The decoded field searched.", {}, Member(&ExtractSection::field)},
      {"pattern", OptionType::kString, "", true, "PCRE2 regex; named groups (?P<name>...) become fields.", {},
       Member(&ExtractSection::pattern)},
      {"types", OptionType::kNode, "", false, "Group name → int, float or bool (default: string).", {}, Keep(&ExtractSection::types)},
  };
  return t;
}

struct TimestampSection {
  std::string field, format;
};
const std::vector<Option<TimestampSection>>& TimestampTable() {
  static const std::vector<Option<TimestampSection>> t = {
      {"field", OptionType::kString, "", false, "The time field (default: the first of @timestamp, timestamp, ts).", {},
       Member(&TimestampSection::field)},
      {"format", OptionType::kEnum, "auto", false, "How it is written.", {"auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_ns"},
       Member(&TimestampSection::format)},
  };
  return t;
}

const std::vector<Option<StreamConfig>>& WatermarkTable() {
  static const std::vector<Option<StreamConfig>> t = {
      {"max_delay", OptionType::kDuration, "0s", false, "Bounded out-of-orderness: the watermark trails the newest event by this.", {},
       Member(&StreamConfig::max_delay)},
      {"idle", OptionType::kDuration, "0s", false, "A source partition silent this long stops holding the watermark back (0: never).", {},
       Member(&StreamConfig::idle)},
  };
  return t;
}

struct ApiSection {
  const ConfigNode* grpc = nullptr;
  const ConfigNode* http = nullptr;
};
const std::vector<Option<ApiSection>>& ApiTable() {
  static const std::vector<Option<ApiSection>> t = {
      {"grpc", OptionType::kNode, "", false, "{listen, token_env/token_file, tls}.", {}, Keep(&ApiSection::grpc)},
      {"http", OptionType::kNode, "", false, "{listen}: GET /metrics, /healthz, /readyz.", {}, Keep(&ApiSection::http)},
  };
  return t;
}

struct GrpcSection {
  std::string listen, token;
  const ConfigNode* tls = nullptr;
};
const std::vector<Option<GrpcSection>>& GrpcTable() {
  static const std::vector<Option<GrpcSection>> t = {
      {"listen", OptionType::kString, "127.0.0.1:7070", false, "Address of the admin gRPC API.", {}, Member(&GrpcSection::listen)},
      {"token", OptionType::kSecret, "", false, "Bearer token; required when listening beyond loopback.", {},
       Member(&GrpcSection::token)},
      {"tls", OptionType::kNode, "", false, "{cert_file, key_file, client_ca_file}.", {}, Keep(&GrpcSection::tls)},
  };
  return t;
}

struct HttpSection {
  std::string listen;
};
const std::vector<Option<HttpSection>>& HttpTable() {
  static const std::vector<Option<HttpSection>> t = {
      {"listen", OptionType::kString, "127.0.0.1:9090", false, "Address of /metrics, /healthz, /readyz.", {}, Member(&HttpSection::listen)},
  };
  return t;
}

const std::vector<Option<AppConfig>>& ShutdownTable() {
  static const std::vector<Option<AppConfig>> t = {
      {"timeout", OptionType::kDuration, "10s", false,
       "On SIGTERM/SIGINT, or when every source has ended: how long to wait for the sinks to deliver "
       "what the outbox holds before exiting (what is left stays in the outbox for the next start).",
       {},
       [](AppConfig& c, const OptionValue& v) -> std::string {
         if (v.duration < 0) return "must not be negative";
         c.shutdown_timeout = v.duration;
         return {};
       }},
  };
  return t;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0) return "vigil";
  return buf;
}

class Checker {
 public:
  Checker(std::string file, const cep::SecretSource& secrets) : file_(std::move(file)), secrets_(secrets) {}

  template <typename S>
  bool Apply(const std::vector<Option<S>>& table, const ConfigNode* node, const std::string& path, S* out) {
    static const ConfigNode kNull;
    Status st = cep::ApplyOptions(table, node ? *node : kNull, path, out, secrets_);
    if (st.ok()) return true;
    std::istringstream lines(st.message());
    std::string line;
    while (std::getline(lines, line)) Add(line);
    return false;
  }

  // An error at `node` (for position) about `path`.
  void Error(const ConfigNode* node, const std::string& path, const std::string& msg) {
    std::string where;
    if (node && node->line() > 0) {
      where = std::to_string(node->line()) + ":" + std::to_string(node->column() > 0 ? node->column() : 1) + ": ";
    }
    Add(where + path + ": " + msg);
  }

  bool ok() const { return errors_.empty(); }
  Status status() const {
    std::string all;
    for (const std::string& e : errors_) all += (all.empty() ? "" : "\n") + e;
    return Status::InvalidArgument(all);
  }

 private:
  void Add(const std::string& line) {
    // "L:C: rest" → "file:L:C: rest"; "rest" → "file: rest".
    errors_.push_back(file_ + ":" + (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0])) ? " " : "") + line);
  }
  std::string file_;
  const cep::SecretSource& secrets_;
  std::vector<std::string> errors_;
};

void LoadStream(Checker& c, const std::string& name, const ConfigNode& node, AppConfig* cfg) {
  const std::string path = "streams." + name;
  StreamConfig s;
  s.name = name;
  StreamSection sec;
  c.Apply(StreamTable(), &node, path, &sec);
  s.format = sec.format;
  s.timezone = sec.timezone;
  s.year = sec.year;
  s.late = sec.late;
  // source: only `type` is checked here; the source type checks the rest.
  if (sec.source) {
    if (!sec.source->is_map()) {
      c.Error(sec.source, path + ".source", "expected a map with a `type`");
    } else {
      const ConfigNode* type = sec.source->Find("type");
      const auto& types = SourceTypes();
      if (type == nullptr || !type->is_scalar()) {
        c.Error(sec.source, path + ".source.type", "required (one of kafka, mqtt, grpc, file, stdin)");
      } else if (std::find(types.begin(), types.end(), type->text()) == types.end()) {
        std::string hint = cep::DidYouMean(type->text(), types);
        c.Error(type, path + ".source.type",
                "unknown source type '" + type->text() + "' (kafka, mqtt, grpc, file or stdin)" +
                    (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      } else {
        s.source_type = type->text();
        s.source = *sec.source;
      }
    }
  }
  if (sec.timestamp) {
    TimestampSection ts;
    if (c.Apply(TimestampTable(), sec.timestamp, path + ".timestamp", &ts)) {
      if (!ts.field.empty()) s.timestamp.fields = {ts.field};
      ingest::ParseTimeFormat(ts.format, &s.timestamp.format);
    }
  }
  if (sec.watermark) c.Apply(WatermarkTable(), sec.watermark, path + ".watermark", &s);
  if (sec.extract) {
    if (!sec.extract->is_list()) {
      c.Error(sec.extract, path + ".extract", "expected a list of {field, pattern, types}");
    } else {
      for (size_t i = 0; i < sec.extract->items().size(); ++i) {
        const ConfigNode& item = sec.extract->items()[i];
        const std::string ipath = path + ".extract[" + std::to_string(i) + "]";
        ExtractSection es;
        if (!c.Apply(ExtractTable(), &item, ipath, &es)) continue;
        ingest::ExtractSpec spec{es.field, es.pattern, {}};
        if (es.types) {
          if (!es.types->is_map()) {
            c.Error(es.types, ipath + ".types", "expected a map of group name to int, float or bool");
          } else {
            for (const auto& [group, type] : es.types->fields()) {
              if (!type.is_scalar() || (type.text() != "int" && type.text() != "float" && type.text() != "bool")) {
                c.Error(&type, ipath + ".types." + group, "must be int, float or bool");
                continue;
              }
              spec.types[group] = type.text();
            }
          }
        }
        s.extract.push_back(std::move(spec));
      }
    }
  }
  if (s.late != "drop" && s.late.rfind("sink:", 0) != 0) {
    c.Error(node.Find("late"), path + ".late", "expected drop or sink:<name>, got '" + s.late + "'");
  }
  cfg->streams.push_back(std::move(s));
}

Result<AppConfig> Check(const ConfigNode& root, const std::string& file, const cep::SecretSource& secrets) {
  Checker c(file, secrets);
  AppConfig cfg;
  cfg.file = file;
  Root r;
  c.Apply(RootTable(), &root, "", &r);  // valid keys are filled in even when others are not
  cfg.rules = r.rules;

  NodeSection ns;
  c.Apply(NodeTable(), r.node, "node", &ns);
  cfg.node_id = ns.id.empty() ? Hostname() : ns.id;
  c.Apply(StateTable(), r.state, "state", &cfg.state);

  if (r.streams == nullptr || (r.streams->is_map() && r.streams->fields().empty())) {
    c.Error(&root, "streams", "at least one stream is required");
  } else if (!r.streams->is_map()) {
    c.Error(r.streams, "streams", "expected a map of stream name to stream");
  } else {
    for (const auto& [name, node] : r.streams->fields()) LoadStream(c, name, node, &cfg);
  }

  if (r.sinks) {
    if (!r.sinks->is_map()) {
      c.Error(r.sinks, "sinks", "expected a map of sink name to sink");
    } else {
      for (const auto& [name, node] : r.sinks->fields()) {
        if (!node.is_map() || node.Find("type") == nullptr) {
          c.Error(&node, "sinks." + name + ".type", "required");
          continue;
        }
        cfg.sinks.emplace_back(name, node);
      }
    }
  }

  if (r.delivery) {
    c.Apply(alerting::DeliveryOptions(), r.delivery, "delivery", &cfg.delivery);
    cfg.delivery_node = *r.delivery;
  }

  if (r.api) {
    ApiSection as;
    if (c.Apply(ApiTable(), r.api, "api", &as)) {
      GrpcSection gs;
      if (c.Apply(GrpcTable(), as.grpc, "api.grpc", &gs)) {
        cfg.api.grpc_listen = gs.listen;
        cfg.api.grpc_token = gs.token;
        if (gs.tls) cfg.api.grpc_tls = *gs.tls;
      }
      HttpSection hs;
      if (c.Apply(HttpTable(), as.http, "api.http", &hs)) cfg.api.http_listen = hs.listen;
    }
  }

  if (r.shutdown) c.Apply(ShutdownTable(), r.shutdown, "shutdown", &cfg);

  // Cross references.
  for (const StreamConfig& s : cfg.streams) {
    if (s.late.rfind("sink:", 0) != 0) continue;
    std::string sink = s.late.substr(5);
    bool found = false;
    for (const auto& [name, node] : cfg.sinks) found |= name == sink;
    if (!found) {
      const ConfigNode* stream = r.streams->Find(s.name);
      c.Error(stream ? stream->Find("late") : nullptr, "streams." + s.name + ".late",
              "names sink '" + sink + "', which is not defined under sinks");
    }
  }
  if (!c.ok()) return c.status();
  return cfg;
}

}  // namespace

const StreamConfig* AppConfig::FindStream(const std::string& name) const {
  for (const StreamConfig& s : streams) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const std::vector<std::string>& SourceTypes() {
  static const std::vector<std::string> types = {"kafka", "mqtt", "grpc", "file", "stdin"};
  return types;
}

Result<AppConfig> LoadConfigString(const std::string& yaml, const std::string& name,
                                   const cep::SecretSource& secrets) {
  YAML::Node doc;
  try {
    doc = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!doc.IsMap()) {
    return Status::InvalidArgument(name + ": the configuration must be a map (node, state, streams, rules, sinks, delivery, api)");
  }
  return Check(FromYaml(doc), name, secrets);
}

Result<AppConfig> LoadConfigFile(const std::string& path, const cep::SecretSource& secrets) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadConfigString(ss.str(), path, secrets);
}

AppConfig DefaultConfig() {
  AppConfig cfg;
  cfg.file = "<embedded default>";
  cfg.node_id = Hostname();
  StreamConfig s;
  s.name = "default";
  s.source_type = "stdin";
  s.source = ConfigNode::Map();
  s.source.Set("type", ConfigNode::Scalar("stdin"));
  cfg.streams.push_back(std::move(s));
  ConfigNode console = ConfigNode::Map();
  console.Set("type", ConfigNode::Scalar("stdout"));
  console.Set("default", ConfigNode::Scalar("true"));
  cfg.sinks.emplace_back("console", std::move(console));
  return cfg;
}

std::string ConfigReferenceMarkdown() {
  std::string md;
  auto section = [&](const std::string& title, const std::string& table) {
    md += "### `" + title + "`\n\n" + table + "\n";
  };
  section("(top level)", cep::OptionsMarkdown(RootTable()));
  section("node", cep::OptionsMarkdown(NodeTable()));
  section("state", cep::OptionsMarkdown(StateTable()));
  section("streams.<name>", cep::OptionsMarkdown(StreamTable()));
  section("streams.<name>.extract[]", cep::OptionsMarkdown(ExtractTable()));
  section("streams.<name>.timestamp", cep::OptionsMarkdown(TimestampTable()));
  section("streams.<name>.watermark", cep::OptionsMarkdown(WatermarkTable()));
  section("delivery", cep::OptionsMarkdown(alerting::DeliveryOptions()));
  section("api", cep::OptionsMarkdown(ApiTable()));
  section("api.grpc", cep::OptionsMarkdown(GrpcTable()));
  section("api.grpc.tls", AdminTlsOptionsMarkdown());
  section("api.http", cep::OptionsMarkdown(HttpTable()));
  section("shutdown", cep::OptionsMarkdown(ShutdownTable()));
  md += cep::kBytesUnitsMarkdown;
  md += "\n";
  return md;
}

}  // namespace vigil::edge
