// Source types by name (Fluent Bit's plugin registry): each type lives in its own folder
// under ingest/src/<type>/, declares its options once in a table (validation, defaults and
// the reference docs all come from it) and registers here with one line.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/ingest/source.h"

namespace vigil::ingest {

struct SourceType {
  std::string name;     // the `type:` that selects it
  std::string summary;  // a Markdown paragraph for the reference
  // Checks `options` (the `source:` map; its `type` key is ignored). Errors name the key
  // path under `path` ("streams.auth.source.brokers: required"), one per line.
  std::function<Status(const cep::ConfigNode& options, const std::string& path,
                       const cep::SecretSource& secrets)>
      check;
  // Checks and builds the source.
  std::function<Result<std::unique_ptr<Source>>(const cep::ConfigNode& options,
                                                const std::string& path, const SourceContext& ctx)>
      create;
  std::function<std::string()> options_markdown;  // the option table as Markdown
};

// Every registered type, in documentation order.
const std::vector<SourceType>& SourceTypes();
const SourceType* FindSourceType(std::string_view name);
std::vector<std::string> SourceTypeNames();

// Checks a stream's `source:` map (with its `type`) at `path` ("streams.auth.source").
Status CheckSource(const cep::ConfigNode& source, const std::string& path,
                   const cep::SecretSource& secrets = cep::SecretSource::Process());
// Checks and builds the source of a stream's `source:` map.
Result<std::unique_ptr<Source>> CreateSource(const cep::ConfigNode& source, const std::string& path,
                                             const SourceContext& ctx);

// The reference section of every source type (docs/sources.md is generated from it).
std::string SourcesReferenceMarkdown();

}  // namespace vigil::ingest
