#include "lambda/credentials.h"

#include <simdjson.h>

#include <sstream>

namespace vigil::alerting {

namespace {

class Static final : public CredentialsProvider {
 public:
  explicit Static(AwsCredentials c) : c_(std::move(c)) {}
  Result<AwsCredentials> Get() override { return c_; }

 private:
  AwsCredentials c_;
};

std::string Trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r");
  size_t b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

class InstanceRole final : public CredentialsProvider {
 public:
  InstanceRole(std::string endpoint, HttpSettings http, const cep::Clock* clock)
      : endpoint_(std::move(endpoint)), client_(http), clock_(clock) {}

  Result<AwsCredentials> Get() override {
    if (!cached_.access_key_id.empty() &&
        (cached_.expiration == 0 || clock_->Now() < cached_.expiration - 5 * cep::kMinute)) {
      return cached_;
    }
    HttpRequest token_req;
    token_req.method = "PUT";
    token_req.url = JoinUrl(endpoint_, "/latest/api/token");
    token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    auto token = client_.Send(token_req);
    if (!token.ok()) return token.status();
    if (token->status != 200) return Status::Unavailable("instance metadata token: HTTP " + std::to_string(token->status));
    HttpRequest role_req;
    role_req.method = "GET";
    role_req.url = JoinUrl(endpoint_, "/latest/meta-data/iam/security-credentials/");
    role_req.headers = {{"X-aws-ec2-metadata-token", Trim(token->body)}};
    auto role = client_.Send(role_req);
    if (!role.ok()) return role.status();
    std::string name = Trim(role->body.substr(0, role->body.find('\n')));
    if (role->status != 200 || name.empty()) {
      return Status::Unavailable("instance metadata: no IAM role (HTTP " + std::to_string(role->status) + ")");
    }
    HttpRequest creds_req = role_req;
    creds_req.url += name;
    auto creds = client_.Send(creds_req);
    if (!creds.ok()) return creds.status();
    if (creds->status != 200) return Status::Unavailable("instance role credentials: HTTP " + std::to_string(creds->status));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view id, secret, tok, exp;
    if (parser.parse(simdjson::padded_string(creds->body)).get(doc) || doc["AccessKeyId"].get(id) ||
        doc["SecretAccessKey"].get(secret)) {
      return Status::Unavailable("instance role credentials: unexpected answer");
    }
    AwsCredentials c;
    c.access_key_id = std::string(id);
    c.secret_access_key = std::string(secret);
    if (!doc["Token"].get(tok)) c.session_token = std::string(tok);
    if (!doc["Expiration"].get(exp)) cep::ParseRfc3339(exp, &c.expiration);
    cached_ = c;
    return c;
  }

 private:
  std::string endpoint_;
  HttpClient client_;
  const cep::Clock* clock_;
  AwsCredentials cached_;
};

}  // namespace

std::unique_ptr<CredentialsProvider> StaticCredentials(AwsCredentials credentials) {
  return std::make_unique<Static>(std::move(credentials));
}

Result<AwsCredentials> CredentialsFromEnv(const cep::SecretSource& secrets) {
  AwsCredentials c;
  if (!secrets.getenv("AWS_ACCESS_KEY_ID", &c.access_key_id)) {
    return Status::NotFound("environment variable AWS_ACCESS_KEY_ID is not set");
  }
  if (!secrets.getenv("AWS_SECRET_ACCESS_KEY", &c.secret_access_key)) {
    return Status::NotFound("environment variable AWS_SECRET_ACCESS_KEY is not set");
  }
  secrets.getenv("AWS_SESSION_TOKEN", &c.session_token);
  return c;
}

Result<AwsCredentials> CredentialsFromFile(const std::string& path, const std::string& profile,
                                           const cep::SecretSource& secrets) {
  std::string text;
  if (Status s = secrets.read_file(path, &text); !s.ok()) return s;
  std::istringstream in(text);
  std::string line, section;
  AwsCredentials c;
  bool found = false;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = Trim(section.substr(8));
      found = found || section == profile;
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Trim(line.substr(0, eq)), v = Trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.access_key_id = v;
    else if (k == "aws_secret_access_key") c.secret_access_key = v;
    else if (k == "aws_session_token") c.session_token = v;
  }
  if (!found) return Status::NotFound(path + ": no profile [" + profile + "]");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::NotFound(path + ": profile [" + profile +
                            "] lacks aws_access_key_id or aws_secret_access_key");
  }
  return c;
}

std::unique_ptr<CredentialsProvider> InstanceRoleCredentials(std::string endpoint,
                                                             HttpSettings http,
                                                             const cep::Clock* clock) {
  return std::make_unique<InstanceRole>(std::move(endpoint), http, clock);
}

}  // namespace vigil::alerting
