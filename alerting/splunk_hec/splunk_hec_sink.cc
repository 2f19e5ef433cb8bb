// splunk_hec: Splunk's HTTP Event Collector, POST <url>/services/collector/event.
#include "formats/formats.h"
#include "http.h"
#include "json_writer.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct SplunkSettings {
  std::string url;
  std::string token;
  std::string index;
  std::string sourcetype = "vigil:alert";
  std::string source;
  JsonBodySettings body;
  HttpSettings http;
};

const std::vector<cep::Option<SplunkSettings>>& SplunkOptions() {
  static const std::vector<cep::Option<SplunkSettings>> table = Concat(
      std::vector<cep::Option<SplunkSettings>>{
          {"url", cep::OptionType::kString, "", true,
           "The HEC base URL (https://splunk:8088); /services/collector/event is appended.", {},
           cep::Member(&SplunkSettings::url)},
          {"token", cep::OptionType::kSecret, "", true, "The HEC token.", {}, SecretMember(&SplunkSettings::token)},
          {"index", cep::OptionType::kString, "", false, "The index (else the token's default).", {},
           cep::Member(&SplunkSettings::index)},
          {"sourcetype", cep::OptionType::kString, "vigil:alert", false, "The sourcetype.", {},
           cep::Member(&SplunkSettings::sourcetype)},
          {"source", cep::OptionType::kString, "", false, "The source (else the token's default).", {},
           cep::Member(&SplunkSettings::source)},
      },
      cep::PartOptions(&SplunkSettings::body, JsonBodyOptions()),
      cep::PartOptions(&SplunkSettings::http, HttpOptions()));
  return table;
}

class SplunkSink final : public Sink {
 public:
  SplunkSink(SplunkSettings s, JsonBody body, SinkContext context)
      : s_(std::move(s)), body_(std::move(body)), context_(std::move(context)), client_(s_.http) {}

  DeliveryResult Deliver(const AlertView& alert) override {
    JsonWriter w;
    w.BeginObject();
    // HEC's time: epoch seconds, with milliseconds as the fraction.
    char t[32];
    std::snprintf(t, sizeof t, "%lld.%03lld",
                  static_cast<long long>(alert.time() / cep::kSecond),
                  static_cast<long long>((alert.time() % cep::kSecond) / cep::kMillisecond));
    w.Key("time").Raw(t);
    w.Key("host").String(context_.node_id);
    w.Key("sourcetype").String(s_.sourcetype);
    if (!s_.source.empty()) w.Key("source").String(s_.source);
    if (!s_.index.empty()) w.Key("index").String(s_.index);
    w.Key("event").Raw(body_.Render(alert, context_));
    w.EndObject();
    HttpRequest req;
    req.url = JoinUrl(s_.url, "/services/collector/event");
    req.body = w.Take();
    req.headers = {{"Content-Type", "application/json"},
                   {"Authorization", "Splunk " + s_.token},
                   {"User-Agent", "vigil/" + context_.version}};
    Result<HttpResponse> r = client_.Send(req);
    DeliveryResult d = ClassifyHttp(r);
    // HEC answers {"text":"Success","code":0}; another code in a 2xx answer is a failure.
    if (d.ok() && r->body.find("\"code\":0") == std::string::npos &&
        r->body.find("\"code\": 0") == std::string::npos && !r->body.empty()) {
      return DeliveryResult::Retry("HEC answered " + r->body.substr(0, 200));
    }
    return d;
  }

 private:
  SplunkSettings s_;
  JsonBody body_;
  SinkContext context_;
  HttpClient client_;
};

}  // namespace

SinkType SplunkHecSinkType() {
  SinkType t;
  t.name = "splunk_hec";
  t.summary =
      "POSTs `{\"time\": <alert time, epoch seconds with ms>, \"host\": <node id>, "
      "\"sourcetype\": \"vigil:alert\", \"index\": .., \"event\": <alert>}` to "
      "`<url>/services/collector/event` with `Authorization: Splunk <token>`. A 2xx answer "
      "whose `code` is not 0 is a failure.";
  t.options_markdown = cep::OptionsMarkdown(SplunkOptions());
  t.example =
      "sinks:\n"
      "  splunk:\n"
      "    type: splunk_hec\n"
      "    url: https://splunk:8088\n"
      "    token_env: SPLUNK_TOKEN\n"
      "    index: security\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    SplunkSettings s;
    if (Status st = cep::ApplyOptions(SplunkOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    if (Status st = CheckUrl(s.url, c.Find("url"), path + ".url", ctx); !st.ok()) return st;
    if (s.token.find_first_of("\r\n") != std::string::npos) {
      const cep::ConfigNode* at = c.Find("token_env") ? c.Find("token_env") : c.Find("token_file");
      return cep::OptionError(at, path + ".token", "the token holds a line break");
    }
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new SplunkSink(std::move(s), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
