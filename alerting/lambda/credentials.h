// Where the Lambda sink's AWS credentials come from: the environment, a shared
// credentials file, or the EC2 instance role (IMDSv2).
#pragma once

#include <memory>
#include <string>

#include "http.h"
#include "lambda/sigv4.h"
#include "vigil/cep/options.h"
#include "vigil/cep/status.h"

namespace vigil::alerting {

// Thread safety: one thread at a time (the sink's worker).
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<AwsCredentials> Get() = 0;
};

std::unique_ptr<CredentialsProvider> StaticCredentials(AwsCredentials credentials);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN.
Result<AwsCredentials> CredentialsFromEnv(const cep::SecretSource& secrets);
// An INI file as ~/.aws/credentials: [profile] with aws_access_key_id,
// aws_secret_access_key and optional aws_session_token.
Result<AwsCredentials> CredentialsFromFile(const std::string& path, const std::string& profile,
                                           const cep::SecretSource& secrets);
// The instance role from the metadata service at `endpoint` (IMDSv2: a session token,
// then the role name, then its credentials), refreshed five minutes before they expire.
std::unique_ptr<CredentialsProvider> InstanceRoleCredentials(std::string endpoint,
                                                             HttpSettings http,
                                                             const cep::Clock* clock);

}  // namespace vigil::alerting
