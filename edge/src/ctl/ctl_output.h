// Internal: what `vigil ctl` prints: aligned tables for people, JSON for scripts.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/v1/admin.pb.h"
#include "vigil/v1/alerts.pb.h"
#include "vigil/v1/rules.pb.h"

namespace vigil::edge::ctl {

// Rows of cells under a header, each column as wide as its widest cell, two spaces apart;
// the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// The message as one line of proto3 JSON (field names as in the .proto, every field
// printed, 64-bit integers as strings per the proto3 JSON mapping).
std::string ToJson(const google::protobuf::Message& message);
// `s` as a JSON string literal.
std::string JsonString(const std::string& s);

// RFC 3339 with milliseconds; "-" for 0 and INT64_MIN (not yet known).
std::string FormatTime(int64_t unix_nano);
// "1.5s", "120ms"; "-" for a negative or unknown lag.
std::string FormatLag(int64_t nanos);

// The alert as cli.md prints it (its `json`), or its fields as JSON when that is empty.
std::string AlertJson(const v1::Alert& alert);
// One line for people: time, severity, rule, key, summary.
std::string AlertLine(const v1::Alert& alert);
std::string AlertTable(const std::vector<v1::Alert>& alerts);

std::string StatusText(const v1::StatusResponse& status);
std::string RulesTable(const v1::ListRulesResponse& rules);
std::string RuleText(const v1::Rule& rule);
std::string ApplyText(const v1::ApplyRulesResponse& apply);

}  // namespace vigil::edge::ctl
