#include "vigil/alerting/config.h"

#include <simdjson.h>

namespace vigil::alerting {

ConfigValue ConfigValue::Scalar(std::string text) {
  ConfigValue v;
  v.kind_ = Kind::kScalar;
  v.scalar_ = std::move(text);
  return v;
}

ConfigValue ConfigValue::List(std::vector<ConfigValue> items) {
  ConfigValue v;
  v.kind_ = Kind::kList;
  v.items_ = std::move(items);
  return v;
}

ConfigValue ConfigValue::Map(std::vector<Entry> entries) {
  ConfigValue v;
  v.kind_ = Kind::kMap;
  v.entries_ = std::move(entries);
  return v;
}

const ConfigValue* ConfigValue::Find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (const Entry& e : entries_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

const char* ConfigValue::KindName() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kScalar: return "a scalar";
    case Kind::kList: return "a list";
    case Kind::kMap: return "a map";
  }
  return "?";
}

namespace {

ConfigValue FromElement(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      std::vector<ConfigValue::Entry> entries;
      for (auto field : simdjson::dom::object(e)) {
        entries.emplace_back(std::string(field.key), FromElement(field.value));
      }
      return ConfigValue::Map(std::move(entries));
    }
    case simdjson::dom::element_type::ARRAY: {
      std::vector<ConfigValue> items;
      for (auto item : simdjson::dom::array(e)) items.push_back(FromElement(item));
      return ConfigValue::List(std::move(items));
    }
    case simdjson::dom::element_type::STRING:
      return ConfigValue::Scalar(std::string(std::string_view(e)));
    case simdjson::dom::element_type::NULL_VALUE: return ConfigValue();
    default: return ConfigValue::Scalar(simdjson::minify(e));
  }
}

}  // namespace

Result<ConfigValue> ConfigValue::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(root)) {
    return Status::InvalidArgument(std::string("config is not valid JSON: ") +
                                   simdjson::error_message(err));
  }
  return FromElement(root);
}

}  // namespace vigil::alerting
