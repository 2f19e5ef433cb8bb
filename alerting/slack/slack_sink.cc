// slack: an incoming webhook message, {"text": summary, "blocks": [...]}.
#include "formats/formats.h"
#include "http.h"
#include "json_writer.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct SlackSettings {
  std::string url;
  std::string body_template;
  HttpSettings http;
};

const std::vector<cep::Option<SlackSettings>>& SlackOptions() {
  static const std::vector<cep::Option<SlackSettings>> table = Concat(
      std::vector<cep::Option<SlackSettings>>{
          {"url", cep::OptionType::kSecret, "", true, "The incoming-webhook URL (it carries the token, hence a secret).",
           {}, SecretMember(&SlackSettings::url)},
          {"template", cep::OptionType::kString, "", false,
           "A JSON template for the whole message instead of the default blocks.", {},
           cep::Member(&SlackSettings::body_template)},
      },
      cep::PartOptions(&SlackSettings::http, HttpOptions()));
  return table;
}

// Slack's mrkdwn treats &, < and > as control characters: they must be escaped.
std::string Mrkdwn(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Plain(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

class SlackSink final : public Sink {
 public:
  SlackSink(SlackSettings s, std::optional<BodyTemplate> tmpl, SinkContext context)
      : s_(std::move(s)), template_(std::move(tmpl)), context_(std::move(context)), client_(s_.http) {}

  static std::string Message(const AlertView& a, const SinkContext& context) {
    JsonWriter w;
    w.BeginObject();
    w.Key("text").String(Mrkdwn(a.summary().empty() ? a.rule_title() : a.summary()));
    w.Key("blocks").BeginArray();
    w.BeginObject().Key("type").String("header");
    w.Key("text").BeginObject().Key("type").String("plain_text");
    w.Key("text").String(Plain(a.rule_title().empty() ? a.rule_id() : a.rule_title(), 150));
    w.EndObject().EndObject();
    w.BeginObject().Key("type").String("section");
    w.Key("text").BeginObject().Key("type").String("mrkdwn").Key("text").String(Mrkdwn(a.summary()));
    w.EndObject().EndObject();
    std::string key;
    for (const auto& [k, v] : a.key()) key += (key.empty() ? "" : "\n") + Mrkdwn(k) + ": " + Mrkdwn(v);
    w.BeginObject().Key("type").String("section").Key("fields").BeginArray();
    auto field = [&](const std::string& label, const std::string& value) {
      w.BeginObject().Key("type").String("mrkdwn").Key("text").String("*" + label + "*\n" + value).EndObject();
    };
    field("Severity", Mrkdwn(a.severity()));
    field("Rule", Mrkdwn(a.rule_id()));
    if (!key.empty()) field("Key", key);
    field("Time", cep::FormatRfc3339Millis(a.time()));
    w.EndArray().EndObject();
    w.BeginObject().Key("type").String("context").Key("elements").BeginArray();
    w.BeginObject().Key("type").String("mrkdwn");
    w.Key("text").String("alert " + a.id() + " from " + Mrkdwn(context.node_id));
    w.EndObject().EndArray().EndObject();
    w.EndArray();
    w.EndObject();
    return w.Take();
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    HttpRequest req;
    req.url = s_.url;
    req.body = template_ ? template_->Render(alert) : Message(alert, context_);
    req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "vigil/" + context_.version}};
    return ClassifyHttp(client_.Send(req));
  }

 private:
  SlackSettings s_;
  std::optional<BodyTemplate> template_;
  SinkContext context_;
  HttpClient client_;
};

}  // namespace

SinkType SlackSinkType() {
  SinkType t;
  t.name = "slack";
  t.summary =
      "POSTs an incoming-webhook message: `{\"text\": <summary>, \"blocks\": [header (rule "
      "title), section (summary), fields (severity, rule, key, time), context (alert id, "
      "node)]}`, with `&`, `<` and `>` escaped as Slack's mrkdwn requires.";
  t.options_markdown = cep::OptionsMarkdown(SlackOptions());
  t.example =
      "sinks:\n"
      "  slack:\n"
      "    type: slack\n"
      "    url_env: SLACK_WEBHOOK\n"
      "    min_severity: medium\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    SlackSettings s;
    if (Status st = cep::ApplyOptions(SlackOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    const std::string from = c.Find("url_env") ? "url_env" : "url_file";
    if (Status st = CheckUrl(s.url, c.Find(from), path + "." + from, ctx, /*secret=*/true); !st.ok()) return st;
    std::optional<BodyTemplate> tmpl;
    if (!s.body_template.empty()) {
      auto p = BodyTemplate::Parse(s.body_template, TemplateContext::kJson, path + ".template");
      if (!p.ok()) return Located(c.Find("template"), p.status());
      tmpl = std::move(p).value();
    }
    return std::unique_ptr<Sink>(new SlackSink(std::move(s), std::move(tmpl), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
