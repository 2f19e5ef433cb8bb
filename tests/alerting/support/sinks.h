// Building sinks from config text in tests, with secrets from a map instead of the
// process environment.
#pragma once

#include <catch2/catch.hpp>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include "support/alerts.h"
#include "vigil/alerting/options.h"
#include "vigil/alerting/outbox.h"
#include "vigil/alerting/sinks.h"

namespace vigil::alerting::testing {

class MapSecrets final : public SecretSource {
 public:
  MapSecrets() = default;
  MapSecrets(std::initializer_list<std::pair<const std::string, std::string>> env) : env_(env) {}
  Result<std::string> Env(const std::string& name) const override {
    auto it = env_.find(name);
    if (it == env_.end()) return Status::NotFound("environment variable " + name + " is not set");
    return it->second;
  }
  std::map<std::string, std::string> env_;
};

inline SinkContext TestContext() {
  SinkContext c;
  c.node_id = "gw-17";
  c.version = "0.1.0";
  c.warn = [](const std::string&) {};
  return c;
}

// The sink `config` (JSON of one sink's map) describes, or the config error.
inline Result<std::unique_ptr<Sink>> TryMakeSink(const std::string& config, const SecretSource& secrets = MapSecrets(),
                                                 SinkContext context = TestContext()) {
  auto c = ConfigValue::FromJson(config);
  REQUIRE(c.ok());
  const ConfigValue* type = c->Find("type");
  REQUIRE(type);
  const SinkType* t = FindSinkType(type->scalar());
  REQUIRE(t);
  context.sink_name = "test";
  return t->create(*c, "sinks.test", context, secrets);
}

inline std::unique_ptr<Sink> MakeSink(const std::string& config, const SecretSource& secrets = MapSecrets(),
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
