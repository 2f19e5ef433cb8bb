#include "vigil/alerting/alert.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <cstring>

#include "vigil/cep/key.h"
#include "vigil/cep/value.h"

namespace vigil::alerting {

namespace {

void PutU64(uint64_t v, std::string* out) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

bool IsJsonObject(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return !parser.parse(simdjson::padded_string(text)).get(doc) && doc.is_object();
}

// `s` as a JSON string. JSON text must be UTF-8: bytes that are not part of a valid UTF-8
// sequence (a Latin-1 syslog line, a truncated message) become U+FFFD.
void AppendJsonText(std::string_view s, std::string* out) {
  if (simdjson::validate_utf8(s.data(), s.size())) {
    cep::AppendJsonString(s, out);
    return;
  }
  std::string valid;
  valid.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n > 0 && i + n <= s.size() && simdjson::validate_utf8(s.data() + i, n)) {
      valid.append(s, i, n);
      i += n;
    } else {
      valid.append("\xef\xbf\xbd");
      ++i;
    }
  }
  cep::AppendJsonString(valid, out);
}

// Appends the event as received when its raw bytes are one JSON object, else wrapped as
// {"message": "<raw text>"}. Line breaks between tokens are removed: an alert is one line.
void AppendEventJson(const cep::Event& event, std::string* out) {
  const std::string& raw = event.raw();
  if (event.raw_is_json && IsJsonObject(raw)) {
    if (raw.find_first_of("\r\n") == std::string::npos) {
      out->append(raw);
      return;
    }
    size_t start = out->size(), len = 0;
    out->resize(start + raw.size());
    if (!simdjson::minify(raw.data(), raw.size(), out->data() + start, len)) {
      out->resize(start + len);
      return;
    }
    out->resize(start);
  }
  out->append("{\"message\":");
  AppendJsonText(raw, out);
  out->push_back('}');
}

}  // namespace

std::string AlertId(const std::string& rule_id, const cep::Match& match) {
  std::string material;
  material.reserve(64 + match.key.size() + match.events.size() * 24);
  material.append(rule_id);
  material.push_back('\0');
  PutU64(match.key.size(), &material);
  material.append(match.key);
  PutU64(static_cast<uint64_t>(match.time), &material);
  for (const cep::MatchedEvent& m : match.events) {
    material.append(m.step);
    material.push_back('\0');
    PutU64(m.event->identity, &material);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned i = 0; i < 16; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 15]);
  }
  return id;
}

bool IsValidJson(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return !parser.parse(simdjson::padded_string(text)).get(doc);
}

Alert AlertBuilder::Build(const cep::Match& match, const RuleInfo& rule,
                          std::string summary) const {
  Alert a;
  a.id = AlertId(rule.id, match);
  a.rule_id = rule.id;
  a.severity = rule.severity;
  a.time = match.time;
  a.detected_at = clock_->Now();
  cep::AppendKeyJson(match.key, rule.key_names, &a.key_json);
  a.summary = std::move(summary);

  std::string& j = a.json;
  j.reserve(512);
  j += "{\"id\":\"";
  j += a.id;
  j += "\",\"rule\":{\"id\":";
  AppendJsonText(rule.id, &j);
  j += ",\"title\":";
  AppendJsonText(rule.title, &j);
  j += ",\"severity\":";
  AppendJsonText(rule.severity, &j);
  j += ",\"tags\":[";
  for (size_t i = 0; i < rule.tags.size(); ++i) {
    if (i) j.push_back(',');
    AppendJsonText(rule.tags[i], &j);
  }
  j += "]},\"key\":";
  j += a.key_json;
  j += ",\"time\":\"";
  cep::AppendRfc3339Millis(a.time, &j);
  j += "\",\"detected_at\":\"";
  cep::AppendRfc3339Millis(a.detected_at, &j);
  j += "\",\"summary\":";
  AppendJsonText(a.summary, &j);
  j += ",\"matches\":[";
  for (size_t i = 0; i < match.events.size(); ++i) {
    const cep::MatchedEvent& m = match.events[i];
    a.event_identities.push_back(m.event->identity);
    if (i) j.push_back(',');
    j += "{\"step\":";
    AppendJsonText(m.step, &j);
    j += ",\"event\":";
    AppendEventJson(*m.event, &j);
    j += "}";
  }
  j += "]";
  if (match.value) {
    j += ",\"value\":";
    cep::AppendDouble(*match.value, &j);
  }
  j += "}";
  return a;
}

}  // namespace vigil::alerting
