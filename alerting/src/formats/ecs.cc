// The alert as an Elastic Common Schema document (ECS 8.11: event.kind "alert", rule.*,
// threat.* from ATT&CK tags, related.ip/user/hosts). Vigil's own parts (key, matched
// events, threshold value) go under the custom `vigil.*` namespace, as ECS asks of
// fields it does not define.
#include <algorithm>

#include "formats/formats.h"
#include "json_writer.h"

namespace vigil::alerting {

namespace {

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (!s.empty() && std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Related {
  std::vector<std::string> ip, user, hosts;
};

// From the key and the matched events: ECS's address and user fields.
Related CollectRelated(const AlertView& a) {
  Related r;
  for (const auto& [name, value] : a.key()) {
    if ((name == "ip" || EndsWith(name, ".ip")) && IsIpAddress(value)) AddUnique(&r.ip, value);
    if (name == "user.name" || EndsWith(name, ".user.name")) AddUnique(&r.user, value);
    if (name == "host.name" || name == "host.hostname") AddUnique(&r.hosts, value);
  }
  static const char* kIpFields[] = {"source.ip", "destination.ip", "client.ip", "server.ip",
                                    "host.ip", "related.ip"};
  static const char* kUserFields[] = {"user.name", "source.user.name", "destination.user.name",
                                      "user.target.name", "related.user"};
  static const char* kHostFields[] = {"host.name", "host.hostname", "related.hosts"};
  for (size_t i = 0; i < a.match_count(); ++i) {
    for (const char* f : kIpFields) {
      for (const std::string& v : a.EventValues(i, f)) {
        if (IsIpAddress(v)) AddUnique(&r.ip, v);
      }
    }
    for (const char* f : kUserFields) {
      for (const std::string& v : a.EventValues(i, f)) AddUnique(&r.user, v);
    }
    for (const char* f : kHostFields) {
      for (const std::string& v : a.EventValues(i, f)) AddUnique(&r.hosts, v);
    }
  }
  return r;
}

int EcsRiskScore(std::string_view severity) {
  // Elastic's detection rules use these default risk scores per severity.
  switch (SeverityRank(severity)) {
    case 1: return 21;
    case 2: return 47;
    case 3: return 73;
    case 4: return 99;
    default: return 0;
  }
}

}  // namespace

std::string EcsDocument(const AlertView& a, const SinkContext& context) {
  JsonWriter w;
  w.BeginObject();
  w.Key("@timestamp").Time(a.time());
  w.Key("message").String(a.summary());
  w.Key("tags").Strings(a.tags());
  w.Key("ecs").BeginObject().Key("version").String(kEcsVersion).EndObject();

  w.Key("event").BeginObject();
  w.Key("kind").String("alert");
  w.Key("category").Strings({"intrusion_detection"});
  w.Key("type").Strings({"info"});
  w.Key("id").String(a.id());
  if (a.detected_at()) w.Key("created").Time(a.detected_at());
  std::optional<cep::Timestamp> start;
  for (size_t i = 0; i < a.match_count(); ++i) {
    auto t = a.MatchEventTime(i);
    if (t && (!start || *t < *start)) start = t;
  }
  if (start) w.Key("start").Time(*start);
  w.Key("end").Time(a.time());
  w.Key("severity").Int(CefSeverity(a.severity()));
  w.Key("risk_score").Double(EcsRiskScore(a.severity()));
  w.Key("module").String("vigil");
  w.Key("dataset").String("vigil.alert");
  w.Key("provider").String("vigil");
  w.Key("reason").String(a.summary());
  w.EndObject();

  w.Key("rule").BeginObject();
  w.Key("id").String(a.rule_id());
  w.Key("name").String(a.rule_title());
  w.Key("ruleset").String("vigil");
  w.EndObject();

  AttackTags attack = ParseAttackTags(a.tags());
  if (!attack.empty()) {
    w.Key("threat").BeginObject();
    w.Key("framework").String("MITRE ATT&CK");
    if (!attack.tactics.empty()) {
      std::vector<std::string> ids, names, refs;
      for (const AttackTactic& t : attack.tactics) {
        ids.push_back(t.id);
        if (!t.name.empty()) names.push_back(t.name);
        refs.push_back("https://attack.mitre.org/tactics/" + t.id + "/");
      }
      w.Key("tactic").BeginObject();
      w.Key("id").Strings(ids);
      if (!names.empty()) w.Key("name").Strings(names);
      w.Key("reference").Strings(refs);
      w.EndObject();
    }
    if (!attack.techniques.empty()) {
      std::vector<std::string> refs;
      for (const std::string& t : attack.techniques) {
        refs.push_back("https://attack.mitre.org/techniques/" + t + "/");
      }
      w.Key("technique").BeginObject();
      w.Key("id").Strings(attack.techniques);
      w.Key("reference").Strings(refs);
      if (!attack.subtechniques.empty()) {
        std::vector<std::string> sub_refs;
        for (const std::string& s : attack.subtechniques) {
          std::string path = s;
          std::replace(path.begin(), path.end(), '.', '/');
          sub_refs.push_back("https://attack.mitre.org/techniques/" + path + "/");
        }
        w.Key("subtechnique").BeginObject();
        w.Key("id").Strings(attack.subtechniques);
        w.Key("reference").Strings(sub_refs);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
  }

  Related related = CollectRelated(a);
  if (!related.ip.empty() || !related.user.empty() || !related.hosts.empty()) {
    w.Key("related").BeginObject();
    if (!related.ip.empty()) w.Key("ip").Strings(related.ip);
    if (!related.user.empty()) w.Key("user").Strings(related.user);
    if (!related.hosts.empty()) w.Key("hosts").Strings(related.hosts);
    w.EndObject();
  }

  w.Key("observer").BeginObject();
  w.Key("vendor").String("Vigil");
  w.Key("product").String("Vigil");
  w.Key("version").String(context.version);
  w.Key("name").String(context.node_id);
  w.Key("type").String("ids");
  w.EndObject();

  w.Key("vigil").BeginObject();
  w.Key("key").Raw(a.key_json());
  w.Key("matches").BeginArray();
  for (size_t i = 0; i < a.match_count(); ++i) {
    w.BeginObject();
    w.Key("step").String(a.match_step(i));
    w.Key("event").Raw(a.MatchEventJson(i));
    w.EndObject();
  }
  w.EndArray();
  if (a.value()) w.Key("value").Double(*a.value());
  w.EndObject();

  w.EndObject();
  return w.Take();
}

}  // namespace vigil::alerting
