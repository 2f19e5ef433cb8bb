// SOC formats checked against their published field definitions, CEF escaping, and body
// templates that alert content cannot break out of.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "formats/formats.h"
#include "support/alerts.h"
#include "support/net.h"

namespace vigil::alerting::testing {
namespace {

// An alert whose content tries to break every format it lands in.
Alert HostileAlert() {
  Alert a = MakeTestAlert(7);
  a.json =
      R"({"id":"00000000000000000000000000000007","rule":{"id":"r|1=x","title":"Title | with \\ pipe\nand newline",)"
      R"("severity":"critical","tags":["attack.credential_access","attack.t1110.001","attack.ta0008","other"]},)"
      R"("key":{"source.ip":"10.0.0.9","user.name":"ro\"ot"},"time":"2026-11-21T10:15:02.000Z",)"
      R"("detected_at":"2026-11-21T10:15:02.417Z","summary":"6 failures\", \"evil\": \"x msg=fake | cs9=1 \\ end\r\nnext",)"
      R"("matches":[{"step":"fail","event":{"@timestamp":"2026-11-21T10:14:40.000Z","source":{"ip":"10.0.0.9","port":51234},)"
      R"("destination.ip":"192.0.2.10","user":{"name":"ro\"ot"},"host":{"name":"gw-17"}}},)"
      R"({"step":"success","event":{"@timestamp":"2026-11-21T10:15:02.000Z","source":{"ip":"not-an-ip"},"user":{"name":"admin"}}}],"value":6})";
  return a;
}

std::unique_ptr<AlertView> View(const Alert& a) {
  auto v = AlertView::Parse(a.json);
  REQUIRE(v.ok());
  return std::move(v).value();
}

SinkContext Context() {
  SinkContext c;
  c.node_id = "gw-17";
  c.version = "0.1.0";
  return c;
}

// Leaves of a JSON document: dotted path -> element (arrays of scalars are one leaf).
void Flatten(simdjson::dom::element e, const std::string& path,
             std::vector<std::pair<std::string, simdjson::dom::element>>* out) {
  simdjson::dom::object obj;
  if (!e.get(obj)) {
    for (auto f : obj) Flatten(f.value, path.empty() ? std::string(f.key) : path + "." + std::string(f.key), out);
    return;
  }
  out->emplace_back(path, e);
}

// ---- ECS ----
// Field definitions from the ECS 8.11 field reference
// (https://www.elastic.co/guide/en/ecs/8.11/ecs-field-reference.html: Base, ECS, Event,
// Rule, Threat, Related and Observer fields) and the categorization allowed values
// (ecs-allowed-values-event-kind.html, -event-category.html, -event-type.html).
// type: the ECS data type; array: "Note: this field should contain an array of values".
struct EcsField {
  const char* type;
  bool array;
};
const std::map<std::string, EcsField>& EcsFields() {
  static const std::map<std::string, EcsField> f = {
      {"@timestamp", {"date", false}},
      {"message", {"match_only_text", false}},
      {"tags", {"keyword", true}},
      {"ecs.version", {"keyword", false}},
      {"event.kind", {"keyword", false}},
      {"event.category", {"keyword", true}},
      {"event.type", {"keyword", true}},
      {"event.id", {"keyword", false}},
      {"event.created", {"date", false}},
      {"event.start", {"date", false}},
      {"event.end", {"date", false}},
      {"event.severity", {"long", false}},
      {"event.risk_score", {"float", false}},
      {"event.module", {"keyword", false}},
      {"event.dataset", {"keyword", false}},
      {"event.provider", {"keyword", false}},
      {"event.reason", {"keyword", false}},
      {"rule.id", {"keyword", false}},
      {"rule.name", {"keyword", false}},
      {"rule.ruleset", {"keyword", false}},
      {"threat.framework", {"keyword", false}},
      {"threat.tactic.id", {"keyword", true}},
      {"threat.tactic.name", {"keyword", true}},
      {"threat.tactic.reference", {"keyword", true}},
      {"threat.technique.id", {"keyword", true}},
      {"threat.technique.reference", {"keyword", true}},
      {"threat.technique.subtechnique.id", {"keyword", true}},
      {"threat.technique.subtechnique.reference", {"keyword", true}},
      {"related.ip", {"ip", true}},
      {"related.user", {"keyword", true}},
      {"related.hosts", {"keyword", true}},
      {"observer.vendor", {"keyword", false}},
      {"observer.product", {"keyword", false}},
      {"observer.version", {"keyword", false}},
      {"observer.name", {"keyword", false}},
      {"observer.type", {"keyword", false}},
  };
  return f;
}
const std::set<std::string> kEcsEventKinds = {"alert", "asset", "enrichment", "event", "metric",
                                              "state", "pipeline_error", "signal"};
const std::set<std::string> kEcsEventCategories = {
    "api",     "authentication", "configuration", "database", "driver",  "email",
    "file",    "host",           "iam",           "intrusion_detection", "library",
    "malware", "network",        "package",       "process",  "registry", "session",
    "threat",  "vulnerability",  "web"};
// event.type values allowed with event.category intrusion_detection.
const std::set<std::string> kEcsIntrusionDetectionTypes = {"allowed", "denied", "info"};

void CheckEcsValue(const std::string& path, const std::string& type, simdjson::dom::element v) {
  INFO(path << " (" << type << ")");
  if (type == "keyword" || type == "match_only_text") {
    CHECK(v.is_string());
  } else if (type == "date") {
    std::string_view s;
    REQUIRE_FALSE(v.get(s));
    cep::Timestamp t;
    CHECK(cep::ParseRfc3339(s, &t));
  } else if (type == "long") {
    CHECK(v.is_int64());
  } else if (type == "float") {
    CHECK(v.is_number());
  } else if (type == "ip") {
    std::string_view s;
    REQUIRE_FALSE(v.get(s));
    CHECK(IsIpAddress(s));
  } else {
    FAIL("unknown ECS type " << type);
  }
}

void CheckEcs(const std::string& doc) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  REQUIRE_FALSE(parser.parse(doc).get(root));
  std::vector<std::pair<std::string, simdjson::dom::element>> leaves;
  Flatten(root, "", &leaves);
  for (const auto& [path, value] : leaves) {
    if (path.rfind("vigil.", 0) == 0) continue;  // the custom namespace
    auto it = EcsFields().find(path);
    INFO(path);
    REQUIRE(it != EcsFields().end());  // every field is one ECS defines
    simdjson::dom::array arr;
    if (!value.get(arr)) {
      CHECK(it->second.array);
      for (auto item : arr) CheckEcsValue(path, it->second.type, item);
    } else {
      CHECK_FALSE(it->second.array);
      CheckEcsValue(path, it->second.type, value);
    }
  }
}

TEST_CASE("ECS: the alert as an ECS alert document with rule, threat and related fields") {
  Alert a = HostileAlert();
  std::string doc = EcsDocument(*View(a), Context());
  CheckEcs(doc);
  CheckEcs(EcsDocument(*View(MakeTestAlert(3, "low")), Context()));
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(doc).get(e));
  std::string_view s;
  REQUIRE_FALSE(e["event"]["kind"].get(s));
  CHECK(kEcsEventKinds.count(std::string(s)));
  CHECK(s == "alert");
  for (auto c : simdjson::dom::array(e["event"]["category"])) CHECK(kEcsEventCategories.count(std::string(std::string_view(c))));
  for (auto t : simdjson::dom::array(e["event"]["type"])) CHECK(kEcsIntrusionDetectionTypes.count(std::string(std::string_view(t))));
  CHECK(std::string_view(e["rule"]["id"]) == "r|1=x");
  CHECK(std::string_view(e["event"]["id"]) == "00000000000000000000000000000007");
  CHECK(int64_t(e["event"]["severity"]) == 10);
  CHECK(std::string_view(e["@timestamp"]) == "2026-11-21T10:15:02.000Z");
  CHECK(std::string_view(e["event"]["start"]) == "2026-11-21T10:14:40.000Z");
  CHECK(simdjson::minify(e["threat"]["tactic"]["id"]) == R"(["TA0006","TA0008"])");
  CHECK(simdjson::minify(e["threat"]["tactic"]["name"]) == R"(["Credential Access","Lateral Movement"])");
  CHECK(simdjson::minify(e["threat"]["technique"]["id"]) == R"(["T1110"])");
  CHECK(simdjson::minify(e["threat"]["technique"]["subtechnique"]["id"]) == R"(["T1110.001"])");
  CHECK(simdjson::minify(e["threat"]["technique"]["subtechnique"]["reference"]) ==
        R"(["https://attack.mitre.org/techniques/T1110/001/"])");
  // IPs from the key and the events; "not-an-ip" is not one, so it is left out.
  CHECK(simdjson::minify(e["related"]["ip"]) == R"(["10.0.0.9","192.0.2.10"])");
  CHECK(simdjson::minify(e["related"]["user"]) == R"(["ro\"ot","admin"])");
  CHECK(simdjson::minify(e["related"]["hosts"]) == R"(["gw-17"])");
  CHECK(simdjson::minify(e["vigil"]["key"]) == R"({"source.ip":"10.0.0.9","user.name":"ro\"ot"})");
  CHECK(double(e["vigil"]["value"]) == 6);
  CHECK(std::string_view(e["message"]) == "6 failures\", \"evil\": \"x msg=fake | cs9=1 \\ end\r\nnext");
  simdjson::dom::element evil;
  CHECK(e["evil"].get(evil));  // the summary did not become a field
}

// ---- OCSF ----
// Detection Finding (class_uid 2004) of OCSF 1.3.0 (https://schema.ocsf.io/1.3.0/classes/detection_finding;
// ocsf/ocsf-schema events/findings/detection_finding.json, finding.json, base_event.json,
// objects/finding_info.json, evidences.json, analytic.json, attack.json, metadata.json, product.json).
const std::set<std::string> kOcsfFindingAttributes = {
    "activity_id", "activity_name", "category_uid", "category_name", "class_uid", "class_name",
    "type_uid", "type_name", "severity_id", "severity", "status_id", "status", "is_alert",
    "time", "start_time", "end_time", "message", "metadata", "finding_info", "evidences",
    "observables", "unmapped", "count", "duration", "confidence_id", "confidence", "resources",
    "remediation", "vulnerabilities", "malware", "impact_id", "risk_score", "timezone_offset",
    "raw_data", "enrichments", "device"};
const std::set<std::string> kOcsfRequired = {"activity_id", "category_uid", "class_uid", "type_uid",
                                             "severity_id", "time", "metadata", "finding_info"};
const std::set<std::string> kFindingInfoAttributes = {
    "analytic", "attacks", "created_time", "data_sources", "desc", "first_seen_time", "kill_chain",
    "last_seen_time", "modified_time", "product", "product_uid", "related_analytics", "related_events",
    "related_events_count", "src_url", "tags", "title", "types", "uid", "uid_alt"};
const std::set<std::string> kEvidenceAttributes = {
    "actor", "api", "connection_info", "container", "data", "database", "databucket", "device",
    "dst_endpoint", "email", "file", "http_request", "http_response", "job", "name", "process",
    "query", "resources", "script", "src_endpoint", "tls", "uid", "url", "user", "verdict", "verdict_id"};
// evidences: "at_least_one" of these.
const std::set<std::string> kEvidenceAtLeastOne = {
    "actor", "api", "connection_info", "data", "database", "databucket", "device", "dst_endpoint",
    "email", "file", "process", "query", "resources", "src_endpoint", "url", "user", "job", "script"};
// severity_id enum and captions.
const std::map<int64_t, std::string> kOcsfSeverities = {{0, "Unknown"}, {1, "Informational"}, {2, "Low"},
                                                        {3, "Medium"}, {4, "High"}, {5, "Critical"},
                                                        {6, "Fatal"}, {99, "Other"}};

std::set<std::string> Keys(simdjson::dom::element e) {
  std::set<std::string> k;
  for (auto f : simdjson::dom::object(e)) k.insert(std::string(f.key));
  return k;
}

void CheckOcsf(const std::string& doc) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(doc).get(e));
  std::set<std::string> keys = Keys(e);
  for (const std::string& k : keys) {
    INFO(k);
    CHECK(kOcsfFindingAttributes.count(k));
  }
  for (const std::string& k : kOcsfRequired) {
    INFO("required " << k);
    CHECK(keys.count(k));
  }
  CHECK(int64_t(e["class_uid"]) == 2004);
  CHECK(int64_t(e["category_uid"]) == 2);
  int64_t activity = int64_t(e["activity_id"]);
  CHECK((activity == 1 || activity == 2 || activity == 3 || activity == 99));
  CHECK(int64_t(e["type_uid"]) == 2004 * 100 + activity);
  auto sev = kOcsfSeverities.find(int64_t(e["severity_id"]));
  REQUIRE(sev != kOcsfSeverities.end());
  CHECK(std::string_view(e["severity"]) == sev->second);
  CHECK(e["time"].is_int64());  // timestamp_t: milliseconds since the epoch
  CHECK(int64_t(e["time"]) > 1'700'000'000'000);
  std::string_view version;
  REQUIRE_FALSE(e["metadata"]["version"].get(version));
  CHECK(version == kOcsfVersion);
  CHECK(e["metadata"]["product"]["name"].is_string());  // product.name is required
  simdjson::dom::element fi = e["finding_info"];
  for (const std::string& k : Keys(fi)) {
    INFO("finding_info." << k);
    CHECK(kFindingInfoAttributes.count(k));
  }
  CHECK(fi["uid"].is_string());
  CHECK(fi["analytic"]["type_id"].is_int64());  // analytic.type_id is required
  CHECK(int64_t(fi["analytic"]["type_id"]) == 1);
  CHECK(std::string_view(fi["analytic"]["type"]) == "Rule");
  simdjson::dom::array attacks;
  if (!fi["attacks"].get(attacks)) {
    for (auto at : attacks) {
      std::set<std::string> ak = Keys(at);
      CHECK((ak.count("tactic") || ak.count("technique") || ak.count("sub_technique")));
    }
  }
  for (auto ev : simdjson::dom::array(e["evidences"])) {
    std::set<std::string> ek = Keys(ev);
    bool one = false;
    for (const std::string& k : ek) {
      INFO("evidences[]." << k);
      CHECK(kEvidenceAttributes.count(k));
      one = one || kEvidenceAtLeastOne.count(k);
    }
    CHECK(one);
  }
  simdjson::dom::array observables;
  if (!e["observables"].get(observables)) {
    for (auto o : observables) {
      CHECK(o["name"].is_string());
      CHECK(o["type_id"].is_int64());
      CHECK(o["value"].is_string());
    }
  }
}

TEST_CASE("OCSF: the alert as a Detection Finding with finding_info, attacks and evidences") {
  std::string doc = OcsfFinding(*View(HostileAlert()), Context());
  CheckOcsf(doc);
  CheckOcsf(OcsfFinding(*View(MakeTestAlert(2, "info")), Context()));
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(doc).get(e));
  CHECK(int64_t(e["severity_id"]) == 5);
  CHECK(std::string_view(e["finding_info"]["uid"]) == "00000000000000000000000000000007");
  CHECK(std::string_view(e["finding_info"]["analytic"]["uid"]) == "r|1=x");
  CHECK(int64_t(e["finding_info"]["first_seen_time"]) == 1795256080000);
  CHECK(int64_t(e["finding_info"]["last_seen_time"]) == 1795256102000);
  CHECK(simdjson::minify(e["finding_info"]["attacks"]) ==
        R"([{"tactic":{"uid":"TA0006","name":"Credential Access"},"technique":{"uid":"T1110",)"
        R"("src_url":"https://attack.mitre.org/techniques/T1110/"},"sub_technique":{"uid":"T1110.001"}}])");
  simdjson::dom::array ev = e["evidences"];
  REQUIRE(ev.size() == 2);
  CHECK(simdjson::minify(ev.at(0)["src_endpoint"]) == R"({"ip":"10.0.0.9","port":51234})");
  CHECK(simdjson::minify(ev.at(0)["dst_endpoint"]) == R"({"ip":"192.0.2.10"})");
  CHECK(std::string_view(ev.at(1)["user"]["name"]) == "admin");
  simdjson::dom::element absent;
  CHECK(ev.at(1)["src_endpoint"].get(absent));  // "not-an-ip" is not an endpoint ip
  CHECK(simdjson::minify(e["observables"]) ==
        R"([{"name":"unmapped.vigil.key.source.ip","type_id":2,"type":"IP Address","value":"10.0.0.9"},)"
        R"({"name":"unmapped.vigil.key.user.name","type_id":4,"type":"User Name","value":"ro\"ot"}])");
}

// ---- CEF ----

TEST_CASE("CEF: header and extension escaping survive hostile content") {
  auto view = View(HostileAlert());
  std::string m = CefMessage(*view, Context());
  CHECK(m.find('\n') == std::string::npos);
  auto cef = ParseCef(m);
  REQUIRE(cef);
  CHECK(cef->version == "0");
  CHECK(cef->vendor == "Vigil");
  CHECK(cef->product == "Vigil");
  CHECK(cef->device_version == "0.1.0");
  CHECK(cef->signature_id == "r|1=x");
  CHECK(cef->name == "Title | with \\ pipe and newline");  // a header cannot hold a line break
  CHECK(cef->severity == "10");
  CHECK(cef->Ext("msg") == view->summary());  // exactly, after unescaping
  CHECK(cef->Ext("externalId") == "00000000000000000000000000000007");
  CHECK(cef->Ext("rt") == "1795256102000");
  CHECK(cef->Ext("cs1Label") == "source.ip");
  CHECK(cef->Ext("cs1") == "10.0.0.9");
  CHECK(cef->Ext("cs2Label") == "user.name");
  CHECK(cef->Ext("cs2") == "ro\"ot");
  std::set<std::string> keys;
  for (const auto& [k, v] : cef->extension) keys.insert(k);
  CHECK(keys == std::set<std::string>{"rt", "dvchost", "externalId", "cat", "cs1Label", "cs1",
                                      "cs2Label", "cs2", "msg"});  // no injected cs9
  CHECK(CefSeverity("info") == 1);
  CHECK(CefSeverity("low") == 3);
  CHECK(CefSeverity("medium") == 5);
  CHECK(CefSeverity("high") == 8);
}

// ---- templates ----

TEST_CASE("a JSON template escapes values inside strings and renders others as JSON values") {
  auto t = BodyTemplate::Parse(
      R"({"text": "{{ rule.title }}: {{ summary }}", "sev": {{ rule.severity }}, "key": {{ key }}, "ip": "{{ key.source.ip }}", "n": {{ value }}, "user": "{{ event.user.name }}", "missing": {{ event.nope }}})",
      TemplateContext::kJson, "sinks.x.template");
  REQUIRE(t.ok());
  auto view = View(HostileAlert());
  std::string out = t->Render(*view);
  INFO(out);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE_FALSE(parser.parse(out).get(e));
  CHECK(std::string_view(e["text"]) == view->rule_title() + ": " + view->summary());
  CHECK(std::string_view(e["sev"]) == "critical");
  CHECK(simdjson::minify(e["key"]) == view->key_json());
  CHECK(std::string_view(e["ip"]) == "10.0.0.9");
  CHECK(double(e["n"]) == 6);
  CHECK(std::string_view(e["user"]) == "admin");  // the last matched event
  CHECK(e["missing"].is_null());
  CHECK(Keys(e) == std::set<std::string>{"text", "sev", "key", "ip", "n", "user", "missing"});
}

TEST_CASE("a template is checked when the config is loaded") {
  auto bad = BodyTemplate::Parse(R"({"a": {{ summary }})", TemplateContext::kJson, "sinks.x.template");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("sinks.x.template: does not render to valid JSON", 0) == 0);
  auto unknown = BodyTemplate::Parse(R"({"a": {{ sumary }}})", TemplateContext::kJson, "sinks.x.template");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().rfind("sinks.x.template: unknown placeholder '{{ sumary }}'", 0) == 0);
  auto open = BodyTemplate::Parse("{{ id ", TemplateContext::kText, "p");
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message() == "p: '{{' at offset 0 is not closed with '}}'");
}

TEST_CASE("a CEF template escapes by position: header fields and extension values") {
  auto t = BodyTemplate::Parse("CEF:0|Acme|Vigil|1|{{ rule.id }}|{{ rule.title }}|7|msg={{ summary }} suser={{ key.user.name }}",
                               TemplateContext::kCef, "sinks.s.template");
  REQUIRE(t.ok());
  auto view = View(HostileAlert());
  auto cef = ParseCef(t->Render(*view));
  REQUIRE(cef);
  CHECK(cef->vendor == "Acme");
  CHECK(cef->signature_id == "r|1=x");
  CHECK(cef->name == "Title | with \\ pipe and newline");
  CHECK(cef->Ext("msg") == view->summary());
  CHECK(cef->Ext("suser") == "ro\"ot");
  CHECK(cef->extension.size() == 2);
}

TEST_CASE("a topic template keeps values inside one topic level") {
  auto t = BodyTemplate::Parse("site/alerts/{{ rule.id }}/{{ key.source.ip }}", TemplateContext::kTopic, "t");
  REQUIRE(t.ok());
  Alert a = MakeTestAlert(1, "high", "a/b+c#d");
  CHECK(t->Render(*View(a)) == "site/alerts/a_b_c_d/10.0.0.1");
}

TEST_CASE("ATT&CK tags: tactics by name or id, techniques and sub-techniques") {
  AttackTags t = ParseAttackTags({"attack.Credential_Access", "attack.t1110.003", "attack.T1078",
                                  "attack.ta0040", "attack.g0016", "cve.2024.1", "attack.t11x"});
  REQUIRE(t.tactics.size() == 2);
  CHECK(t.tactics[0].id == "TA0006");
  CHECK(t.tactics[0].name == "Credential Access");
  CHECK(t.tactics[1].id == "TA0040");
  CHECK(t.tactics[1].name == "Impact");
  CHECK(t.techniques == std::vector<std::string>{"T1110", "T1078"});
  CHECK(t.subtechniques == std::vector<std::string>{"T1110.003"});
}

}  // namespace
}  // namespace vigil::alerting::testing
