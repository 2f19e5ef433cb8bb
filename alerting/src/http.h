// HTTP for the HTTP sinks (webhook, splunk_hec, pagerduty, slack, lambda): libcurl, one
// easy handle per sink kept across requests, so the connection (and TLS session) is reused.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vigil/alerting/options.h"
#include "vigil/alerting/sink.h"
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

// Adds `timeout`, `tls.ca_file`, `tls.verify`, `tls.cert_file`, `tls.key_file` to a table.
template <typename S>
void AddHttpOptions(Options<S>& o, HttpSettings S::*http) {
  o.Add({"timeout", OptionType::kDuration, "10s", false, false, "", "Per-request timeout."},
        [http](S& s, const OptionValue& v) { (s.*http).timeout = v.number; });
  o.Add({"tls.ca_file", OptionType::kString, "", false, false, "",
         "PEM file of CAs to trust instead of the system's."},
        [http](S& s, const OptionValue& v) { (s.*http).tls.ca_file = v.text; });
  o.Add({"tls.verify", OptionType::kBool, "true", false, false, "",
         "Verify the server certificate and host name."},
        [http](S& s, const OptionValue& v) { (s.*http).tls.verify = v.flag; });
  o.Add({"tls.cert_file", OptionType::kString, "", false, false, "",
         "Client certificate (PEM) for mutual TLS."},
        [http](S& s, const OptionValue& v) { (s.*http).tls.cert_file = v.text; });
  o.Add({"tls.key_file", OptionType::kString, "", false, false, "",
         "Private key (PEM) of the client certificate."},
        [http](S& s, const OptionValue& v) { (s.*http).tls.key_file = v.text; });
}

// Checks a base URL: http(s)://host..., with a warning for plain http.
Status CheckUrl(const std::string& url, const std::string& path, const SinkContext& context);
// base + suffix without a doubled or missing slash.
std::string JoinUrl(const std::string& base, const std::string& suffix);
void Warn(const SinkContext& context, const std::string& message);

}  // namespace vigil::alerting
