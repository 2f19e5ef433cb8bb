// pagerduty: Events API v2, POST <url>/v2/enqueue with event_action "trigger".
#include "crypto.h"
#include "formats/formats.h"
#include "http.h"
#include "json_writer.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct PagerDutySettings {
  std::string url = "https://events.pagerduty.com";
  std::string routing_key;
  std::string body_template;
  HttpSettings http;
};

const std::vector<cep::Option<PagerDutySettings>>& PagerDutyOptions() {
  static const std::vector<cep::Option<PagerDutySettings>> table = Concat(
      std::vector<cep::Option<PagerDutySettings>>{
          {"url", cep::OptionType::kString, "https://events.pagerduty.com", false,
           "The Events API base URL; /v2/enqueue is appended.", {}, cep::Member(&PagerDutySettings::url)},
          {"routing_key", cep::OptionType::kSecret, "", true, "The integration key of the PagerDuty service.", {},
           SecretMember(&PagerDutySettings::routing_key)},
          {"template", cep::OptionType::kString, "", false,
           "A JSON template for payload.custom_details (default: the whole alert).", {},
           cep::Member(&PagerDutySettings::body_template)},
      },
      cep::PartOptions(&PagerDutySettings::http, HttpOptions()));
  return table;
}

// PagerDuty's severities are critical, error, warning and info.
const char* PagerDutySeverity(std::string_view s) {
  switch (SeverityRank(s)) {
    case 4: return "critical";
    case 3: return "error";
    case 2: return "warning";
    default: return "info";
  }
}

// Utf-8 safe truncation to at most `max` bytes.
std::string Truncate(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

class PagerDutySink final : public Sink {
 public:
  PagerDutySink(PagerDutySettings s, std::optional<BodyTemplate> tmpl, SinkContext context)
      : s_(std::move(s)), template_(std::move(tmpl)), context_(std::move(context)), client_(s_.http) {}

  DeliveryResult Deliver(const AlertView& alert) override {
    // One incident per rule and key: later alerts of the same key are grouped into it.
    std::string dedup = alert.rule_id() + "/" + alert.key_json();
    if (dedup.size() > 255) dedup = Truncate(alert.rule_id(), 190) + "/" + Hex(Sha256(alert.key_json()));
    JsonWriter w;
    w.BeginObject();
    w.Key("routing_key").String(s_.routing_key);
    w.Key("event_action").String("trigger");
    w.Key("dedup_key").String(dedup);
    w.Key("payload").BeginObject();
    w.Key("summary").String(Truncate(alert.summary().empty() ? alert.rule_title() : alert.summary(), 1024));
    w.Key("source").String(context_.node_id);
    w.Key("severity").String(PagerDutySeverity(alert.severity()));
    w.Key("timestamp").Time(alert.time());
    w.Key("class").String(alert.rule_id());
    w.Key("custom_details").Raw(template_ ? template_->Render(alert) : alert.json());
    w.EndObject();
    w.Key("client").String("Vigil");
    w.EndObject();
    HttpRequest req;
    req.url = JoinUrl(s_.url, "/v2/enqueue");
    req.body = w.Take();
    req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "vigil/" + context_.version}};
    return ClassifyHttp(client_.Send(req));
  }

 private:
  PagerDutySettings s_;
  std::optional<BodyTemplate> template_;
  SinkContext context_;
  HttpClient client_;
};

}  // namespace

SinkType PagerDutySinkType() {
  SinkType t;
  t.name = "pagerduty";
  t.summary =
      "Events API v2: POSTs `{\"routing_key\", \"event_action\": \"trigger\", \"dedup_key\": "
      "\"<rule id>/<key JSON>\", \"payload\": {\"summary\", \"source\": <node id>, \"severity\", "
      "\"timestamp\", \"class\": <rule id>, \"custom_details\": <alert>}}` to `<url>/v2/enqueue`. "
      "Severity: critical → critical, high → error, medium → warning, low and info → info. "
      "The dedup key groups the alerts of one rule and key into one incident.";
  t.options_markdown = cep::OptionsMarkdown(PagerDutyOptions());
  t.example =
      "sinks:\n"
      "  pagerduty:\n"
      "    type: pagerduty\n"
      "    routing_key_env: PD_KEY\n"
      "    min_severity: high\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    PagerDutySettings s;
    if (Status st = cep::ApplyOptions(PagerDutyOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    if (Status st = CheckUrl(s.url, c.Find("url"), path + ".url", ctx); !st.ok()) return st;
    std::optional<BodyTemplate> tmpl;
    if (!s.body_template.empty()) {
      auto p = BodyTemplate::Parse(s.body_template, TemplateContext::kJson, path + ".template");
      if (!p.ok()) return Located(c.Find("template"), p.status());
      tmpl = std::move(p).value();
    }
    return std::unique_ptr<Sink>(new PagerDutySink(std::move(s), std::move(tmpl), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
