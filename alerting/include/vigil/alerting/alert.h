// Alerts: what the engine's matches become, in the JSON of the product spec (cli.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/cep/match.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

// What an alert says about its rule.
struct RuleInfo {
  std::string id;
  std::string title;
  std::string severity;  // info | low | medium | high | critical
  std::vector<std::string> tags;
  std::vector<std::string> key_names;  // the rule's key field paths, in key order
};

struct Alert {
  std::string id;         // 32 hex digits; the same input gives the same id
  std::string rule_id;
  std::string severity;
  cep::Timestamp time = 0;
  cep::Timestamp detected_at = 0;
  std::string key_json;   // {"source.ip":"10.0.0.9"}
  std::string summary;
  std::string json;       // the whole alert, one line of compact JSON
  std::vector<uint64_t> event_identities;  // of the matched events, in match order
};

// The alert id: a hash of the rule id, the key, the alert time and the identities of the
// matched events (with their steps). Re-processing the same input after a crash gives the
// same id, so receivers and the outbox can drop duplicates.
std::string AlertId(const std::string& rule_id, const cep::Match& match);

// Builds alerts from matches.
// Thread safety: Build is const; the clock must be safe to read from the calling thread.
class AlertBuilder {
 public:
  // `clock` gives detected_at; it must outlive the builder.
  explicit AlertBuilder(const cep::Clock* clock) : clock_(clock) {}

  // Matched events are embedded as received when their raw bytes are a JSON object, else as
  // {"message": "<raw text>"}. A threshold's value is included when the match has one.
  Alert Build(const cep::Match& match, const RuleInfo& rule, std::string summary) const;

 private:
  const cep::Clock* clock_;
};

// True if `text` is one complete, valid JSON value.
bool IsValidJson(std::string_view text);

}  // namespace vigil::alerting
