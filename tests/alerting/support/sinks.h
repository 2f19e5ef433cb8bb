// Building sinks from config text in tests, with secrets from a map instead of the
// process environment.
#pragma once

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "support/alerts.h"
#include "vigil/alerting/outbox.h"
#include "vigil/alerting/sinks.h"
#include "vigil/cep/options.h"

namespace vigil::alerting::testing {

// Environment variables from a map; files from the file system (tests write them in a
// TempDir).
struct MapSecrets : cep::SecretSource {
  MapSecrets(std::initializer_list<std::pair<const std::string, std::string>> env = {}) {
    getenv = [vars = std::map<std::string, std::string>(env)](const std::string& name, std::string* value) {
      auto it = vars.find(name);
      if (it == vars.end()) return false;
      *value = it->second;
      return true;
    };
    read_file = cep::SecretSource::Process().read_file;
  }
};

namespace internal {
inline cep::ConfigNode FromJson(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      cep::ConfigNode map = cep::ConfigNode::Map();
      for (auto field : simdjson::dom::object(e)) map.Set(std::string(field.key), FromJson(field.value));
      return map;
    }
    case simdjson::dom::element_type::ARRAY: {
      cep::ConfigNode list = cep::ConfigNode::List();
      for (auto item : simdjson::dom::array(e)) list.Append(FromJson(item));
      return list;
    }
    case simdjson::dom::element_type::STRING: return cep::ConfigNode::Scalar(std::string(std::string_view(e)));
    case simdjson::dom::element_type::NULL_VALUE: return cep::ConfigNode();
    default: return cep::ConfigNode::Scalar(simdjson::minify(e));  // numbers and booleans as written
  }
}
}  // namespace internal

// A config tree written as JSON (tests write sinks: and delivery: that way; the appliance
// reads YAML, with positions, in edge/). The nodes have no line:column.
inline cep::ConfigNode JsonConfig(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(simdjson::padded_string(json)).get(root);
  INFO(json);
  REQUIRE(err == simdjson::SUCCESS);
  return internal::FromJson(root);
}

inline SinkContext TestContext() {
  SinkContext c;
  c.node_id = "gw-17";
  c.version = "0.1.0";
  c.warn = [](const std::string&) {};
  return c;
}

// The sink `config` (JSON of one sink's map) describes, or the config error.
inline Result<std::unique_ptr<Sink>> TryMakeSink(const std::string& config,
                                                 const cep::SecretSource& secrets = MapSecrets(),
                                                 SinkContext context = TestContext()) {
  cep::ConfigNode c = JsonConfig(config);
  const cep::ConfigNode* type = c.Find("type");
  REQUIRE(type);
  const SinkType* t = FindSinkType(type->text());
  REQUIRE(t);
  context.sink_name = "test";
  return t->create(c, "sinks.test", context, secrets);
}

inline std::unique_ptr<Sink> MakeSink(const std::string& config, const cep::SecretSource& secrets = MapSecrets(),
                                      SinkContext context = TestContext()) {
  auto s = TryMakeSink(config, secrets, std::move(context));
  INFO(config);
  if (!s.ok()) FAIL(s.status().message());
  return std::move(s).value();
}

inline std::unique_ptr<AlertView> ViewOf(const Alert& a) {
  auto v = AlertView::Parse(a.json);
  REQUIRE(v.ok());
  return std::move(v).value();
}

inline OutboxOptions QuickRetries() {
  OutboxOptions o;
  o.retry.initial = cep::kMillisecond;
  o.retry.max = 5 * cep::kMillisecond;
  o.log = [](const std::string&) {};
  return o;
}

}  // namespace vigil::alerting::testing
