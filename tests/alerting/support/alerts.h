// Alerts made by hand for the outbox and sink tests, and a sink the test drives.
#pragma once

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "vigil/alerting/alert.h"
#include "vigil/alerting/sink.h"
#include "vigil/cep/time.h"
#include "vigil/cep/value.h"

namespace vigil::alerting::testing {

// 2026-11-21T10:15:02Z
inline constexpr cep::Timestamp kAlertTime = 1795256102 * cep::kSecond;

inline std::string Quote(const std::string& s) {
  std::string out;
  cep::AppendJsonString(s, &out);
  return out;
}

inline std::string TestAlertId(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032x", n);
  return buf;
}

// Alert number n: a well-formed alert JSON (cli.md) with a deterministic id.
inline Alert MakeTestAlert(int n, std::string severity = "high", std::string rule = "ssh-bruteforce",
                           std::string summary = "") {
  Alert a;
  a.id = TestAlertId(n);
  a.rule_id = rule;
  a.severity = severity;
  a.time = kAlertTime + n * cep::kSecond;
  a.detected_at = a.time + 417 * cep::kMillisecond;
  a.key_json = "{\"source.ip\":\"10.0.0." + std::to_string(n % 250) + "\"}";
  a.summary = summary.empty() ? "alert " + std::to_string(n) + " from 10.0.0." + std::to_string(n % 250) : summary;
  std::string t = cep::FormatRfc3339Millis(a.time);
  a.json = "{\"id\":\"" + a.id + "\",\"rule\":{\"id\":\"" + rule +
           "\",\"title\":\"SSH brute force\",\"severity\":\"" + severity +
           "\",\"tags\":[\"attack.credential_access\",\"attack.t1110\"]},\"key\":" + a.key_json +
           ",\"time\":\"" + t + "\",\"detected_at\":\"" + cep::FormatRfc3339Millis(a.detected_at) +
           "\",\"summary\":" + Quote(a.summary) + ",\"matches\":[{\"step\":\"fail\",\"event\":{\"@timestamp\":\"" + t +
           "\",\"source\":{\"ip\":\"10.0.0." + std::to_string(n % 250) +
           "\"},\"user\":{\"name\":\"root\"},\"event\":{\"outcome\":\"failure\"}}}]}";
  return a;
}

// A sink whose answers the test sets: delivered, retry (while failing) or reject.
class ScriptedSink final : public Sink {
 public:
  DeliveryResult Deliver(const AlertView& alert) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++attempts_;
    if (reject_.count(alert.id())) return DeliveryResult::Reject("rejected by the test");
    if (failing_) return DeliveryResult::Retry("sink is down");
    delivered_.push_back(alert.id());
    return DeliveryResult::Delivered();
  }
  void set_failing(bool f) {
    std::lock_guard<std::mutex> lock(mu_);
    failing_ = f;
  }
  void Reject(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_.insert(id);
  }
  std::vector<std::string> delivered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }
  int attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }

 private:
  mutable std::mutex mu_;
  bool failing_ = false;
  int attempts_ = 0;
  std::set<std::string> reject_;
  std::vector<std::string> delivered_;
};

// Forwards to a ScriptedSink the test keeps (the outbox owns its sinks).
class SinkRef final : public Sink {
 public:
  explicit SinkRef(ScriptedSink* target) : target_(target) {}
  DeliveryResult Deliver(const AlertView& alert) override { return target_->Deliver(alert); }

 private:
  ScriptedSink* target_;
};

}  // namespace vigil::alerting::testing
