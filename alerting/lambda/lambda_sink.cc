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

const Options<LambdaSettings>& LambdaOptions() {
  static const Options<LambdaSettings> table = [] {
    Options<LambdaSettings> o;
    o.Add({"function", OptionType::kString, "", true, false, "",
           "The function's name, name:alias or ARN."},
          Set(&LambdaSettings::function));
    o.Add({"region", OptionType::kString, "", true, false, "", "The AWS region (eu-west-1)."},
          Set(&LambdaSettings::region));
    o.Add({"qualifier", OptionType::kString, "", false, false, "", "A version or alias to invoke."},
          Set(&LambdaSettings::qualifier));
    o.Add({"invocation", OptionType::kEnum, "Event", false, false, "Event|RequestResponse",
           "Event: queued, answered 202. RequestResponse: waits for the function; an error it "
           "raises (X-Amz-Function-Error) is a failed delivery."},
          Set(&LambdaSettings::invocation));
    o.Add({"credentials", OptionType::kEnum, "env", false, false, "env|file|instance",
           "env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. file: a shared "
           "credentials file. instance: the EC2 instance role (IMDSv2)."},
          Set(&LambdaSettings::credentials));
    o.Add({"credentials_file", OptionType::kString, "", false, false, "",
           "For credentials: file (default ~/.aws/credentials)."},
          Set(&LambdaSettings::credentials_file));
    o.Add({"profile", OptionType::kString, "default", false, false, "", "The profile in that file."},
          Set(&LambdaSettings::profile));
    o.Add({"instance_endpoint", OptionType::kString, "http://169.254.169.254", false, false, "",
           "The instance metadata service (for credentials: instance)."},
          Set(&LambdaSettings::instance_endpoint));
    o.Add({"endpoint", OptionType::kString, "", false, false, "",
           "Overrides https://lambda.<region>.amazonaws.com (VPC endpoints, tests)."},
          Set(&LambdaSettings::endpoint));
    AddJsonBodyOptions(o, &LambdaSettings::body);
    AddHttpOptions(o, &LambdaSettings::http);
    return o;
  }();
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
  t.options = &LambdaOptions();
  t.example =
      "sinks:\n"
      "  responder:\n"
      "    type: lambda\n"
      "    function: isolate-host\n"
      "    region: eu-west-1\n"
      "    invocation: Event\n"
      "    credentials: env\n"
      "    min_severity: critical\n";
  t.create = [](const ConfigValue& c, const std::string& path, const SinkContext& ctx,
                const SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    LambdaSettings s;
    if (Status st = LambdaOptions().Apply(c, path, secrets, &s, CommonSinkKeys()); !st.ok()) return st;
    if (!s.endpoint.empty()) {
      if (Status st = CheckUrl(s.endpoint, path + ".endpoint", ctx); !st.ok()) return st;
    }
    std::unique_ptr<CredentialsProvider> creds;
    if (s.credentials == "env") {
      auto e = CredentialsFromEnv(secrets);
      if (!e.ok()) return Status::InvalidArgument(path + ".credentials: env: " + e.status().message());
      creds = StaticCredentials(*e);
    } else if (s.credentials == "file") {
      std::string file = s.credentials_file;
      if (file.empty()) {
        auto home = secrets.Env("HOME");
        file = (home.ok() ? *home : std::string(".")) + "/.aws/credentials";
      }
      auto f = CredentialsFromFile(file, s.profile, secrets);
      if (!f.ok()) return Status::InvalidArgument(path + ".credentials: file: " + f.status().message());
      creds = StaticCredentials(*f);
    } else {
      HttpSettings http;
      http.timeout = 2 * cep::kSecond;
      creds = InstanceRoleCredentials(s.instance_endpoint, http, ClockOf(ctx));
    }
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return body.status();
    return std::unique_ptr<Sink>(new LambdaSink(std::move(s), std::move(body).value(), std::move(creds), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
