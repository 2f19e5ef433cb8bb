// Test support for alerts: events and matches built by hand, and alert JSON parsed back.
#pragma once

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/alerting/alert.h"
#include "vigil/cep/event.h"
#include "vigil/cep/key.h"
#include "vigil/cep/match.h"
#include "vigil/cep/time.h"

namespace vigil::alerting::testing {

// 2026-11-21T10:15:02Z
inline constexpr cep::Timestamp kT = 1795256102 * cep::kSecond;

inline cep::EventPtr MakeEvent(std::string_view raw, cep::Timestamp time, uint64_t identity,
                               bool raw_is_json = true) {
  auto e = std::make_shared<cep::Event>();
  e->set_raw(raw);
  e->raw_is_json = raw_is_json;
  e->time = time;
  e->identity = identity;
  return e;
}

// The encoded key of the given values, in order (strings and ints).
inline std::string Key(const std::vector<cep::Value>& values) {
  cep::Event e;
  e.ResetFields(values.size());
  std::vector<cep::FieldId> ids;
  for (size_t i = 0; i < values.size(); ++i) {
    cep::Value v = values[i];
    if (v.kind == cep::ValueKind::kString) v = cep::Value::String(e.CopyString(v.s));
    e.SetField(static_cast<cep::FieldId>(i), v);
    ids.push_back(static_cast<cep::FieldId>(i));
  }
  std::string key;
  REQUIRE(cep::EncodeKey(e, ids, &key));
  return key;
}

// A match of `events` with their step names; its time is the last event's.
inline cep::Match MakeMatch(std::string key,
                            std::vector<std::pair<std::string_view, cep::EventPtr>> events,
                            std::optional<double> value = std::nullopt) {
  cep::Match m;
  m.key = std::move(key);
  for (auto& [step, event] : events)
    m.events.push_back({step, event});
  m.time = m.events.empty() ? 0 : m.events.back().event->time;
  m.value = value;
  return m;
}

inline RuleInfo MakeRule(std::string id = "ssh-bruteforce") {
  RuleInfo r;
  r.id = std::move(id);
  r.title = "SSH brute force";
  r.severity = "high";
  r.tags = {"attack.t1110", "attack.credential_access"};
  r.key_names = {"source.ip"};
  return r;
}

// An alert's JSON parsed back. Owns the parser, so the elements stay valid.
class ParsedAlert {
 public:
  explicit ParsedAlert(const std::string& json) : text_(json) {
    auto err = parser_.parse(text_).get(root_);
    INFO(json);
    REQUIRE_FALSE(err);
    REQUIRE(root_.is_object());
  }
  ParsedAlert(const ParsedAlert&) = delete;
  ParsedAlert& operator=(const ParsedAlert&) = delete;

  simdjson::dom::element root() const { return root_; }
  simdjson::dom::element operator[](std::string_view path) const {
    simdjson::dom::element e;
    auto err = root_.at_pointer(path).get(e);
    INFO(path);
    REQUIRE_FALSE(err);
    return e;
  }
  bool has(std::string_view path) const {
    simdjson::dom::element e;
    return !root_.at_pointer(path).get(e);
  }
  std::string str(std::string_view path) const {
    std::string_view s;
    INFO(path);
    REQUIRE_FALSE((*this)[path].get(s));
    return std::string(s);
  }
  // The keys of the object at `path`, in document order.
  std::vector<std::string> keys(std::string_view path = "") const {
    simdjson::dom::object obj;
    REQUIRE_FALSE((*this)[path].get(obj));
    std::vector<std::string> out;
    for (auto field : obj)
      out.emplace_back(field.key);
    return out;
  }
  // The compact JSON of the element at `path`.
  std::string json(std::string_view path) const { return simdjson::minify((*this)[path]); }

 private:
  std::string text_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

using Strings = std::vector<std::string>;

}  // namespace vigil::alerting::testing
