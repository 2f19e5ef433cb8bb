// What sinks send: the alert JSON (vigil), Elastic Common Schema, an OCSF Detection
// Finding, CEF; and per-sink body templates rendered with escaping for their target.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/alerting/sink.h"
#include "vigil/cep/options.h"
#include "vigil/cep/status.h"

namespace vigil::alerting {

// ---- MITRE ATT&CK tags (Sigma style: attack.t1110, attack.t1110.001, attack.credential_access,
// attack.ta0006) ----
struct AttackTactic {
  std::string id;    // TA0006
  std::string name;  // Credential Access
};
struct AttackTags {
  std::vector<AttackTactic> tactics;
  std::vector<std::string> techniques;     // T1110 (also the parent of each sub-technique)
  std::vector<std::string> subtechniques;  // T1110.001
  bool empty() const { return tactics.empty() && techniques.empty(); }
};
AttackTags ParseAttackTags(const std::vector<std::string>& tags);

// ---- JSON documents ----
enum class JsonFormat { kVigil, kEcs, kOcsf };
JsonFormat ParseJsonFormat(std::string_view name);  // REQUIRES: vigil, ecs or ocsf
inline constexpr char kEcsVersion[] = "8.11.0";
inline constexpr char kOcsfVersion[] = "1.3.0";
std::string EcsDocument(const AlertView& alert, const SinkContext& context);
std::string OcsfFinding(const AlertView& alert, const SinkContext& context);
std::string RenderJson(JsonFormat format, const AlertView& alert, const SinkContext& context);

// True if `text` is an IPv4 or IPv6 address.
bool IsIpAddress(std::string_view text);

// ---- CEF ----
// CEF:0|Vigil|Vigil|<version>|<rule id>|<rule title>|<severity 0-10>|<extension>
std::string CefMessage(const AlertView& alert, const SinkContext& context);
int CefSeverity(std::string_view severity);
// Header fields escape '\' and '|'; line breaks become spaces.
void AppendCefHeaderField(std::string_view s, std::string* out);
// Extension values escape '\' and '=', line breaks as \n and \r.
void AppendCefExtensionValue(std::string_view s, std::string* out);

// ---- Body templates ----
// Text with {{ path }} placeholders (paths as AlertView::Lookup takes them). Values are
// escaped for where they land, so no alert content can change the message's structure:
//   kJson:  inside a JSON string, the value's text escaped as string content; elsewhere
//           the value as JSON (strings quoted). The template must render to valid JSON.
//   kCef:   in the header (before the 7th unescaped '|'), header escaping; after it,
//           extension-value escaping.
//   kText:  control characters become spaces.
//   kTopic: MQTT topic levels: '/', '+', '#' and control characters become '_'.
enum class TemplateContext { kJson, kCef, kText, kTopic };

class BodyTemplate {
 public:
  // `path` names the option in messages ("sinks.soc.template").
  static Result<BodyTemplate> Parse(std::string_view text, TemplateContext context,
                                    const std::string& path);
  std::string Render(const AlertView& alert) const;

 private:
  enum class Mode { kJsonValue, kJsonInString, kCefHeader, kCefExtension, kText, kTopic };
  struct Part {
    std::string literal;  // before the placeholder
    std::string path;     // empty for the trailing literal
    Mode mode = Mode::kText;
  };
  std::vector<Part> parts_;
};

// A sample alert for checking templates at startup and for docs.
const AlertView& SampleAlert();

// `format` and `template` of the JSON sinks.
struct JsonBodySettings {
  std::string format = "vigil";
  std::string body_template;
};
class JsonBody {
 public:
  static Result<JsonBody> Make(const JsonBodySettings& settings, const std::string& path);
  std::string Render(const AlertView& alert, const SinkContext& context) const;

 private:
  JsonFormat format_ = JsonFormat::kVigil;
  std::optional<BodyTemplate> template_;
};

// `format` and `template`: a part of the JSON sinks' tables (cep::PartOptions).
const std::vector<cep::Option<JsonBodySettings>>& JsonBodyOptions();

}  // namespace vigil::alerting
