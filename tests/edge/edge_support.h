// Test support for the vigil binary: rule files and events to feed it, and its output read
// back (alerts parsed as JSON, the stderr summary without its timing).
#pragma once

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace vigil::edge::testing {

using vigil::testing::Lines;
using vigil::testing::ProcessResult;
using vigil::testing::RunVigil;
using vigil::testing::TempDir;
using Strings = std::vector<std::string>;

// Two single-event rules over login events.
inline constexpr char kLoginRules[] = R"(rules:
  - id: login-failure
    title: Failed login
    severity: high
    tags: [attack.t1110, auth]
    key: [source.ip]
    where: 'event.action == "login" and event.outcome == "failure"'
    output: 'failure for {{ user.name }} from {{ source.ip }}'
  - id: root-login
    title: Root "logged" in
    severity: critical
    key: [source.ip, user.name]
    where: 'event.action == "login" and event.outcome == "success" and user.name == "root"'
)";

// One login event as a JSON line (without the newline); `time` is the @timestamp value as
// JSON ("\"2026-...Z\"" or a number).
inline std::string Login(const std::string& time, const std::string& ip,
                         const std::string& outcome = "failure", const std::string& user = "alice",
                         const std::string& time_field = "@timestamp") {
  return "{\"" + time_field + "\":" + time + R"(,"event":{"action":"login","outcome":")" + outcome +
         R"("},"user":{"name":")" + user + R"("},"source":{"ip":")" + ip + "\"}}";
}

// "2026-11-21T10:15:SSZ" quoted, for Login.
inline std::string At(int second) {
  std::string s = std::to_string(second);
  if (s.size() < 2) s = "0" + s;
  return "\"2026-11-21T10:15:" + s + "Z\"";
}

inline std::string Join(const Strings& lines) {
  std::string s;
  for (const std::string& l : lines)
    s += l + "\n";
  return s;
}

// One alert from stdout, parsed. The parser owns the document.
struct AlertLine {
  std::string line;
  simdjson::dom::parser parser;
  simdjson::dom::element root;

  explicit AlertLine(std::string text) : line(std::move(text)) {
    INFO("alert line: " << line);
    REQUIRE_FALSE(parser.parse(line).get(root));
    REQUIRE(root.is_object());
  }
  std::string str(const char* pointer) {
    std::string_view s;
    INFO("alert line: " << line << "\npointer: " << pointer);
    REQUIRE_FALSE(root.at_pointer(pointer).get(s));
    return std::string(s);
  }
  std::string json(const char* pointer) {
    simdjson::dom::element e;
    INFO("alert line: " << line << "\npointer: " << pointer);
    REQUIRE_FALSE(root.at_pointer(pointer).get(e));
    return simdjson::minify(e);
  }
  bool has(const char* pointer) {
    simdjson::dom::element e;
    return !root.at_pointer(pointer).get(e);
  }
  std::vector<std::string> keys() {
    std::vector<std::string> out;
    simdjson::dom::object obj;
    REQUIRE_FALSE(root.get(obj));
    for (auto f : obj)
      out.emplace_back(f.key);
    return out;
  }
  // "rule key time summary [step:source.ip ...]": what an alert says, without its id and
  // detected_at, so that two runs can be compared.
  std::string Describe() {
    std::string s =
        str("/rule/id") + " " + json("/key") + " " + str("/time") + " " + str("/summary") + " [";
    simdjson::dom::array matches;
    REQUIRE_FALSE(root.at_pointer("/matches").get(matches));
    bool first = true;
    for (simdjson::dom::element m : matches) {
      std::string_view step, ip;
      REQUIRE_FALSE(m["step"].get(step));
      if (m.at_pointer("/event/source/ip").get(ip)) ip = "-";
      s += (first ? "" : " ") + std::string(step) + ":" + std::string(ip);
      first = false;
    }
    return s + "]";
  }
};

// Describe() of every line of `out`, which must all be alerts.
inline Strings DescribeAlerts(const std::string& out) {
  Strings d;
  for (const std::string& line : Lines(out))
    d.push_back(AlertLine(line).Describe());
  return d;
}

// The ids of every alert in `out`.
inline Strings AlertIds(const std::string& out) {
  Strings ids;
  for (const std::string& line : Lines(out))
    ids.push_back(AlertLine(line).str("/id"));
  return ids;
}

// The replay summary line of `err` without its timing: "replay: 3 events, ... without time".
inline std::string Summary(const std::string& err) {
  std::string found = "<no summary line>";
  for (const std::string& line : Lines(err)) {
    if (line.rfind("replay: ", 0) != 0) continue;
    size_t in = line.find(" in ");
    found = line.substr(0, in);
  }
  return found;
}

// The lines of `err` other than the summary.
inline Strings Problems(const std::string& err) {
  Strings out;
  for (const std::string& line : Lines(err)) {
    if (line.rfind("replay: ", 0) != 0) out.push_back(line);
  }
  return out;
}

}  // namespace vigil::edge::testing
