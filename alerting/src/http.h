// HTTP for the HTTP sinks (webhook, splunk_hec, pagerduty, slack, lambda): libcurl, one
// easy handle per sink kept across requests, so the connection (and TLS session) is reused.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vigil/alerting/sink.h"
#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TlsSettings {
  std::string ca_file;     // trust these CAs instead of the system's
  bool verify = true;      // verify the server's certificate and name
  std::string cert_file;   // client certificate (mTLS)
  std::string key_file;    // its private key
};

struct HttpSettings {
  cep::Duration timeout = 10 * cep::kSecond;
  cep::Duration connect_timeout = 5 * cep::kSecond;
  TlsSettings tls;
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  // The first value of header `name` (lower case), or empty.
  std::string Header(const std::string& name) const;
};

// Thread safety: one thread at a time (each sink's worker owns its client).
class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends and waits for the response. A transport failure (refused, timeout, TLS) is a
  // non-OK status (kUnavailable) saying what happened.
  Result<HttpResponse> Send(const HttpRequest& request);
  // Connections opened so far (for the benchmark and connection-reuse tests).
  long connections() const { return connections_; }

 private:
  HttpSettings settings_;
  void* curl_ = nullptr;
  long connections_ = 0;
};

// 2xx: delivered. 408, 425, 429, 5xx and transport errors: retry (Retry-After honoured).
// 400, 413, 422: the receiver will never take this alert: reject. Other 4xx (401, 403,
// 404...): retry, since they are usually a configuration the operator will fix.
DeliveryResult ClassifyHttp(const Result<HttpResponse>& response);

// `timeout` and `tls.ca_file`, `tls.verify`, `tls.cert_file`, `tls.key_file`: a part of
// the HTTP sinks' tables (cep::PartOptions).
const std::vector<cep::Option<HttpSettings>>& HttpOptions();

// Checks a base URL (option `at`, at `path`): http(s)://host..., with a warning for plain
// http. A secret URL (Slack's carries its token) is not repeated in the message.
Status CheckUrl(const std::string& url, const cep::ConfigNode* at, const std::string& path,
                const SinkContext& context, bool secret = false);
// base + suffix without a doubled or missing slash.
std::string JoinUrl(const std::string& base, const std::string& suffix);
void Warn(const SinkContext& context, const std::string& message);

}  // namespace vigil::alerting
