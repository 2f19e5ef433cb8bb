// webhook: POST the alert (or its ECS/OCSF form, or a template) to a URL, signed with
// HMAC-SHA256 when a secret is configured (GitHub-compatible X-Vigil-Signature).
#include "crypto.h"
#include "formats/formats.h"
#include "http.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct WebhookSettings {
  std::string url;
  std::string hmac_secret;
  Headers headers;
  JsonBodySettings body;
  HttpSettings http;
};

const std::vector<cep::Option<WebhookSettings>>& WebhookOptions() {
  static const std::vector<cep::Option<WebhookSettings>> table = Concat(
      std::vector<cep::Option<WebhookSettings>>{
          {"url", cep::OptionType::kString, "", true, "Where alerts are POSTed.", {}, cep::Member(&WebhookSettings::url)},
          {"hmac_secret", cep::OptionType::kSecret, "", false,
           "Signs each body: X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, body)> and X-Vigil-Timestamp "
           "(unix seconds).",
           {}, SecretMember(&WebhookSettings::hmac_secret)},
          {"headers", cep::OptionType::kStringMap, "", false,
           "Extra request headers (not secrets: put those behind a proxy or use the signature).", {},
           cep::Member(&WebhookSettings::headers)},
      },
      cep::PartOptions(&WebhookSettings::body, JsonBodyOptions()),
      cep::PartOptions(&WebhookSettings::http, HttpOptions()));
  return table;
}

class WebhookSink final : public Sink {
 public:
  WebhookSink(WebhookSettings s, JsonBody body, SinkContext context)
      : s_(std::move(s)), body_(std::move(body)), context_(std::move(context)), client_(s_.http) {}

  DeliveryResult Deliver(const AlertView& alert) override {
    HttpRequest req;
    req.url = s_.url;
    req.body = body_.Render(alert, context_);
    req.headers = {{"Content-Type", "application/json"},
                   {"User-Agent", "vigil/" + context_.version},
                   {"Idempotency-Key", alert.id()}};
    if (!s_.hmac_secret.empty()) {
      req.headers.emplace_back("X-Vigil-Signature",
                               "sha256=" + Hex(HmacSha256(s_.hmac_secret, req.body)));
      req.headers.emplace_back("X-Vigil-Timestamp",
                               std::to_string(ClockOf(context_)->Now() / cep::kSecond));
    }
    for (const auto& h : s_.headers) req.headers.push_back(h);
    return ClassifyHttp(client_.Send(req));
  }

 private:
  WebhookSettings s_;
  JsonBody body_;
  SinkContext context_;
  HttpClient client_;
};

}  // namespace

SinkType WebhookSinkType() {
  SinkType t;
  t.name = "webhook";
  t.summary =
      "POSTs each alert as JSON (`Content-Type: application/json`) with `Idempotency-Key: "
      "<alert id>`. With `hmac_secret_env`/`hmac_secret_file`, also `X-Vigil-Signature: "
      "sha256=<hex HMAC-SHA256(secret, body)>` (GitHub's scheme) and `X-Vigil-Timestamp` (unix "
      "seconds). 2xx is delivered; 400, 413 and 422 are rejected for good (dead letter); "
      "anything else is retried, honouring `Retry-After`.";
  t.options_markdown = cep::OptionsMarkdown(WebhookOptions());
  t.example =
      "sinks:\n"
      "  soc-webhook:\n"
      "    type: webhook\n"
      "    url: https://soc.example/hooks/vigil\n"
      "    hmac_secret_env: VIGIL_HMAC\n"
      "    headers: {X-Tenant: plant-7}\n"
      "    format: ecs\n"
      "    default: true\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    WebhookSettings s;
    if (Status st = cep::ApplyOptions(WebhookOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    if (Status st = CheckUrl(s.url, c.Find("url"), path + ".url", ctx); !st.ok()) return st;
    if (Status st = CheckHeaders(s.headers, c.Find("headers"), path + ".headers"); !st.ok()) return st;
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new WebhookSink(std::move(s), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
