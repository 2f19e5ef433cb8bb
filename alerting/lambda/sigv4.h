// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html),
// checked against AWS's published test suite (tests/alerting/sigv4_test.cc).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vigil/cep/time.h"

namespace vigil::alerting {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;       // temporary credentials only
  cep::Timestamp expiration = 0;   // 0: does not expire
};

struct SigV4Request {
  std::string method;
  std::string path;   // as sent on the wire; it is URI-encoded once more (non-S3 services)
  std::string query;  // as sent, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // all are signed; must hold host and x-amz-date
  std::string body;
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;  // the Authorization header value
};

// Signs `request` for `region` and `service`; the time is the request's x-amz-date.
SigV4Result SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                   const std::string& region, const std::string& service);

// "20150830T123600Z".
std::string AmzDate(cep::Timestamp t);
// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (and '/' if keep_slash).
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace vigil::alerting
