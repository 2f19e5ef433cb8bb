// The alert as an OCSF Detection Finding (class_uid 2004, category Findings, OCSF 1.3.0):
// finding_info with the rule as its analytic and the ATT&CK tags as attacks, one
// evidence per matched event, the key's fields as observables.
#include "formats/formats.h"
#include "json_writer.h"

namespace vigil::alerting {

namespace {

int64_t Ms(cep::Timestamp t) { return t / cep::kMillisecond; }

struct OcsfSeverity {
  int id;
  const char* name;
};
OcsfSeverity SeverityOf(std::string_view s) {
  switch (SeverityRank(s)) {
    case 0: return {1, "Informational"};
    case 1: return {2, "Low"};
    case 2: return {3, "Medium"};
    case 3: return {4, "High"};
    case 4: return {5, "Critical"};
    default: return {0, "Unknown"};
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// OCSF observable type ids (observable.type_id): 1 Hostname, 2 IP Address, 4 User Name,
// 11 Port, 99 Other.
struct ObservableType {
  int id;
  const char* name;
};
ObservableType ObservableOf(const std::string& field, const std::string& value) {
  if ((field == "ip" || EndsWith(field, ".ip")) && IsIpAddress(value)) return {2, "IP Address"};
  if (field == "user.name" || EndsWith(field, ".user.name")) return {4, "User Name"};
  if (field == "host.name" || field == "host.hostname") return {1, "Hostname"};
  if (EndsWith(field, ".port")) return {11, "Port"};
  return {99, "Other"};
}

}  // namespace

std::string OcsfFinding(const AlertView& a, const SinkContext& context) {
  OcsfSeverity sev = SeverityOf(a.severity());
  std::optional<cep::Timestamp> start;
  for (size_t i = 0; i < a.match_count(); ++i) {
    auto t = a.MatchEventTime(i);
    if (t && (!start || *t < *start)) start = t;
  }
  cep::Timestamp created = a.detected_at() ? a.detected_at() : a.time();

  JsonWriter w;
  w.BeginObject();
  w.Key("activity_id").Int(1);
  w.Key("activity_name").String("Create");
  w.Key("category_uid").Int(2);
  w.Key("category_name").String("Findings");
  w.Key("class_uid").Int(2004);
  w.Key("class_name").String("Detection Finding");
  w.Key("type_uid").Int(200401);
  w.Key("type_name").String("Detection Finding: Create");
  w.Key("severity_id").Int(sev.id);
  w.Key("severity").String(sev.name);
  w.Key("status_id").Int(1);
  w.Key("status").String("New");
  w.Key("is_alert").Bool(true);
  w.Key("time").Int(Ms(created));
  if (start) w.Key("start_time").Int(Ms(*start));
  w.Key("end_time").Int(Ms(a.time()));
  w.Key("message").String(a.summary());

  w.Key("metadata").BeginObject();
  w.Key("version").String(kOcsfVersion);
  w.Key("uid").String(a.id());
  w.Key("product").BeginObject();
  w.Key("name").String("Vigil");
  w.Key("vendor_name").String("Vigil");
  w.Key("version").String(context.version);
  w.EndObject();
  w.EndObject();

  w.Key("finding_info").BeginObject();
  w.Key("uid").String(a.id());
  w.Key("title").String(a.rule_title().empty() ? a.rule_id() : a.rule_title());
  w.Key("desc").String(a.summary());
  w.Key("created_time").Int(Ms(created));
  if (start) w.Key("first_seen_time").Int(Ms(*start));
  w.Key("last_seen_time").Int(Ms(a.time()));
  if (!a.tags().empty()) w.Key("types").Strings(a.tags());
  w.Key("analytic").BeginObject();
  w.Key("uid").String(a.rule_id());
  w.Key("name").String(a.rule_title().empty() ? a.rule_id() : a.rule_title());
  w.Key("type_id").Int(1);
  w.Key("type").String("Rule");
  w.EndObject();
  AttackTags attack = ParseAttackTags(a.tags());
  if (!attack.empty()) {
    w.Key("attacks").BeginArray();
    auto tactic = [&](const AttackTactic& t) {
      w.Key("tactic").BeginObject().Key("uid").String(t.id);
      if (!t.name.empty()) w.Key("name").String(t.name);
      w.EndObject();
    };
    if (attack.techniques.empty()) {
      for (const AttackTactic& t : attack.tactics) {
        w.BeginObject();
        tactic(t);
        w.EndObject();
      }
    }
    for (const std::string& tech : attack.techniques) {
      w.BeginObject();
      if (!attack.tactics.empty()) tactic(attack.tactics.front());
      w.Key("technique").BeginObject();
      w.Key("uid").String(tech);
      w.Key("src_url").String("https://attack.mitre.org/techniques/" + tech + "/");
      w.EndObject();
      for (const std::string& sub : attack.subtechniques) {
        if (sub.rfind(tech + ".", 0) != 0) continue;
        w.Key("sub_technique").BeginObject().Key("uid").String(sub).EndObject();
        break;
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();

  w.Key("evidences").BeginArray();
  for (size_t i = 0; i < a.match_count(); ++i) {
    w.BeginObject();
    w.Key("name").String(a.match_step(i));
    w.Key("data").Raw(a.MatchEventJson(i));
    auto endpoint = [&](const char* key, const char* ip_field, const char* port_field) {
      auto ips = a.EventValues(i, ip_field);
      if (ips.empty() || !IsIpAddress(ips[0])) return;
      w.Key(key).BeginObject().Key("ip").String(ips[0]);
      auto ports = a.EventValues(i, port_field);
      if (!ports.empty() && !ports[0].empty() &&
          ports[0].find_first_not_of("0123456789") == std::string::npos && ports[0].size() < 6) {
        w.Key("port").Int(std::stoll(ports[0]));
      }
      w.EndObject();
    };
    endpoint("src_endpoint", "source.ip", "source.port");
    endpoint("dst_endpoint", "destination.ip", "destination.port");
    auto users = a.EventValues(i, "user.name");
    if (!users.empty()) w.Key("user").BeginObject().Key("name").String(users[0]).EndObject();
    w.EndObject();
  }
  w.EndArray();

  if (!a.key().empty()) {
    w.Key("observables").BeginArray();
    for (const auto& [field, value] : a.key()) {
      ObservableType t = ObservableOf(field, value);
      w.BeginObject();
      w.Key("name").String("unmapped.vigil.key." + field);
      w.Key("type_id").Int(t.id);
      w.Key("type").String(t.name);
      w.Key("value").String(value);
      w.EndObject();
    }
    w.EndArray();
  }

  w.Key("unmapped").BeginObject().Key("vigil").BeginObject();
  w.Key("key").Raw(a.key_json());
  if (a.value()) w.Key("value").Double(*a.value());
  w.EndObject().EndObject();

  w.EndObject();
  return w.Take();
}

}  // namespace vigil::alerting
