// Declared options: one table validates a configuration, fills the settings and renders docs.
#include "vigil/cep/options.h"

#include <map>

#include <catch2/catch.hpp>

using vigil::cep::ConfigNode;
using vigil::cep::Member;
using vigil::cep::Option;
using vigil::cep::OptionType;
using vigil::cep::SecretSource;

namespace {

struct Settings {
  std::string url;
  int64_t retries = 0;
  bool verify = false;
  vigil::cep::Duration timeout = 0;
  uint64_t max_bytes = 0;
  std::string mode;
  std::vector<std::string> topics;
  std::string token;
  int port = 0;
};

const std::vector<Option<Settings>>& Table() {
  static const std::vector<Option<Settings>> table = {
      {"url", OptionType::kString, "", true, "Where to send.", {}, Member(&Settings::url)},
      {"retries", OptionType::kInt, "3", false, "Attempts.", {}, Member(&Settings::retries)},
      {"verify", OptionType::kBool, "true", false, "Check TLS.", {}, Member(&Settings::verify)},
      {"timeout", OptionType::kDuration, "5s", false, "Per request.", {}, Member(&Settings::timeout)},
      {"max", OptionType::kBytes, "1MB", false, "Bound.", {}, Member(&Settings::max_bytes)},
      {"mode", OptionType::kEnum, "json", false, "Body.", {"json", "cef"}, Member(&Settings::mode)},
      {"topics", OptionType::kStringList, "", false, "Topics.", {}, Member(&Settings::topics)},
      {"token", OptionType::kSecret, "", false, "Bearer token.", {}, Member(&Settings::token)},
      {"port", OptionType::kInt, "", false, "Port.", {},
       [](Settings& s, const vigil::cep::OptionValue& v) -> std::string {
         if (v.integer < 1 || v.integer > 65535) return "must be between 1 and 65535";
         s.port = static_cast<int>(v.integer);
         return {};
       }},
  };
  return table;
}

SecretSource FakeSecrets(std::map<std::string, std::string> env, std::map<std::string, std::string> files) {
  return SecretSource{
      [env](const std::string& name, std::string* value) {
        auto it = env.find(name);
        if (it == env.end()) return false;
        *value = it->second;
        return true;
      },
      [files](const std::string& path, std::string* contents) {
        auto it = files.find(path);
        if (it == files.end()) return vigil::Status::NotFound("cannot read '" + path + "'");
        *contents = it->second;
        return vigil::Status::Ok();
      }};
}

ConfigNode Map(std::vector<std::pair<std::string, ConfigNode>> fields) {
  ConfigNode m = ConfigNode::Map();
  for (auto& [k, v] : fields) m.Set(k, std::move(v));
  return m;
}

ConfigNode S(const std::string& text) { return ConfigNode::Scalar(text); }

}  // namespace

TEST_CASE("options: values are typed, defaults apply, setters validate", "[options]") {
  ConfigNode list = ConfigNode::List();
  list.Append(S("a/#"));
  list.Append(S("b/+"));
  ConfigNode cfg = Map({{"url", S("http://127.0.0.1:1/x")}, {"timeout", S("250ms")},
                        {"max", S("2MiB")}, {"mode", S("cef")}, {"topics", list},
                        {"token_env", S("TOKEN")}, {"port", S("8080")}, {"verify", S("false")}});
  Settings s;
  auto st = vigil::cep::ApplyOptions(Table(), cfg, "sinks.soc", &s, FakeSecrets({{"TOKEN", "t0k"}}, {}));
  REQUIRE(st.ok());
  CHECK(s.url == "http://127.0.0.1:1/x");
  CHECK(s.retries == 3);  // default
  CHECK(s.verify == false);
  CHECK(s.timeout == 250 * vigil::cep::kMillisecond);
  CHECK(s.max_bytes == 2 * 1024 * 1024);
  CHECK(s.mode == "cef");
  CHECK(s.topics == std::vector<std::string>{"a/#", "b/+"});
  CHECK(s.token == "t0k");
  CHECK(s.port == 8080);
}

TEST_CASE("options: a single string is a list of one, secrets come from files", "[options]") {
  ConfigNode cfg = Map({{"url", S("u")}, {"topics", S("only")}, {"token_file", S("/run/secret")}});
  Settings s;
  auto st = vigil::cep::ApplyOptions(Table(), cfg, "x", &s, FakeSecrets({}, {{"/run/secret", "s3cret\n"}}));
  REQUIRE(st.ok());
  CHECK(s.topics == std::vector<std::string>{"only"});
  CHECK(s.token == "s3cret");  // the trailing newline of the file is not part of it
}

TEST_CASE("options: every error is reported with its key path", "[options]") {
  ConfigNode cfg = Map({{"urll", S("u")}, {"retries", S("many")}, {"timeout", S("5 minutes")},
                        {"mode", S("jsn")}, {"token", S("inline!")}, {"port", S("70000")},
                        {"max", S("lots")}, {"verify", S("maybe")}, {"topics", ConfigNode::Map()}});
  Settings s;
  auto st = vigil::cep::ApplyOptions(Table(), cfg, "sinks.soc", &s, FakeSecrets({}, {}));
  REQUIRE_FALSE(st.ok());
  const std::string expected =
      "sinks.soc.urll: unknown option; did you mean 'url'?\n"
      "sinks.soc.token: secrets are not written in the file: use token_env (an environment "
      "variable) or token_file (a file holding it)\n"
      "sinks.soc.url: required\n"
      "sinks.soc.retries: expected an integer, got 'many'\n"
      "sinks.soc.verify: expected true or false, got 'maybe'\n"
      "sinks.soc.timeout: expected a duration such as 250ms, 5s or 1h30m, got '5 minutes'\n"
      "sinks.soc.max: expected a size such as 4096, 64KB, 256MB or 1GiB, got 'lots'\n"
      "sinks.soc.mode: expected one of json | cef, got 'jsn'; did you mean 'json'?\n"
      "sinks.soc.topics: expected a list of strings, got a map\n"
      "sinks.soc.port: must be between 1 and 65535";
  CHECK(st.message() == expected);
}

TEST_CASE("options: secrets that cannot be read are errors naming the source", "[options]") {
  Settings s;
  auto env = vigil::cep::ApplyOptions(Table(), Map({{"url", S("u")}, {"token_env", S("NOPE")}}),
                                      "api", &s, FakeSecrets({}, {}));
  REQUIRE_FALSE(env.ok());
  CHECK(env.message() == "api.token_env: environment variable NOPE is not set");
  auto file = vigil::cep::ApplyOptions(Table(), Map({{"url", S("u")}, {"token_file", S("/x")}}),
                                       "api", &s, FakeSecrets({}, {}));
  REQUIRE_FALSE(file.ok());
  CHECK(file.message() == "api.token_file: cannot read '/x'");
  auto both = vigil::cep::ApplyOptions(
      Table(), Map({{"url", S("u")}, {"token_file", S("/x")}, {"token_env", S("T")}}), "api", &s,
      FakeSecrets({{"T", "v"}}, {{"/x", "v"}}));
  REQUIRE_FALSE(both.ok());
  CHECK(both.message() == "api.token_env: give either token_env or token_file, not both");
}

TEST_CASE("options: a non-map where options belong is one clear error", "[options]") {
  Settings s;
  auto st = vigil::cep::ApplyOptions(Table(), S("oops"), "sinks.soc", &s, FakeSecrets({}, {}));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "sinks.soc: expected a map of options, got 'oops'");
}

TEST_CASE("options: the same table renders the reference docs", "[options]") {
  std::string md = vigil::cep::OptionsMarkdown(Table());
  CHECK(md.find("| `url` | string | required | Where to send. |") != std::string::npos);
  CHECK(md.find("| `timeout` | duration | `5s` | Per request. |") != std::string::npos);
  CHECK(md.find("| `mode` | json \\| cef | `json` | Body. |") != std::string::npos);
  CHECK(md.find("| `token_env / token_file` | secret |  | Bearer token. |") != std::string::npos);
}

TEST_CASE("options: sizes and integers parse strictly", "[options]") {
  uint64_t b = 0;
  CHECK(vigil::cep::ParseBytesOption("4096", &b));
  CHECK(b == 4096);
  CHECK(vigil::cep::ParseBytesOption("64KB", &b));
  CHECK(b == 64000);
  CHECK(vigil::cep::ParseBytesOption("1.5GiB", &b));
  CHECK(b == 1610612736ULL);
  CHECK(vigil::cep::ParseBytesOption("256mb", &b));
  CHECK(b == 256000000ULL);
  CHECK_FALSE(vigil::cep::ParseBytesOption("MB", &b));
  CHECK_FALSE(vigil::cep::ParseBytesOption("12XB", &b));
  int64_t i = 0;
  CHECK(vigil::cep::ParseIntOption("-12", &i));
  CHECK(i == -12);
  CHECK_FALSE(vigil::cep::ParseIntOption("12x", &i));
  CHECK_FALSE(vigil::cep::ParseIntOption("", &i));
}

namespace {

struct Tls {
  std::string ca_file, cert_file;
  bool verify = true;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string url;
};

const std::vector<Option<Tls>>& NestedTable() {
  static const std::vector<Option<Tls>> t = {
      {"url", OptionType::kString, "", true, "URL.", {}, Member(&Tls::url)},
      {"headers", OptionType::kStringMap, "", false, "Extra headers.", {}, Member(&Tls::headers)},
      {"tls.ca_file", OptionType::kString, "", false, "CA.", {}, Member(&Tls::ca_file)},
      {"tls.cert_file", OptionType::kString, "", false, "Cert.", {}, Member(&Tls::cert_file)},
      {"tls.verify", OptionType::kBool, "true", false, "Verify.", {}, Member(&Tls::verify)},
  };
  return t;
}

}  // namespace

TEST_CASE("options: dotted names are options of nested maps, string maps keep order", "[options]") {
  ConfigNode tls = Map({{"ca_file", S("/ca.pem")}, {"verify", S("false")}});
  ConfigNode headers = Map({{"X-B", S("2")}, {"X-A", S("1")}});
  ConfigNode cfg = Map({{"url", S("u")}, {"tls", tls}, {"headers", headers}, {"type", S("webhook")}});
  Tls t;
  auto st = vigil::cep::ApplyOptions(NestedTable(), cfg, "sinks.x", &t, FakeSecrets({}, {}), {"type", "default"});
  REQUIRE(st.ok());
  CHECK(t.ca_file == "/ca.pem");
  CHECK(t.verify == false);
  CHECK(t.headers == std::vector<std::pair<std::string, std::string>>{{"X-B", "2"}, {"X-A", "1"}});

  Tls d;
  REQUIRE(vigil::cep::ApplyOptions(NestedTable(), Map({{"url", S("u")}}), "s", &d, FakeSecrets({}, {})).ok());
  CHECK(d.verify == true);  // nested defaults apply without the nested map

  ConfigNode bad = Map({{"url", S("u")}, {"tls", Map({{"ca_fle", S("x")}})}, {"tpye", S("w")},
                        {"headers", Map({{"X", ConfigNode::List()}})}});
  auto err = vigil::cep::ApplyOptions(NestedTable(), bad, "sinks.x", &d, FakeSecrets({}, {}), {"type"});
  REQUIRE_FALSE(err.ok());
  CHECK(err.message() ==
        "sinks.x.tls.ca_fle: unknown option; did you mean 'ca_file'?\n"
        "sinks.x.tpye: unknown option; did you mean 'type'?\n"
        "sinks.x.headers: the value of 'X' must be a string, got a list");
  auto notmap = vigil::cep::ApplyOptions(NestedTable(), Map({{"url", S("u")}, {"tls", S("yes")}}), "sinks.x", &d,
                                         FakeSecrets({}, {}));
  REQUIRE_FALSE(notmap.ok());
  CHECK(notmap.message() == "sinks.x.tls: expected a map of options, got 'yes'");
}

TEST_CASE("options: a nested option may be written flat, as Kafka users write properties", "[options]") {
  ConfigNode flat = Map({{"url", S("u")}, {"tls.ca_file", S("/ca.pem")}, {"tls", Map({{"verify", S("false")}})}});
  Tls t;
  REQUIRE(vigil::cep::ApplyOptions(NestedTable(), flat, "sinks.x", &t, FakeSecrets({}, {})).ok());
  CHECK(t.ca_file == "/ca.pem");
  CHECK(t.verify == false);

  Tls d;
  ConfigNode typo = Map({{"url", S("u")}, {"tls.ca_fle", S("x")}});
  auto err = vigil::cep::ApplyOptions(NestedTable(), typo, "sinks.x", &d, FakeSecrets({}, {}));
  REQUIRE_FALSE(err.ok());
  CHECK(err.message() == "sinks.x.tls.ca_fle: unknown option; did you mean 'ca_file'?");

  ConfigNode twice = Map({{"url", S("u")}, {"tls", Map({{"verify", S("false")}})}, {"tls.verify", S("true")}});
  auto dup = vigil::cep::ApplyOptions(NestedTable(), twice, "sinks.x", &d, FakeSecrets({}, {}));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.message() == "sinks.x.tls.verify: given twice: as 'tls.verify' and as 'verify' under 'tls'");
}

namespace {

struct Client {
  std::string name;
  Tls tls;
};

const std::vector<Option<Tls>>& TlsPartTable() {
  static const std::vector<Option<Tls>> t = {
      {"ca_file", OptionType::kString, "", false, "CA.", {}, Member(&Tls::ca_file)},
      {"verify", OptionType::kBool, "true", false, "Verify.", {}, Member(&Tls::verify)},
  };
  return t;
}

}  // namespace

TEST_CASE("options: the table of a part is lifted into the whole, nested or not", "[options]") {
  std::vector<Option<Client>> table = vigil::cep::PartOptions(&Client::tls, TlsPartTable(), "tls.");
  table.push_back({"name", OptionType::kString, "", true, "Name.", {}, Member(&Client::name)});
  Client c;
  auto st = vigil::cep::ApplyOptions(table, Map({{"name", S("n")}, {"tls", Map({{"ca_file", S("/ca")}})}}), "c", &c,
                                     FakeSecrets({}, {}));
  REQUIRE(st.ok());
  CHECK(c.name == "n");
  CHECK(c.tls.ca_file == "/ca");
  CHECK(c.tls.verify);  // the part's default
  CHECK(vigil::cep::OptionsMarkdown(table).find("| `tls.verify` | bool | `true` | Verify. |") != std::string::npos);
  std::vector<Option<Client>> flat = vigil::cep::PartOptions(&Client::tls, TlsPartTable());
  Client f;
  REQUIRE(vigil::cep::ApplyOptions(flat, Map({{"verify", S("no")}}), "c", &f, FakeSecrets({}, {})).ok());
  CHECK_FALSE(f.tls.verify);
}

TEST_CASE("options: errors found after the table have its form, with the position", "[options]") {
  ConfigNode at = ConfigNode::Scalar("ftp://x", 7, 12);
  CHECK(vigil::cep::PositionPrefix(&at) == "7:12: ");
  CHECK(vigil::cep::PositionPrefix(nullptr).empty());
  CHECK(vigil::cep::OptionError(&at, "sinks.soc.url", "not http").message() == "7:12: sinks.soc.url: not http");
  CHECK(vigil::cep::OptionError(nullptr, "sinks.soc.url", "not http").message() == "sinks.soc.url: not http");
  // A table's own errors carry the position of the key, or of its map when it is missing.
  ConfigNode cfg = ConfigNode::Map(3, 5);
  cfg.Set("retries", ConfigNode::Scalar("many", 4, 14));
  Settings s;
  auto st = vigil::cep::ApplyOptions(Table(), cfg, "sinks.soc", &s, FakeSecrets({}, {}));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "3:5: sinks.soc.url: required\n4:14: sinks.soc.retries: expected an integer, got 'many'");
}

TEST_CASE("options: a setter refusing a secret names the key it came from", "[options]") {
  std::vector<Option<Settings>> table = {
      {"token", OptionType::kSecret, "", true, "Token.", {},
       [](Settings& s, const vigil::cep::OptionValue& v) -> std::string {
         if (v.text.empty()) return "the secret is empty";
         s.token = v.text;
         return {};
       }},
  };
  Settings s;
  auto file = vigil::cep::ApplyOptions(table, Map({{"token_file", S("/empty")}}), "api", &s,
                                       FakeSecrets({}, {{"/empty", "\n"}}));
  REQUIRE_FALSE(file.ok());
  CHECK(file.message() == "api.token_file: the secret is empty");
  auto env = vigil::cep::ApplyOptions(table, Map({{"token_env", S("E")}}), "api", &s, FakeSecrets({{"E", ""}}, {}));
  REQUIRE_FALSE(env.ok());
  CHECK(env.message() == "api.token_env: the secret is empty");
}
