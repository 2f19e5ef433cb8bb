#include "vigil/ingest/source_registry.h"

#include "sources/source_types.h"

namespace vigil::ingest {

cep::ConfigNode WithoutType(const cep::ConfigNode& source) {
  if (!source.is_map()) return source;
  cep::ConfigNode out = cep::ConfigNode::Map(source.line(), source.column());
  for (const auto& [key, value] : source.fields()) {
    if (key != "type") out.Set(key, value);
  }
  return out;
}

const std::vector<SourceType>& SourceTypes() {
  static const std::vector<SourceType> types = {
      KafkaSourceType(), MqttSourceType(), GrpcSourceType(), FileSourceType(), StdinSourceType(),
  };
  return types;
}

const SourceType* FindSourceType(std::string_view name) {
  for (const SourceType& t : SourceTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> SourceTypeNames() {
  std::vector<std::string> names;
  for (const SourceType& t : SourceTypes())
    names.push_back(t.name);
  return names;
}

namespace {

Result<const SourceType*> TypeOf(const cep::ConfigNode& source, const std::string& path) {
  auto where = [](const cep::ConfigNode& n) {
    return n.line() > 0 ? std::to_string(n.line()) + ":" +
                              std::to_string(n.column() > 0 ? n.column() : 1) + ": "
                        : std::string();
  };
  std::string names;
  for (const std::string& n : SourceTypeNames())
    names += (names.empty() ? "" : ", ") + n;
  if (!source.is_map())
    return Status::InvalidArgument(where(source) + path + ": expected a map with a `type`");
  const cep::ConfigNode* type = source.Find("type");
  if (type == nullptr || !type->is_scalar()) {
    return Status::InvalidArgument(where(source) + path + ".type: required (one of " + names + ")");
  }
  const SourceType* t = FindSourceType(type->text());
  if (t == nullptr) {
    std::string hint = cep::DidYouMean(type->text(), SourceTypeNames());
    return Status::InvalidArgument(where(*type) + path + ".type: unknown source type '" +
                                   type->text() + "' (" + names + ")" +
                                   (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  return t;
}

}  // namespace

Status CheckSource(const cep::ConfigNode& source, const std::string& path,
                   const cep::SecretSource& secrets) {
  auto t = TypeOf(source, path);
  if (!t.ok()) return t.status();
  return (*t)->check(source, path, secrets);
}

Result<std::unique_ptr<Source>> CreateSource(const cep::ConfigNode& source, const std::string& path,
                                             const SourceContext& ctx) {
  auto t = TypeOf(source, path);
  if (!t.ok()) return t.status();
  return (*t)->create(source, path, ctx);
}

std::string SourcesReferenceMarkdown() {
  std::string md;
  for (const SourceType& t : SourceTypes()) {
    md += "### `" + t.name + "`\n\n" + t.summary + "\n\n" + t.options_markdown() + "\n";
  }
  return md;
}

}  // namespace vigil::ingest
