// Sinks: where alerts go (webhook, Splunk HEC, PagerDuty, Slack, syslog, Lambda, Kafka,
// MQTT, stdout, file). Each type lives in its own folder (alerting/<type>/), implements
// Sink and is registered by type name in one registry (sinks.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

// info < low < medium < high < critical; -1 for anything else.
int SeverityRank(std::string_view severity);

// An alert as a sink sees it: the alert JSON of cli.md (what the outbox stores) and the
// parts sinks need, read from it once.
class AlertView {
 public:
  // Parses the alert JSON. Fails when it is not an alert (no id, rule or time).
  static Result<std::unique_ptr<AlertView>> Parse(std::string json);
  ~AlertView();
  AlertView(const AlertView&) = delete;
  AlertView& operator=(const AlertView&) = delete;

  const std::string& json() const { return json_; }
  const std::string& id() const { return id_; }
  const std::string& rule_id() const { return rule_id_; }
  const std::string& rule_title() const { return rule_title_; }
  const std::string& severity() const { return severity_; }
  const std::vector<std::string>& tags() const { return tags_; }
  // The key's fields in order: name and value as text (strings unquoted, others as JSON).
  const std::vector<std::pair<std::string, std::string>>& key() const { return key_; }
  const std::string& key_json() const { return key_json_; }  // {"source.ip":"10.0.0.9"}
  cep::Timestamp time() const { return time_; }
  cep::Timestamp detected_at() const { return detected_at_; }
  const std::string& summary() const { return summary_; }
  std::optional<double> value() const { return value_; }
  size_t match_count() const;
  const std::string& match_step(size_t i) const { return steps_[i]; }
  // The matched event's JSON, compact. REQUIRES: i < match_count().
  std::string MatchEventJson(size_t i) const;
  // The matched event's time, if it has an RFC 3339 @timestamp/timestamp.
  std::optional<cep::Timestamp> MatchEventTime(size_t i) const;
  // Values of a field of the i-th matched event, nested ({"source":{"ip":..}}) or flat
  // ("source.ip"); arrays give each element. Scalars as text, others as compact JSON.
  std::vector<std::string> EventValues(size_t i, std::string_view path) const;

  // A value for templates, as JSON (strings quoted): "id", "rule.id", "rule.title",
  // "rule.severity", "rule.tags", "key", "key.<field>", "time", "detected_at", "summary",
  // "value", "matches", "alert" (the whole alert), "event.<field>" (of the last matched
  // event). Null (nullopt) when absent.
  std::optional<std::string> Lookup(std::string_view path) const;

 private:
  struct Dom;
  AlertView();
  std::string json_, id_, rule_id_, rule_title_, severity_, key_json_, summary_;
  std::vector<std::string> tags_, steps_;
  std::vector<std::pair<std::string, std::string>> key_;
  cep::Timestamp time_ = 0, detected_at_ = 0;
  std::optional<double> value_;
  std::unique_ptr<Dom> dom_;
};

// What one delivery attempt came to.
struct DeliveryResult {
  enum class Outcome {
    kDelivered,
    kRetry,   // a transient failure: try again later (network, 5xx, 429, broker down)
    kReject,  // the receiver refused this alert for good (400, 413): dead-letter it
  };
  Outcome outcome = Outcome::kDelivered;
  std::string error;             // for kRetry / kReject: what went wrong, for logs and stats
  cep::Duration retry_after = 0;  // a receiver's Retry-After, if it gave one

  static DeliveryResult Delivered() { return {}; }
  static DeliveryResult Retry(std::string error, cep::Duration retry_after = 0) {
    return {Outcome::kRetry, std::move(error), retry_after};
  }
  static DeliveryResult Reject(std::string error) { return {Outcome::kReject, std::move(error), 0}; }
  bool ok() const { return outcome == Outcome::kDelivered; }
};

// Delivers alerts to one destination.
// Thread safety: a sink is created on one thread and then used by its worker thread only
// (the outbox runs one worker per sink), so it keeps its connections without locking.
class Sink {
 public:
  virtual ~Sink() = default;
  // One attempt at delivering `alert`. Must return within the sink's timeout.
  virtual DeliveryResult Deliver(const AlertView& alert) = 0;
};

// What a sink may need from the appliance.
struct SinkContext {
  std::string sink_name;          // the key under `sinks:`
  std::string node_id = "vigil";  // node.id: host in Splunk, source in PagerDuty, syslog HOSTNAME
  std::string version = "0.1.0";  // Vigil's version, in CEF and OCSF metadata
  const cep::Clock* clock = nullptr;  // for signatures (X-Vigil-Timestamp, SigV4); null = system
  std::function<void(const std::string&)> warn;  // startup warnings (http:// URLs); null = stderr
};

}  // namespace vigil::alerting
