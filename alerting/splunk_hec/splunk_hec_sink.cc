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

const Options<SplunkSettings>& SplunkOptions() {
  static const Options<SplunkSettings> table = [] {
    Options<SplunkSettings> o;
    o.Add({"url", OptionType::kString, "", true, false, "",
           "The HEC base URL (https://splunk:8088); /services/collector/event is appended."},
          Set(&SplunkSettings::url));
    o.Add({"token", OptionType::kString, "", true, true, "", "The HEC token."},
          Set(&SplunkSettings::token));
    o.Add({"index", OptionType::kString, "", false, false, "", "The index (else the token's default)."},
          Set(&SplunkSettings::index));
    o.Add({"sourcetype", OptionType::kString, "vigil:alert", false, false, "", "The sourcetype."},
          Set(&SplunkSettings::sourcetype));
    o.Add({"source", OptionType::kString, "", false, false, "", "The source (else the token's default)."},
          Set(&SplunkSettings::source));
    AddJsonBodyOptions(o, &SplunkSettings::body);
    AddHttpOptions(o, &SplunkSettings::http);
    return o;
  }();
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
  t.options = &SplunkOptions();
  t.example =
      "sinks:\n"
      "  splunk:\n"
      "    type: splunk_hec\n"
      "    url: https://splunk:8088\n"
      "    token_env: SPLUNK_TOKEN\n"
      "    index: security\n";
  t.create = [](const ConfigValue& c, const std::string& path, const SinkContext& ctx,
                const SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    SplunkSettings s;
    if (Status st = SplunkOptions().Apply(c, path, secrets, &s, CommonSinkKeys()); !st.ok()) return st;
    if (Status st = CheckUrl(s.url, path + ".url", ctx); !st.ok()) return st;
    if (s.token.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument(path + ".token: the token holds a line break");
    }
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return body.status();
    return std::unique_ptr<Sink>(new SplunkSink(std::move(s), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
