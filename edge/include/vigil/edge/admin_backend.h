// What the admin API (gRPC, edge/src/admin/) asks of the running appliance. The daemon
// (`vigil run`) implements it; the gRPC services translate requests into these calls and
// their results into replies, and know nothing else about the daemon. Messages are the
// generated vigil.v1 types (proto/vigil/v1/), so nothing is converted twice.
//
// Thread safety: every method may be called from any gRPC thread at any time, several at
// once; the implementation serialises what touches the engine (it runs on the pipeline
// thread) and may block the caller until that thread has answered.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/status.h"
#include "vigil/v1/admin.pb.h"
#include "vigil/v1/alerts.pb.h"
#include "vigil/v1/rules.pb.h"

namespace vigil::edge {

// A live feed of alerts, as Alerts.Tail streams them. Destroying it unsubscribes.
class AlertSubscription {
 public:
  virtual ~AlertSubscription() = default;
  // Waits up to `timeout_ms` for the next alert passing the filter. Returns false on
  // timeout, or when the appliance is stopping (then `stopping` is set).
  virtual bool Next(v1::Alert* alert, int timeout_ms, bool* stopping) = 0;
  // Alerts the subscriber was too slow for (dropped from its queue, never from delivery).
  virtual uint64_t dropped() const = 0;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Admin
  virtual v1::StatusResponse Status() = 0;
  // A checkpoint now (state, source positions, outbox), as the periodic one does.
  virtual Result<v1::CheckpointResponse> Checkpoint() = 0;
  virtual v1::HealthResponse Health() = 0;

  // Rules. Errors: kNotFound for an unknown id; kInvalidArgument with the diagnostics (one
  // per line, "file:line:column: message") for a document that does not load.
  virtual std::vector<v1::Rule> ListRules() = 0;
  virtual Result<v1::Rule> GetRule(const std::string& id) = 0;
  virtual v1::ValidateRulesResponse ValidateRules(const std::string& yaml, const std::string& name) = 0;
  // Hot: unchanged rules (same id and semantics hash) keep their state, changed rules
  // start fresh, rules of the same document no longer in it are removed with their state.
  virtual Result<v1::ApplyRulesResponse> ApplyRules(const std::string& yaml, const std::string& name) = 0;
  virtual vigil::Status DeleteRule(const std::string& id) = 0;
  virtual vigil::Status SetRuleEnabled(const std::string& id, bool enabled) = 0;

  // Alerts
  virtual std::vector<v1::Alert> RecentAlerts(const v1::AlertFilter& filter, uint32_t limit) = 0;
  // `backlog` recent alerts passing the filter come first, then live ones.
  virtual std::unique_ptr<AlertSubscription> SubscribeAlerts(const v1::AlertFilter& filter,
                                                             uint32_t backlog) = 0;

  // Ingest: records for a stream whose source has `type: grpc`. Returns once they are
  // durable in the stream's ingest log (ingest::PushSource::Publish); kNotFound for an
  // unknown stream, kInvalidArgument for a stream of another type.
  virtual Result<uint64_t> Publish(const std::string& stream, std::vector<std::string> records) = 0;
};

}  // namespace vigil::edge
