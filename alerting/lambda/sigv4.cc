#include "lambda/sigv4.h"

#include <algorithm>
#include <cctype>

#include "crypto.h"

namespace vigil::alerting {

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Trims and collapses runs of spaces into one, as canonical header values require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string AmzDate(cep::Timestamp t) {
  std::string iso = cep::FormatRfc3339Millis(t);  // 2015-08-30T12:36:00.000Z
  std::string out;
  for (size_t i = 0; i < 19; ++i) {
    if (iso[i] != '-' && iso[i] != ':') out.push_back(iso[i]);
  }
  return out + "Z";
}

SigV4Result SignV4(const SigV4Request& r, const AwsCredentials& creds, const std::string& region,
                   const std::string& service) {
  // Query: each parameter decoded then encoded, sorted by name then value.
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start < r.query.size()) {
    size_t amp = r.query.find('&', start);
    if (amp == std::string::npos) amp = r.query.size();
    std::string_view p = std::string_view(r.query).substr(start, amp - start);
    if (!p.empty()) {
      size_t eq = p.find('=');
      std::string k(eq == std::string_view::npos ? p : p.substr(0, eq));
      std::string v(eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1));
      params.emplace_back(UriEncode(UriDecode(k), false), UriEncode(UriDecode(v), false));
    }
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string query;
  for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + k + "=" + v;

  // Headers: lower-case names, sorted; values trimmed; repeated names joined with ','.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string amz_date;
  for (const auto& [k, v] : r.headers) {
    std::string name = Lower(k);
    std::string value = CanonicalValue(v);
    if (name == "x-amz-date") amz_date = value;
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
    if (it != headers.end()) it->second += "," + value;
    else headers.emplace_back(name, value);
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }

  SigV4Result out;
  std::string path = r.path.empty() ? "/" : r.path;
  out.canonical_request = r.method + "\n" + UriEncode(path, true) + "\n" + query + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + Hex(Sha256(r.body));
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                       Hex(Sha256(out.canonical_request));
  std::string k = HmacSha256("AWS4" + creds.secret_access_key, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  out.signature = Hex(HmacSha256(k, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace vigil::alerting
