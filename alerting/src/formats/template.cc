#include <simdjson.h>

#include "formats/formats.h"
#include "vigil/alerting/alert.h"
#include "vigil/cep/value.h"

namespace vigil::alerting {

namespace {

constexpr const char* kRoots[] = {"id",      "rule",    "key",   "time",  "detected_at",
                                  "summary", "matches", "value", "alert", "event"};

bool KnownPath(std::string_view path) {
  std::string_view root = path.substr(0, path.find('.'));
  for (const char* r : kRoots) {
    if (root == r) return true;
  }
  return false;
}

// The value's text: a JSON string decoded, anything else as its JSON.
std::string TextOf(const std::string& json) {
  if (json.empty() || json[0] != '"') return json;
  thread_local simdjson::dom::parser parser;
  std::string_view s;
  if (parser.parse(simdjson::padded_string(json)).get(s)) return json;
  return std::string(s);
}

}  // namespace

Result<BodyTemplate> BodyTemplate::Parse(std::string_view text, TemplateContext context,
                                         const std::string& path) {
  BodyTemplate t;
  bool in_string = false, escaped = false;
  int pipes = 0;
  bool cef_escaped = false;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    std::string_view literal = text.substr(pos, open == std::string_view::npos ? text.npos : open - pos);
    for (char c : literal) {
      if (escaped) escaped = false;
      else if (in_string && c == '\\') escaped = true;
      else if (c == '"') in_string = !in_string;
      if (cef_escaped) cef_escaped = false;
      else if (c == '\\') cef_escaped = true;
      else if (c == '|') ++pipes;
    }
    Part part;
    part.literal = std::string(literal);
    if (open == std::string_view::npos) {
      t.parts_.push_back(std::move(part));
      break;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(path + ": '{{' at offset " + std::to_string(open) +
                                     " is not closed with '}}'");
    }
    std::string_view inner = text.substr(open + 2, close - open - 2);
    while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
    while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
    if (inner.empty() || !KnownPath(inner)) {
      return Status::InvalidArgument(
          path + ": unknown placeholder '{{ " + std::string(inner) +
          " }}' (use id, rule.id, rule.title, rule.severity, rule.tags, key, key.<field>, time, "
          "detected_at, summary, value, matches, alert or event.<field>)");
    }
    part.path = std::string(inner);
    switch (context) {
      case TemplateContext::kJson: part.mode = in_string ? Mode::kJsonInString : Mode::kJsonValue; break;
      case TemplateContext::kCef: part.mode = pipes < 7 ? Mode::kCefHeader : Mode::kCefExtension; break;
      case TemplateContext::kText: part.mode = Mode::kText; break;
      case TemplateContext::kTopic: part.mode = Mode::kTopic; break;
    }
    t.parts_.push_back(std::move(part));
    pos = close + 2;
  }
  if (context == TemplateContext::kJson) {
    std::string sample = t.Render(SampleAlert());
    if (!IsValidJson(sample)) {
      return Status::InvalidArgument(path + ": does not render to valid JSON (rendered for a "
                                     "sample alert: " + sample.substr(0, 200) + ")");
    }
  }
  return t;
}

std::string BodyTemplate::Render(const AlertView& alert) const {
  std::string out;
  for (const Part& p : parts_) {
    out += p.literal;
    if (p.path.empty()) continue;
    std::optional<std::string> v = alert.Lookup(p.path);
    switch (p.mode) {
      case Mode::kJsonValue: out += v ? *v : "null"; break;
      case Mode::kJsonInString:
        if (!v) break;
        if ((*v)[0] == '"') {
          out.append(*v, 1, v->size() - 2);  // already escaped as JSON string content
        } else {
          std::string quoted;
          cep::AppendJsonString(*v, &quoted);
          out.append(quoted, 1, quoted.size() - 2);
        }
        break;
      case Mode::kCefHeader: if (v) AppendCefHeaderField(TextOf(*v), &out); break;
      case Mode::kCefExtension: if (v) AppendCefExtensionValue(TextOf(*v), &out); break;
      case Mode::kText:
        if (v) {
          for (char c : TextOf(*v)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
        }
        break;
      case Mode::kTopic:
        if (v) {
          for (char c : TextOf(*v)) {
            bool bad = c == '/' || c == '+' || c == '#' || static_cast<unsigned char>(c) < 0x20;
            out.push_back(bad ? '_' : c);
          }
        }
        break;
    }
  }
  return out;
}

const AlertView& SampleAlert() {
  static const AlertView* sample = [] {
    auto v = AlertView::Parse(
        R"({"id":"3f9c2a7be01d4c59a2e8b6f1d0c47a93","rule":{"id":"ssh-bruteforce-then-success",)"
        R"("title":"SSH brute force, then a success","severity":"high","tags":["attack.credential_access",)"
        R"("attack.t1110"]},"key":{"source.ip":"10.0.0.9"},"time":"2026-11-21T10:15:02.000Z",)"
        R"("detected_at":"2026-11-21T10:15:02.417Z","summary":"6 failures from 10.0.0.9, then a success as root",)"
        R"("matches":[{"step":"fail","event":{"@timestamp":"2026-11-21T10:14:40.000Z","event":{"outcome":"failure"},)"
        R"("source":{"ip":"10.0.0.9"},"user":{"name":"root"}}},{"step":"success","event":{"@timestamp":)"
        R"("2026-11-21T10:15:02.000Z","event":{"outcome":"success"},"source":{"ip":"10.0.0.9"},)"
        R"("user":{"name":"root"}}}]})");
    return std::move(v).value().release();
  }();
  return *sample;
}

Result<JsonBody> JsonBody::Make(const JsonBodySettings& s, const std::string& path) {
  JsonBody b;
  b.format_ = ParseJsonFormat(s.format);
  if (!s.body_template.empty()) {
    auto t = BodyTemplate::Parse(s.body_template, TemplateContext::kJson, path + ".template");
    if (!t.ok()) return t.status();
    b.template_ = std::move(t).value();
  }
  return b;
}

const std::vector<cep::Option<JsonBodySettings>>& JsonBodyOptions() {
  static const std::vector<cep::Option<JsonBodySettings>> table = {
      {"format", cep::OptionType::kEnum, "vigil", false,
       "The document sent: the alert JSON (vigil), Elastic Common Schema (ecs) or an OCSF Detection "
       "Finding (ocsf).",
       {"vigil", "ecs", "ocsf"}, cep::Member(&JsonBodySettings::format)},
      {"template", cep::OptionType::kString, "", false,
       "A JSON body template with {{ placeholders }} instead of the document; values are JSON-escaped.", {},
       cep::Member(&JsonBodySettings::body_template)},
  };
  return table;
}

std::string JsonBody::Render(const AlertView& alert, const SinkContext& context) const {
  if (template_) return template_->Render(alert);
  return RenderJson(format_, alert, context);
}

}  // namespace vigil::alerting
