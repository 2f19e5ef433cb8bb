// ATT&CK tags, and the small tables the documents need.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "formats/formats.h"

namespace vigil::alerting {

namespace {

// The Enterprise ATT&CK tactics (https://attack.mitre.org/tactics/enterprise/): the
// Sigma-style tag name, the tactic id and its name.
struct TacticRow {
  const char* tag;
  const char* id;
  const char* name;
};
constexpr TacticRow kTactics[] = {
    {"reconnaissance", "TA0043", "Reconnaissance"},
    {"resource_development", "TA0042", "Resource Development"},
    {"initial_access", "TA0001", "Initial Access"},
    {"execution", "TA0002", "Execution"},
    {"persistence", "TA0003", "Persistence"},
    {"privilege_escalation", "TA0004", "Privilege Escalation"},
    {"defense_evasion", "TA0005", "Defense Evasion"},
    {"credential_access", "TA0006", "Credential Access"},
    {"discovery", "TA0007", "Discovery"},
    {"lateral_movement", "TA0008", "Lateral Movement"},
    {"collection", "TA0009", "Collection"},
    {"command_and_control", "TA0011", "Command and Control"},
    {"exfiltration", "TA0010", "Exfiltration"},
    {"impact", "TA0040", "Impact"},
};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

}  // namespace

AttackTags ParseAttackTags(const std::vector<std::string>& tags) {
  AttackTags out;
  for (const std::string& raw : tags) {
    std::string t = raw;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    if (t.rfind("attack.", 0) != 0) continue;
    std::string_view rest = std::string_view(t).substr(7);
    if (rest.size() >= 3 && rest.substr(0, 2) == "ta" && AllDigits(rest.substr(2))) {
      std::string id = "TA" + std::string(rest.substr(2));
      const char* name = "";
      for (const TacticRow& row : kTactics) if (id == row.id) name = row.name;
      bool seen = false;
      for (const auto& x : out.tactics) seen = seen || x.id == id;
      if (!seen) out.tactics.push_back({id, name});
      continue;
    }
    if (rest.size() >= 2 && rest[0] == 't') {
      std::string_view num = rest.substr(1);
      size_t dot = num.find('.');
      std::string_view main = num.substr(0, dot);
      if (!AllDigits(main)) continue;
      std::string technique = "T" + std::string(main);
      if (dot != std::string_view::npos) {
        std::string_view sub = num.substr(dot + 1);
        if (!AllDigits(sub)) continue;
        AddUnique(&out.subtechniques, technique + "." + std::string(sub));
      }
      AddUnique(&out.techniques, technique);
      continue;
    }
    for (const TacticRow& row : kTactics) {
      if (rest == row.tag) {
        bool seen = false;
        for (const auto& x : out.tactics) seen = seen || x.id == row.id;
        if (!seen) out.tactics.push_back({row.id, row.name});
      }
    }
  }
  return out;
}

bool IsIpAddress(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

JsonFormat ParseJsonFormat(std::string_view name) {
  if (name == "ecs") return JsonFormat::kEcs;
  if (name == "ocsf") return JsonFormat::kOcsf;
  return JsonFormat::kVigil;
}

std::string RenderJson(JsonFormat format, const AlertView& alert, const SinkContext& context) {
  switch (format) {
    case JsonFormat::kEcs: return EcsDocument(alert, context);
    case JsonFormat::kOcsf: return OcsfFinding(alert, context);
    case JsonFormat::kVigil: break;
  }
  return alert.json();
}

}  // namespace vigil::alerting
