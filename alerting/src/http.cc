#include "http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "sink_types.h"

namespace vigil::alerting {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  r->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    r->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  r->headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

long Millis(cep::Duration d) { return static_cast<long>(std::max<cep::Duration>(1, d / cep::kMillisecond)); }

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Unavailable("libcurl could not be initialised");
  // Reset clears the options but keeps the connection cache: the next request to the
  // same host reuses the open connection.
  curl_easy_reset(c);
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, Millis(settings_.timeout));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, Millis(std::min(settings_.connect_timeout, settings_.timeout)));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, settings_.tls.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, settings_.tls.verify ? 2L : 0L);
  if (!settings_.tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.tls.ca_file.c_str());
  if (!settings_.tls.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, settings_.tls.cert_file.c_str());
  }
  if (!settings_.tls.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, settings_.tls.key_file.c_str());
  if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // No "Expect: 100-continue" round trip for larger bodies.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  long opened = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &opened);
  connections_ += opened;
  if (rc != CURLE_OK) {
    std::string what = error[0] ? error : curl_easy_strerror(rc);
    return Status::Unavailable(request.method + " " + request.url + ": " + what);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

DeliveryResult ClassifyHttp(const Result<HttpResponse>& r) {
  if (!r.ok()) return DeliveryResult::Retry(r.status().message());
  long s = r->status;
  if (s >= 200 && s < 300) return DeliveryResult::Delivered();
  std::string body = r->body.substr(0, 200);
  std::string what = "HTTP " + std::to_string(s) + (body.empty() ? "" : ": " + body);
  if (s == 400 || s == 413 || s == 422) return DeliveryResult::Reject(what);
  cep::Duration retry_after = 0;
  std::string ra = r->Header("retry-after");
  if (!ra.empty() && std::all_of(ra.begin(), ra.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      ra.size() < 10) {
    retry_after = std::stoll(ra) * cep::kSecond;
  }
  return DeliveryResult::Retry(what, retry_after);
}

void Warn(const SinkContext& context, const std::string& message) {
  if (context.warn) context.warn(message);
  else std::cerr << "vigil: warning: " << message << "\n";
}

Status CheckUrl(const std::string& url, const cep::ConfigNode* at, const std::string& path,
                const SinkContext& context, bool secret) {
  std::string shown = secret ? "the URL" : "'" + url + "'";
  if (url.rfind("https://", 0) == 0 && url.size() > 8) return Status::Ok();
  if (url.rfind("http://", 0) == 0 && url.size() > 7) {
    Warn(context, cep::PositionPrefix(at) + path + ": " + shown + " is plain http: alerts travel unencrypted");
    return Status::Ok();
  }
  return cep::OptionError(at, path, shown + " is not an http:// or https:// URL");
}

namespace {

const std::vector<cep::Option<TlsSettings>>& TlsOptions() {
  static const std::vector<cep::Option<TlsSettings>> table = {
      {"ca_file", cep::OptionType::kString, "", false, "PEM file of CAs to trust instead of the system's.", {},
       cep::Member(&TlsSettings::ca_file)},
      {"verify", cep::OptionType::kBool, "true", false, "Verify the server certificate and host name.", {},
       cep::Member(&TlsSettings::verify)},
      {"cert_file", cep::OptionType::kString, "", false, "Client certificate (PEM) for mutual TLS.", {},
       cep::Member(&TlsSettings::cert_file)},
      {"key_file", cep::OptionType::kString, "", false, "Private key (PEM) of the client certificate.", {},
       cep::Member(&TlsSettings::key_file)},
  };
  return table;
}

}  // namespace

const std::vector<cep::Option<HttpSettings>>& HttpOptions() {
  static const std::vector<cep::Option<HttpSettings>> table = Concat(
      std::vector<cep::Option<HttpSettings>>{
          {"timeout", cep::OptionType::kDuration, "10s", false, "Per-request timeout.", {},
           cep::Member(&HttpSettings::timeout)},
      },
      cep::PartOptions(&HttpSettings::tls, TlsOptions(), "tls."));
  return table;
}

std::string JoinUrl(const std::string& base, const std::string& suffix) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + suffix;
}

}  // namespace vigil::alerting
