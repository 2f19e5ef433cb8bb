#include "ctl/ctl_output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "vigil/cep/time.h"

namespace vigil::edge::ctl {

std::string Table::Render() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string FormatTime(int64_t unix_nano) {
  if (unix_nano == 0 || unix_nano == std::numeric_limits<int64_t>::min()) return "-";
  return cep::FormatRfc3339Millis(unix_nano);
}

std::string FormatLag(int64_t nanos) {
  if (nanos < 0) return "-";
  return cep::FormatDuration(nanos);
}

std::string AlertJson(const v1::Alert& alert) {
  return alert.json().empty() ? ToJson(alert) : alert.json();
}

namespace {

std::string KeyText(const v1::Alert& a) {
  return a.key_json().empty() ? "-" : a.key_json();
}

std::string Count(uint64_t n) {
  return std::to_string(n);
}

}  // namespace

std::string AlertLine(const v1::Alert& a) {
  std::string sev = a.severity();
  if (sev.size() < 8) sev.resize(8, ' ');
  return FormatTime(a.time_unix_nano()) + "  " + sev + "  " + a.rule_id() + "  " + KeyText(a) +
         "  " + a.summary();
}

std::string AlertTable(const std::vector<v1::Alert>& alerts) {
  Table t({"TIME", "SEVERITY", "RULE", "KEY", "SUMMARY"});
  for (const v1::Alert& a : alerts) {
    t.Add({FormatTime(a.time_unix_nano()), a.severity(), a.rule_id(), KeyText(a), a.summary()});
  }
  return t.Render();
}

std::string StatusText(const v1::StatusResponse& s) {
  std::string out;
  out += "node:             " + (s.node_id().empty() ? "-" : s.node_id()) + "\n";
  out += "version:          " + (s.version().empty() ? "-" : s.version()) + "\n";
  out += "started:          " + FormatTime(s.started_unix_nano()) + "\n";
  out += "checkpoints:      " + Count(s.checkpoints()) + "\n";
  out += "last checkpoint:  " + FormatTime(s.last_checkpoint_unix_nano()) + "\n";
  out += "rss:              " + Count(s.rss_bytes()) + " bytes\n";

  out += "\nstreams:\n";
  Table streams({"NAME", "SOURCE", "STATE", "WATERMARK", "LAG", "EVENTS", "LATE", "DEAD_LETTERED"});
  for (const v1::StreamStatus& st : s.streams()) {
    streams.Add({st.name(), st.source_type(), st.state(), FormatTime(st.watermark_unix_nano()),
                 FormatLag(st.lag_nanos()), Count(st.events()), Count(st.late()),
                 Count(st.dead_lettered())});
  }
  out += streams.Render();

  out += "\nrules:\n";
  Table rules(
      {"ID", "ENABLED", "KEYS", "PARTIAL", "DROPPED", "STATE_BYTES", "ALERTS", "SUPPRESSED"});
  for (const v1::RuleStatus& r : s.rules()) {
    rules.Add({r.id(), r.enabled() ? "yes" : "no", Count(r.keys()), Count(r.partial_matches()),
               Count(r.partial_matches_dropped()), Count(r.state_bytes()), Count(r.alerts()),
               Count(r.suppressed())});
  }
  out += rules.Render();

  out += "\nsinks:\n";
  Table sinks({"NAME", "TYPE", "CIRCUIT", "OUTBOX", "DELIVERED", "FAILURES", "RETRIES",
               "DEAD_LETTERED", "LAST_ERROR"});
  for (const v1::SinkStatus& k : s.sinks()) {
    sinks.Add({k.name(), k.type(), k.circuit().empty() ? "-" : k.circuit(), Count(k.outbox_depth()),
               Count(k.delivered()), Count(k.failures()), Count(k.retries()),
               Count(k.dead_lettered()), k.last_error().empty() ? "-" : k.last_error()});
  }
  out += sinks.Render();
  return out;
}

std::string RulesTable(const v1::ListRulesResponse& rules) {
  Table t({"ID", "KIND", "SEVERITY", "ENABLED", "STREAM", "SOURCE", "TITLE"});
  for (const v1::Rule& r : rules.rules()) {
    t.Add({r.id(), r.kind(), r.severity(), r.enabled() ? "yes" : "no",
           r.stream().empty() ? "*" : r.stream(), r.source_file(), r.title()});
  }
  return t.Render();
}

std::string RuleText(const v1::Rule& r) {
  auto join = [](const auto& list) {
    std::string s;
    for (const std::string& x : list)
      s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? std::string("-") : s;
  };
  std::string out;
  out += "id:           " + r.id() + "\n";
  out += "title:        " + r.title() + "\n";
  out += "kind:         " + r.kind() + "\n";
  out += "severity:     " + r.severity() + "\n";
  out += "enabled:      " + std::string(r.enabled() ? "yes" : "no") + "\n";
  out += "stream:       " + (r.stream().empty() ? std::string("*") : r.stream()) + "\n";
  out += "key:          " + join(r.key()) + "\n";
  out += "tags:         " + join(r.tags()) + "\n";
  out += "sinks:        " + join(r.sinks()) + "\n";
  out += "source:       " + r.source_file() + "\n";
  if (!r.description().empty()) out += "description:  " + r.description() + "\n";
  if (!r.yaml().empty()) {
    out += "\n" + r.yaml();
    if (r.yaml().back() != '\n') out += "\n";
  }
  return out;
}

std::string ApplyText(const v1::ApplyRulesResponse& a) {
  std::string out;
  auto line = [&](const char* what, const auto& ids) {
    std::string s;
    for (const std::string& id : ids)
      s += (s.empty() ? "" : ", ") + id;
    out += std::string(what) + (s.empty() ? "-" : s) + "\n";
  };
  line("added:      ", a.added());
  line("changed:    ", a.changed());
  line("unchanged:  ", a.unchanged());
  line("removed:    ", a.removed());
  return out;
}

}  // namespace vigil::edge::ctl
