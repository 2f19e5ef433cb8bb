// AWS Signature Version 4 against AWS's published test suite, and the lambda sink against
// a Lambda-compatible endpoint on loopback that checks every signature it receives.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "lambda/sigv4.h"
#include "support/net.h"
#include "support/sinks.h"
#include "support/temp_dir.h"

namespace vigil::alerting::testing {
namespace {

// ---- the AWS SigV4 test suite ----
// Vectors transcribed from AWS's "Signature Version 4 Test Suite" (aws-sig-v4-test-suite,
// published by Amazon Web Services; mirrored in bazelbuild/bazel at
// third_party/aws-sig-v4-test-suite/<name>/<name>.req and .authz). All use the suite's
// credentials, region us-east-1, service "service" and X-Amz-Date 20150830T123600Z.
// get-vanilla's .authz is not in that mirror; its signature is the one AWS's SigV4
// documentation gives for that request.
struct Vector {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  std::vector<std::pair<std::string, std::string>> headers;
  const char* body;
  const char* signed_headers;
  const char* signature;
};

const char* kSuiteToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/"
    "qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+"
    "xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::vector<Vector> Vectors() {
  const std::pair<std::string, std::string> host{"Host", "example.amazonaws.com"};
  const std::pair<std::string, std::string> date{"X-Amz-Date", "20150830T123600Z"};
  return {
      {"get-vanilla", "GET", "/", "", {host, date}, "", "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"post-vanilla", "POST", "/", "", {host, date}, "", "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", {host, date}, "",
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-key", "GET", "/", "Param1=value2&Param1=Value1", {host, date}, "",
       "host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", {host, date}, "", "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-unreserved", "GET", "/",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
       "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {host, date}, "", "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-utf8", "GET", "/\xe1\x88\xb4", "", {host, date}, "", "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-header-value-trim", "GET", "/", "",
       {host, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}, date}, "",
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-header-key-sort", "POST", "/", "", {host, {"My-Header1", "value1"}, date}, "",
       "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-x-www-form-urlencoded", "POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded"}, host, date}, "Param1=value1",
       "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-sts-header-before", "POST", "/", "", {host, date, {"X-Amz-Security-Token", kSuiteToken}}, "",
       "host;x-amz-date;x-amz-security-token", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
  };
}

TEST_CASE("SigV4 signs AWS's test-suite requests exactly as published") {
  AwsCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  for (const Vector& v : Vectors()) {
    INFO(v.name);
    SigV4Request r{v.method, v.path, v.query, v.headers, v.body};
    SigV4Result s = SignV4(r, creds, "us-east-1", "service");
    CHECK(s.authorization == std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                         "aws4_request, SignedHeaders=") +
                                 v.signed_headers + ", Signature=" + v.signature);
  }
}

TEST_CASE("SigV4: the canonical request of post-x-www-form-urlencoded is the suite's .creq") {
  AwsCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  std::vector<Vector> vectors = Vectors();
  const Vector& v = vectors[9];
  SigV4Result s = SignV4({v.method, v.path, v.query, v.headers, v.body}, creds, "us-east-1", "service");
  CHECK(s.canonical_request ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(AmzDate(1440938160 * cep::kSecond) == "20150830T123600Z");
}

// ---- an independent SigV4 check, as a Lambda endpoint would do it ----

std::string H(const std::string& key, const std::string& data) {
  unsigned char md[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}
std::string HexOf(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) o += {d[c >> 4], d[c & 15]};
  return o;
}
std::string ShaHex(const std::string& s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return HexOf(std::string(reinterpret_cast<char*>(md), len));
}
std::string Encode(const std::string& s) {
  std::string o;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') o.push_back(static_cast<char>(c));
    else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      o += buf;
    }
  }
  return o;
}

// Checks the Authorization of `q` for service lambda; returns "" if valid, else why not.
std::string VerifySigV4(const RecordedRequest& q, const std::map<std::string, std::string>& secrets,
                        const std::string& region) {
  std::string auth = q.Header("authorization");
  std::string prefix = "AWS4-HMAC-SHA256 Credential=";
  if (auth.rfind(prefix, 0) != 0) return "no SigV4 Authorization";
  size_t c_end = auth.find(", SignedHeaders=");
  size_t s_end = auth.find(", Signature=");
  if (c_end == std::string::npos || s_end == std::string::npos) return "malformed Authorization";
  std::string credential = auth.substr(prefix.size(), c_end - prefix.size());
  std::string signed_headers = auth.substr(c_end + 16, s_end - c_end - 16);
  std::string signature = auth.substr(s_end + 12);
  std::string akid = credential.substr(0, credential.find('/'));
  std::string scope = credential.substr(akid.size() + 1);
  auto secret = secrets.find(akid);
  if (secret == secrets.end()) return "unknown access key " + akid;
  std::string date = scope.substr(0, 8);
  if (scope != date + "/" + region + "/lambda/aws4_request") return "wrong scope " + scope;
  std::string amz_date = q.Header("x-amz-date");
  if (amz_date.substr(0, 8) != date) return "x-amz-date does not match the scope";
  std::string path = q.target.substr(0, q.target.find('?'));
  std::string query = q.target.find('?') == std::string::npos ? "" : q.target.substr(q.target.find('?') + 1);
  std::string canonical_headers;
  size_t pos = 0;
  while (pos <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', pos);
    if (semi == std::string::npos) semi = signed_headers.size();
    std::string name = signed_headers.substr(pos, semi - pos);
    canonical_headers += name + ":" + q.Header(name) + "\n";
    pos = semi + 1;
  }
  for (const char* required : {"host", "x-amz-date"}) {
    if (signed_headers.find(required) == std::string::npos) return std::string(required) + " is not signed";
  }
  std::string creq = q.method + "\n" + Encode(path) + "\n" + query + "\n" + canonical_headers + "\n" +
                     signed_headers + "\n" + ShaHex(q.body);
  std::string sts = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + ShaHex(creq);
  std::string k = H(H(H(H("AWS4" + secret->second, date), region), "lambda"), "aws4_request");
  if (HexOf(H(k, sts)) != signature) return "signature mismatch";
  return "";
}

struct LambdaEndpoint {
  std::map<std::string, std::string> secrets{{"AKIDVIGILTEST", "lambda-secret/key"}};
  std::string function_error;
  std::mutex mu;
  std::vector<std::string> verdicts;
  TestHttpServer server{[this](const RecordedRequest& q) {
    std::string why = VerifySigV4(q, secrets, "eu-west-1");
    {
      std::lock_guard<std::mutex> lock(mu);
      verdicts.push_back(why);
    }
    if (!why.empty()) return Reply{403, {}, R"({"message":")" + why + "\"}"};
    bool event = q.Header("x-amz-invocation-type") == "Event";
    Reply r{event ? 202 : 200, {}, event ? "" : R"({"ok":true})"};
    if (!function_error.empty()) r.headers.emplace_back("X-Amz-Function-Error", function_error);
    return r;
  }};
};

TEST_CASE("lambda: an Event invocation signed with SigV4, checked by the endpoint") {
  LambdaEndpoint ep;
  MapSecrets env({{"AWS_ACCESS_KEY_ID", "AKIDVIGILTEST"}, {"AWS_SECRET_ACCESS_KEY", "lambda-secret/key"},
                  {"AWS_SESSION_TOKEN", "session/token+1"}});
  auto sink = MakeSink(R"({"type":"lambda","function":"isolate-host","region":"eu-west-1","endpoint":")" +
                           ep.server.url() + R"("})",
                       env);
  Alert a = MakeTestAlert(1);
  DeliveryResult r = sink->Deliver(*ViewOf(a));
  INFO(r.error);
  REQUIRE(r.ok());
  auto q = ep.server.requests().at(0);
  CHECK(ep.verdicts.at(0) == "");
  CHECK(q.method == "POST");
  CHECK(q.target == "/2015-03-31/functions/isolate-host/invocations");
  CHECK(q.Header("x-amz-invocation-type") == "Event");
  CHECK(q.Header("x-amz-security-token") == "session/token+1");
  CHECK(q.Header("authorization").find("SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type;x-amz-security-token") !=
        std::string::npos);
  CHECK(q.body == a.json);
}

TEST_CASE("lambda: a wrong secret is refused by the endpoint and retried") {
  LambdaEndpoint ep;
  MapSecrets env({{"AWS_ACCESS_KEY_ID", "AKIDVIGILTEST"}, {"AWS_SECRET_ACCESS_KEY", "not-the-key"}});
  auto sink = MakeSink(R"({"type":"lambda","function":"f","region":"eu-west-1","endpoint":")" + ep.server.url() + R"("})", env);
  DeliveryResult r = sink->Deliver(*ViewOf(MakeTestAlert(1)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(ep.verdicts.at(0) == "signature mismatch");
}

TEST_CASE("lambda: RequestResponse, an ARN with a qualifier, and X-Amz-Function-Error as a failure") {
  LambdaEndpoint ep;
  vigil::testing::TempDir dir;
  std::string file = dir.Write("credentials",
                               "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n\n"
                               "[soc]\naws_access_key_id = AKIDVIGILTEST\naws_secret_access_key = lambda-secret/key\n");
  auto sink = MakeSink(R"({"type":"lambda","function":"arn:aws:lambda:eu-west-1:123456789012:function:isolate-host",)"
                       R"("qualifier":"prod","region":"eu-west-1","invocation":"RequestResponse","credentials":"file",)"
                       R"("credentials_file":")" + file + R"(","profile":"soc","endpoint":")" + ep.server.url() + R"("})");
  ep.function_error = "Unhandled";
  DeliveryResult r = sink->Deliver(*ViewOf(MakeTestAlert(1)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error.find("function error (Unhandled)") != std::string::npos);
  ep.function_error.clear();
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(1))).ok());
  auto q = ep.server.requests().at(1);
  CHECK(ep.verdicts.at(1) == "");
  CHECK(q.target ==
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aisolate-host/invocations"
        "?Qualifier=prod");
  CHECK(q.Header("x-amz-invocation-type") == "RequestResponse");
}

TEST_CASE("lambda: credentials from the instance role endpoint (IMDSv2)") {
  LambdaEndpoint ep;
  std::string token = "imds-session-token";
  TestHttpServer imds([&](const RecordedRequest& q) {
    if (q.method == "PUT" && q.target == "/latest/api/token") {
      if (q.Header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return Reply{400, {}, ""};
      return Reply{200, {}, token};
    }
    if (q.Header("x-aws-ec2-metadata-token") != token) return Reply{401, {}, ""};
    if (q.target == "/latest/meta-data/iam/security-credentials/") return Reply{200, {}, "vigil-role"};
    if (q.target == "/latest/meta-data/iam/security-credentials/vigil-role") {
      return Reply{200, {}, R"({"Code":"Success","AccessKeyId":"AKIDVIGILTEST","SecretAccessKey":"lambda-secret/key",)"
                            R"("Token":"role-session","Expiration":"2099-01-01T00:00:00Z"})"};
    }
    return Reply{404, {}, ""};
  });
  auto sink = MakeSink(R"({"type":"lambda","function":"f","region":"eu-west-1","credentials":"instance",)"
                       R"("instance_endpoint":")" + imds.url() + R"(","endpoint":")" + ep.server.url() + R"("})");
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(1))).ok());
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(2))).ok());
  CHECK(ep.verdicts == std::vector<std::string>{"", ""});
  CHECK(ep.server.requests().at(0).Header("x-amz-security-token") == "role-session");
  CHECK(imds.request_count() == 3);  // cached until shortly before it expires
}

TEST_CASE("lambda: missing credentials are a startup error naming the option") {
  auto r = TryMakeSink(R"({"type":"lambda","function":"f","region":"eu-west-1"})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "sinks.test.credentials: env: environment variable AWS_ACCESS_KEY_ID is not set");
}

}  // namespace
}  // namespace vigil::alerting::testing
