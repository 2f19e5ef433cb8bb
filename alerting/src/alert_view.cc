#include <simdjson.h>

#include "vigil/alerting/sink.h"
#include "vigil/cep/value.h"

namespace vigil::alerting {

int SeverityRank(std::string_view s) {
  if (s == "info") return 0;
  if (s == "low") return 1;
  if (s == "medium") return 2;
  if (s == "high") return 3;
  if (s == "critical") return 4;
  return -1;
}

struct AlertView::Dom {
  simdjson::dom::parser parser;
  simdjson::padded_string text;
  simdjson::dom::element root;
  std::vector<simdjson::dom::element> events;
};

AlertView::AlertView() : dom_(std::make_unique<Dom>()) {}
AlertView::~AlertView() = default;

namespace {

std::string Text(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get(s)) return std::string(s);
  return simdjson::minify(e);
}

std::string Json(simdjson::dom::element e) { return simdjson::minify(e); }

// Finds `path` in `obj` whether it is nested, flat ("a.b" as one key) or a mix.
void Collect(simdjson::dom::element e, std::string_view path, std::vector<std::string>* out) {
  if (path.empty()) {
    simdjson::dom::array arr;
    if (!e.get(arr)) {
      for (auto item : arr) out->push_back(Text(item));
    } else if (!e.is_null()) {
      out->push_back(Text(e));
    }
    return;
  }
  simdjson::dom::object obj;
  if (e.get(obj)) return;
  for (auto field : obj) {
    std::string_view k = field.key;
    if (path.size() < k.size() || path.compare(0, k.size(), k) != 0) continue;
    if (path.size() == k.size()) Collect(field.value, {}, out);
    else if (path[k.size()] == '.') Collect(field.value, path.substr(k.size() + 1), out);
  }
}

std::optional<std::string> Find(simdjson::dom::element e, std::string_view path) {
  if (path.empty()) return Json(e);
  simdjson::dom::object obj;
  if (e.get(obj)) return std::nullopt;
  for (auto field : obj) {
    std::string_view k = field.key;
    if (path.size() < k.size() || path.compare(0, k.size(), k) != 0) continue;
    if (path.size() == k.size()) return Json(field.value);
    if (path[k.size()] == '.') {
      auto r = Find(field.value, path.substr(k.size() + 1));
      if (r) return r;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<AlertView>> AlertView::Parse(std::string json) {
  std::unique_ptr<AlertView> v(new AlertView());
  v->json_ = std::move(json);
  Dom& d = *v->dom_;
  d.text = simdjson::padded_string(v->json_);
  if (auto err = d.parser.parse(d.text).get(d.root)) {
    return Status::InvalidArgument(std::string("alert is not JSON: ") + simdjson::error_message(err));
  }
  std::string_view s;
  if (d.root["id"].get(s)) return Status::InvalidArgument("alert has no id");
  v->id_ = std::string(s);
  simdjson::dom::element rule;
  if (d.root["rule"].get(rule) || rule["id"].get(s)) {
    return Status::InvalidArgument("alert has no rule.id");
  }
  v->rule_id_ = std::string(s);
  if (!rule["title"].get(s)) v->rule_title_ = std::string(s);
  if (!rule["severity"].get(s)) v->severity_ = std::string(s);
  simdjson::dom::array tags;
  if (!rule["tags"].get(tags)) {
    for (auto t : tags) v->tags_.push_back(Text(t));
  }
  simdjson::dom::object key;
  if (!d.root["key"].get(key)) {
    v->key_json_ = simdjson::minify(key);
    for (auto field : key) v->key_.emplace_back(std::string(field.key), Text(field.value));
  } else {
    v->key_json_ = "{}";
  }
  if (d.root["time"].get(s) || !cep::ParseRfc3339(s, &v->time_)) {
    return Status::InvalidArgument("alert has no time");
  }
  if (!d.root["detected_at"].get(s)) cep::ParseRfc3339(s, &v->detected_at_);
  if (!d.root["summary"].get(s)) v->summary_ = std::string(s);
  double value;
  if (!d.root["value"].get(value)) v->value_ = value;
  simdjson::dom::array matches;
  if (!d.root["matches"].get(matches)) {
    for (auto m : matches) {
      simdjson::dom::element event;
      if (m["event"].get(event)) continue;
      d.events.push_back(event);
      v->steps_.push_back(m["step"].get(s) ? std::string() : std::string(s));
    }
  }
  return v;
}

size_t AlertView::match_count() const { return dom_->events.size(); }

std::string AlertView::MatchEventJson(size_t i) const { return Json(dom_->events[i]); }

std::optional<cep::Timestamp> AlertView::MatchEventTime(size_t i) const {
  for (std::string_view field : {"@timestamp", "timestamp"}) {
    std::vector<std::string> v;
    Collect(dom_->events[i], field, &v);
    cep::Timestamp t;
    if (!v.empty() && cep::ParseRfc3339(v[0], &t)) return t;
  }
  return std::nullopt;
}

std::vector<std::string> AlertView::EventValues(size_t i, std::string_view path) const {
  std::vector<std::string> out;
  Collect(dom_->events[i], path, &out);
  return out;
}

std::optional<std::string> AlertView::Lookup(std::string_view path) const {
  const Dom& d = *dom_;
  if (path == "alert") return json_;
  if (path.substr(0, 4) == "key.") {
    std::string_view name = path.substr(4);
    simdjson::dom::element e;
    if (d.root["key"][name].get(e)) return std::nullopt;
    return Json(e);
  }
  if (path.substr(0, 6) == "event.") {
    if (d.events.empty()) return std::nullopt;
    return Find(d.events.back(), path.substr(6));
  }
  auto r = Find(d.root, path);
  if (r && *r == "null") return std::nullopt;
  return r;
}

}  // namespace vigil::alerting
