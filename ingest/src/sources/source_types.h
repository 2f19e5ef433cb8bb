// The registration of each source type (one function per folder under ingest/src/), and
// the helpers they share to check their option tables.
#pragma once

#include <string>

#include "vigil/cep/options.h"
#include "vigil/ingest/source_registry.h"

namespace vigil::ingest {

SourceType KafkaSourceType();
SourceType MqttSourceType();
SourceType GrpcSourceType();
SourceType FileSourceType();
SourceType StdinSourceType();

// The `source:` map without its `type` key (which the stream section has checked).
cep::ConfigNode WithoutType(const cep::ConfigNode& source);

template <typename S>
Status ApplySourceOptions(const std::vector<cep::Option<S>>& table, const cep::ConfigNode& source,
                          const std::string& path, const cep::SecretSource& secrets, S* out) {
  return cep::ApplyOptions(table, WithoutType(source), path, out, secrets);
}

// A SourceType whose check and docs come from `table`, and whose create checks the options
// into an S and calls build(settings, ctx).
template <typename S, typename Build>
SourceType MakeSourceType(std::string name, std::string summary,
                          const std::vector<cep::Option<S>>& (*table)(), Build build) {
  SourceType t;
  t.name = std::move(name);
  t.summary = std::move(summary);
  t.check = [table](const cep::ConfigNode& options, const std::string& path,
                    const cep::SecretSource& secrets) {
    S s;
    return ApplySourceOptions(table(), options, path, secrets, &s);
  };
  t.create = [table, build](const cep::ConfigNode& options, const std::string& path,
                            const SourceContext& ctx) -> Result<std::unique_ptr<Source>> {
    S s;
    Status st = ApplySourceOptions(table(), options, path,
                                   ctx.secrets ? *ctx.secrets : cep::SecretSource::Process(), &s);
    if (!st.ok()) return st;
    return build(s, path, ctx);
  };
  t.options_markdown = [table] { return cep::OptionsMarkdown(table()); };
  return t;
}

}  // namespace vigil::ingest
