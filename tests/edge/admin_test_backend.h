// Test support: a small but real AdminBackend in memory. Rule documents are loaded with
// vigil::rules (so Validate and Apply report real positions and semantics hashes), alerts
// live in a ring and reach subscribers through real queues, Publish records what it got.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "vigil/edge/admin_backend.h"

namespace vigil::edge::testing {

class TestBackend final : public AdminBackend {
 public:
  TestBackend();
  ~TestBackend() override;

  // Admin
  v1::StatusResponse Status() override;
  Result<v1::CheckpointResponse> Checkpoint() override;
  v1::HealthResponse Health() override;

  // Rules
  std::vector<v1::Rule> ListRules() override;
  Result<v1::Rule> GetRule(const std::string& id) override;
  v1::ValidateRulesResponse ValidateRules(const std::string& yaml,
                                          const std::string& name) override;
  Result<v1::ApplyRulesResponse> ApplyRules(const std::string& yaml,
                                            const std::string& name) override;
  vigil::Status DeleteRule(const std::string& id) override;
  vigil::Status SetRuleEnabled(const std::string& id, bool enabled) override;

  // Alerts
  std::vector<v1::Alert> RecentAlerts(const v1::AlertFilter& filter, uint32_t limit) override;
  std::unique_ptr<AlertSubscription> SubscribeAlerts(const v1::AlertFilter& filter,
                                                     uint32_t backlog) override;

  // Ingest: streams "events" (type grpc) and "files" (type file).
  Result<uint64_t> Publish(const std::string& stream, std::vector<std::string> records) override;

  // ---- for tests
  // Raises an alert: into the ring and to every subscriber whose filter passes it.
  void Raise(v1::Alert alert);
  // Ends every subscription (their Next reports `stopping`), as an appliance stopping does.
  void StopAlerts();
  size_t subscribers() const;
  // Waits (up to `timeout`) until `n` subscriptions are open; false on timeout.
  bool WaitForSubscribers(size_t n, std::chrono::milliseconds timeout) const;
  // Publish accepts this many records in total, then fails (kUnavailable). Default: no limit.
  void FailPublishAfter(uint64_t records);
  std::vector<std::string> published() const;
  uint64_t publish_calls() const;
  void set_ready(bool ready);

 private:
  class Subscription;
  friend class Subscription;
  struct StoredRule {
    v1::Rule rule;
    std::string document;
  };
  static bool Passes(const v1::AlertFilter& filter, const v1::Alert& alert);
  void Unsubscribe(Subscription* sub);

  mutable std::mutex mu_;
  mutable std::condition_variable subscribers_changed_;
  std::map<std::string, StoredRule> rules_;                    // by id
  std::map<std::string, std::vector<std::string>> documents_;  // name → rule ids
  std::deque<v1::Alert> ring_;
  std::set<Subscription*> subs_;
  bool alerts_stopped_ = false;
  std::vector<std::string> published_;
  uint64_t publish_calls_ = 0;
  uint64_t publish_limit_ = UINT64_MAX;
  uint64_t checkpoints_ = 0;
  bool ready_ = true;
};

// An alert as the daemon would send it; `second` is the second of 2026-11-21T10:15.
v1::Alert MakeAlert(const std::string& rule_id, const std::string& severity, int second,
                    const std::string& ip);

}  // namespace vigil::edge::testing
