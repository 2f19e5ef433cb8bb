// lambda: AWS Lambda Invoke (POST <endpoint>/2015-03-31/functions/<function>/invocations),
// one alert per invocation, signed with Signature Version 4.
#include "formats/formats.h"
#include "http.h"
#include "lambda/credentials.h"
#include "lambda/sigv4.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct LambdaSettings {
  std::string function;
  std::string region;
  std::string qualifier;
  std::string invocation = "Event";
  std::string credentials = "env";
  std::string credentials_file;
  std::string profile = "default";
  std::string instance_endpoint = "http://169.254.169.254";
  std::string endpoint;
  JsonBodySettings body;
  HttpSettings http;
};

const std::vector<cep::Option<LambdaSettings>>& LambdaOptions() {
  static const std::vector<cep::Option<LambdaSettings>> table = Concat(
      std::vector<cep::Option<LambdaSettings>>{
          {"function", cep::OptionType::kString, "", true, "The function's name, name:alias or ARN.", {},
           cep::Member(&LambdaSettings::function)},
          {"region", cep::OptionType::kString, "", true, "The AWS region (eu-west-1).", {},
           cep::Member(&LambdaSettings::region)},
          {"qualifier", cep::OptionType::kString, "", false, "A version or alias to invoke.", {},
           cep::Member(&LambdaSettings::qualifier)},
          {"invocation", cep::OptionType::kEnum, "Event", false,
           "Event: queued, answered 202. RequestResponse: waits for the function; an error it raises "
           "(X-Amz-Function-Error) is a failed delivery.",
           {"Event", "RequestResponse"}, cep::Member(&LambdaSettings::invocation)},
          {"credentials", cep::OptionType::kEnum, "env", false,
           "env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. file: a shared credentials "
           "file. instance: the EC2 instance role (IMDSv2).",
           {"env", "file", "instance"}, cep::Member(&LambdaSettings::credentials)},
          {"credentials_file", cep::OptionType::kString, "", false,
           "For credentials: file (default ~/.aws/credentials).", {}, cep::Member(&LambdaSettings::credentials_file)},
          {"profile", cep::OptionType::kString, "default", false, "The profile in that file.", {},
           cep::Member(&LambdaSettings::profile)},
          {"instance_endpoint", cep::OptionType::kString, "http://169.254.169.254", false,
           "The instance metadata service (for credentials: instance).", {},
           cep::Member(&LambdaSettings::instance_endpoint)},
          {"endpoint", cep::OptionType::kString, "", false,
           "Overrides https://lambda.<region>.amazonaws.com (VPC endpoints, tests).", {},
           cep::Member(&LambdaSettings::endpoint)},
      },
      cep::PartOptions(&LambdaSettings::body, JsonBodyOptions()),
      cep::PartOptions(&LambdaSettings::http, HttpOptions()));
  return table;
}

// "https://host:8443/base" -> host "host:8443" and path "/base".
void SplitUrl(const std::string& url, std::string* host, std::string* path) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t slash = url.find('/', start);
  *host = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  *path = slash == std::string::npos ? "" : url.substr(slash);
  while (!path->empty() && path->back() == '/') path->pop_back();
}

class LambdaSink final : public Sink {
 public:
  LambdaSink(LambdaSettings s, JsonBody body, std::unique_ptr<CredentialsProvider> creds, SinkContext context)
      : s_(std::move(s)), body_(std::move(body)), creds_(std::move(creds)), context_(std::move(context)),
        client_(s_.http) {
    std::string base = s_.endpoint.empty() ? "https://lambda." + s_.region + ".amazonaws.com" : s_.endpoint;
    std::string base_path;
    SplitUrl(base, &host_, &base_path);
    scheme_host_ = base.substr(0, base.find("://") + 3) + host_;
    path_ = base_path + "/2015-03-31/functions/" + UriEncode(s_.function, false) + "/invocations";
    if (!s_.qualifier.empty()) query_ = "Qualifier=" + UriEncode(s_.qualifier, false);
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    auto creds = creds_->Get();
    if (!creds.ok()) return DeliveryResult::Retry("credentials: " + creds.status().message());
    SigV4Request sr;
    sr.method = "POST";
    sr.path = path_;
    sr.query = query_;
    sr.body = body_.Render(alert, context_);
    sr.headers = {{"Host", host_},
                  {"Content-Type", "application/json"},
                  {"X-Amz-Date", AmzDate(ClockOf(context_)->Now())},
                  {"X-Amz-Invocation-Type", s_.invocation}};
    if (!creds->session_token.empty()) sr.headers.emplace_back("X-Amz-Security-Token", creds->session_token);
    SigV4Result sig = SignV4(sr, *creds, s_.region, "lambda");
    HttpRequest req;
    req.url = scheme_host_ + path_ + (query_.empty() ? "" : "?" + query_);
    req.headers = sr.headers;
    req.headers.emplace_back("Authorization", sig.authorization);
    req.body = std::move(sr.body);
    Result<HttpResponse> r = client_.Send(req);
    DeliveryResult d = ClassifyHttp(r);
    if (d.ok()) {
      std::string err = r->Header("x-amz-function-error");
      if (!err.empty()) {
        return DeliveryResult::Retry("function error (" + err + "): " + r->body.substr(0, 200));
      }
    }
    return d;
  }

 private:
  LambdaSettings s_;
  JsonBody body_;
  std::unique_ptr<CredentialsProvider> creds_;
  SinkContext context_;
  HttpClient client_;
  std::string host_, scheme_host_, path_, query_;
};

}  // namespace

SinkType LambdaSinkType() {
  SinkType t;
  t.name = "lambda";
  t.summary =
      "Invokes an AWS Lambda function once per alert: `POST <endpoint>/2015-03-31/functions/"
      "<function>/invocations` with the alert as the payload, `X-Amz-Invocation-Type: Event` "
      "(or `RequestResponse`), signed with AWS Signature Version 4 (service `lambda`). A "
      "function error (`X-Amz-Function-Error`) counts as a failed delivery and is retried.";
  t.options_markdown = cep::OptionsMarkdown(LambdaOptions());
  t.example =
      "sinks:\n"
      "  responder:\n"
      "    type: lambda\n"
      "    function: isolate-host\n"
      "    region: eu-west-1\n"
      "    invocation: Event\n"
      "    credentials: env\n"
      "    min_severity: critical\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    LambdaSettings s;
    if (Status st = cep::ApplyOptions(LambdaOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    if (!s.endpoint.empty()) {
      if (Status st = CheckUrl(s.endpoint, c.Find("endpoint"), path + ".endpoint", ctx); !st.ok()) return st;
    }
    const cep::ConfigNode* at = c.Find("credentials");
    std::unique_ptr<CredentialsProvider> creds;
    if (s.credentials == "env") {
      auto e = CredentialsFromEnv(secrets);
      if (!e.ok()) return cep::OptionError(at, path + ".credentials", "env: " + e.status().message());
      creds = StaticCredentials(*e);
    } else if (s.credentials == "file") {
      std::string file = s.credentials_file;
      if (file.empty()) {
        std::string home;
        file = (secrets.getenv("HOME", &home) ? home : std::string(".")) + "/.aws/credentials";
      } else {
        at = c.Find("credentials_file");
      }
      auto f = CredentialsFromFile(file, s.profile, secrets);
      if (!f.ok()) return cep::OptionError(at, path + ".credentials", "file: " + f.status().message());
      creds = StaticCredentials(*f);
    } else {
      HttpSettings http;
      http.timeout = 2 * cep::kSecond;
      creds = InstanceRoleCredentials(s.instance_endpoint, http, ClockOf(ctx));
    }
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new LambdaSink(std::move(s), std::move(body).value(), std::move(creds), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
