// Internal: `vigil run`, the appliance (../shared/spec/cli.md). One Daemon wires the
// configuration together (docs/sources.md, "Wiring sources into the runtime"):
//
//   sources ──► RecordQueue ──► pipeline thread: Pipeline (decode, engine) ──► alerts
//   (own threads)                 │  checkpoints: engine + positions + outbox,    │
//                                 │  one atomic batch every checkpoint_interval   ▼
//                                 │                                  Outbox ──► sink workers
//   HTTP (/metrics, /healthz, /readyz) and the AdminBackend read snapshots or post tasks
//   that the pipeline thread runs between batches: only that thread touches the engine.
//
// Lifecycle: Create (config → store → rules → sinks → outbox recovery → sources, seeked)
// → Start (sources, sink workers, HTTP; ready) → Run on the calling thread until every
// source has ended (then the run finishes like a replay) or RequestStop (then intake
// stops, the queue drains); both end with a checkpoint and a bounded flush of the sinks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alert_feed.h"
#include "http_server.h"
#include "idle_tracker.h"
#include "vigil/alerting/outbox.h"
#include "vigil/alerting/sinks.h"
#include "vigil/cep/state_store.h"
#include "vigil/cep/time.h"
#include "vigil/edge/admin_backend.h"
#include "vigil/edge/admin_server.h"
#include "vigil/edge/config.h"
#include "vigil/edge/pipeline.h"
#include "vigil/ingest/dead_letter.h"
#include "vigil/ingest/record_queue.h"
#include "vigil/ingest/source.h"

namespace vigil::edge {

struct DaemonOptions {
  // Processing time: idle partitions, checkpoint intervals, detected_at, delivery
  // backoff. Null: the system clock. Tests inject a ManualClock and call Wake() after
  // moving it.
  const cep::Clock* clock = nullptr;
  ingest::LogFn log;  // null: stderr
  std::string version = "0.0.0";
  bool serve_http = true;  // api.http.listen
  bool serve_grpc = true;  // api.grpc: the admin API (AdminServer) over this daemon
  // The store; null: RocksDB at state.dir.
  std::unique_ptr<cep::StateStore> store;
  // systemd notifications ("READY=1", "STOPPING=1"); null: SdNotify.
  std::function<void(const std::string&)> notify;
  // Where the records of the source of a stream go: the real queue limits, or smaller in
  // tests.
  ingest::QueueLimits queue_limits;
};

// Counters of one stream, written by the pipeline thread, read by anyone.
struct StreamCounters {
  std::atomic<uint64_t> records{0}, events{0}, late{0}, malformed{0}, no_time{0};
};

class Daemon final : public AdminBackend, private AlertHandler {
 public:
  // Errors: kInvalidArgument for configuration problems the file loader cannot see
  // (source or sink options, rules naming unknown sinks), with key paths; others
  // (store, rules files) as they come.
  static Result<std::unique_ptr<Daemon>> Create(AppConfig config, DaemonOptions options);
  ~Daemon() override;

  // Starts sources, sink workers and the HTTP endpoints; then the daemon is ready.
  vigil::Status Start();
  // Runs the pipeline on the calling thread until the end (see above). Returns the exit
  // code: 0, or 1 when the last checkpoint could not be written.
  int Run();

  // Any thread, also from a signal-handling thread (not from a signal handler).
  void RequestStop();
  void RequestReload();
  // Makes the pipeline thread look at the clock now (after a ManualClock moved).
  void Wake();

  bool ready() const { return ready_.load(); }
  int http_port() const { return http_.port(); }
  // The admin API's address ("127.0.0.1:<port>"), empty when it is not served.
  std::string grpc_address() const { return admin_ ? admin_->address() : ""; }
  const AppConfig& config() const { return config_; }

  // Prometheus text format 0.0.4.
  std::string RenderMetrics();

  // AdminBackend
  v1::StatusResponse Status() override;
  Result<v1::CheckpointResponse> Checkpoint() override;
  v1::HealthResponse Health() override;
  std::vector<v1::Rule> ListRules() override;
  Result<v1::Rule> GetRule(const std::string& id) override;
  v1::ValidateRulesResponse ValidateRules(const std::string& yaml, const std::string& name) override;
  Result<v1::ApplyRulesResponse> ApplyRules(const std::string& yaml, const std::string& name) override;
  vigil::Status DeleteRule(const std::string& id) override;
  vigil::Status SetRuleEnabled(const std::string& id, bool enabled) override;
  std::vector<v1::Alert> RecentAlerts(const v1::AlertFilter& filter, uint32_t limit) override;
  std::unique_ptr<AlertSubscription> SubscribeAlerts(const v1::AlertFilter& filter,
                                                     uint32_t backlog) override;
  Result<uint64_t> Publish(const std::string& stream, std::vector<std::string> records) override;

 private:
  explicit Daemon(AppConfig config, DaemonOptions options);

  // Setup (daemon.cc).
  vigil::Status Init();
  // The rules as configured: config.rules, the documents applied through the API
  // (state.dir/api-rules/) and the enable/delete overrides; each rule's sinks resolved.
  struct LoadedRules {
    rules::Ruleset ruleset;
    std::map<std::string, alerting::SinkSet> sinks;  // by rule id
  };
  Result<LoadedRules> LoadRules(cep::FieldRegistry* fields);
  void PublishRulesView(const rules::Ruleset& ruleset);

  // The pipeline thread (daemon.cc).
  void Handle(ingest::Record& r);
  void RouteLate(uint32_t stream, const ingest::Record& r, uint64_t identity);
  void CheckIdle(cep::Timestamp now);
  // `sync`: durable before returning. A checkpoint taken only to evict (state.max_memory)
  // need not be: the store keeps writes in order, so after a power loss it holds an older
  // checkpoint, consistent in itself, and the evicted state in it.
  vigil::Status CheckpointNow(uint64_t* bytes, bool sync = true);
  void FlushSinks(cep::Duration timeout);
  void RunTasks();
  // Runs `fn` on the pipeline thread and waits for it (bounded); kUnavailable when the
  // pipeline is not running.
  vigil::Status OnPipeline(const std::function<void()>& fn, int timeout_ms = 30000);
  void RefreshSnapshot(bool if_stale = false);
  void OnAlert(const alerting::Alert& alert) override;
  void Log(ingest::LogLevel level, const std::string& message) const;
  cep::Timestamp Now() const { return clock_->Now(); }

  // The engine's part of checkpoints, restore and rule replacement: the one place where
  // the daemon reaches into engine state (daemon_engine.cc).
  vigil::Status RestoreEngine();
  // state.max_memory: past the budget, a checkpoint and then eviction (once per batch of
  // records; after a sweep that freed nothing, a few batches later).
  void EvictIfOverBudget();
  int evict_wait_ = 0;
  bool memory_error_logged_ = false;
  void AddEngineToCheckpoint(cep::StateBatch* batch);
  void EngineCheckpointFailed();
  // Switches to a pipeline running `rules` (compiled against `fields`), keeping the state
  // of unchanged rules (Pipeline::WithRules). On failure the running pipeline stays.
  Result<RulesChange> ReplaceEngineRules(LoadedRules rules, std::shared_ptr<cep::FieldRegistry> fields);

  // Rule changes (daemon_rules.cc), on the pipeline thread: `persist` writes the change
  // (an API document, an override), the rules are loaded again and replace the engine's;
  // if either step fails, `revert` undoes the write.
  Result<RulesChange> ChangeRules(const std::function<vigil::Status()>& persist,
                                  const std::function<void()>& revert);
  vigil::Status SetOverride(const std::string& id, const std::string& value,
                            std::function<void()>* revert);
  void Reload();
  std::string ApiRulesDir() const;

  AppConfig config_;
  DaemonOptions options_;
  const cep::Clock* clock_;
  std::unique_ptr<cep::StateStore> store_;
  std::shared_ptr<cep::FieldRegistry> fields_;
  std::unique_ptr<Pipeline> pipeline_;
  std::map<std::string, alerting::SinkSet> rule_sinks_;  // pipeline thread
  ingest::DeadLetters dead_letters_;
  ingest::RecordQueue queue_;
  std::vector<std::unique_ptr<ingest::Source>> sources_;  // index: stream = queue source
  std::vector<std::unique_ptr<StreamCounters>> stream_counters_;
  std::vector<bool> ended_;
  bool engine_finished_ = false;  // Finish ran: checkpoints leave the engine's state alone
  size_t ended_count_ = 0;
  IdleTracker idle_;
  std::unique_ptr<alerting::Outbox> outbox_;
  std::unique_ptr<alerting::Router> router_;
  std::vector<std::pair<std::string, std::string>> sinks_;  // name, type (outbox order)
  AlertFeed feed_;
  HttpServer http_;
  std::unique_ptr<AdminServer> admin_;
  cep::Timestamp started_ = 0;

  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> reload_requested_{false};
  std::atomic<bool> pipeline_running_{false};

  std::mutex tasks_mu_;
  std::condition_variable tasks_cv_;
  std::deque<std::function<void()>> tasks_;
  bool tasks_closed_ = false;

  // Checkpoints (written by the pipeline thread).
  std::atomic<uint64_t> checkpoints_{0}, checkpoint_failures_{0}, checkpoint_bytes_{0};
  std::atomic<int64_t> last_checkpoint_{0};
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};

  // What HTTP and Status read without stopping the pipeline: refreshed by the pipeline
  // thread every 5 s, and on request (at most once a second).
  struct RuleSnapshot {
    std::string id, severity;
    bool enabled = true;
    cep::RuleStats stats;
    cep::RuleStateStats state;
  };
  struct Snapshot {
    cep::Timestamp taken = 0;
    cep::Timestamp watermark = INT64_MIN;
    std::vector<cep::Timestamp> stream_max_time;
    std::vector<RuleSnapshot> rules;
    std::map<std::string, uint64_t> alerts_by_rule;
    cep::MemoryStats memory;
  };
  mutable std::mutex snapshot_mu_;
  Snapshot snapshot_;
  std::chrono::steady_clock::time_point last_refresh_{};  // pipeline thread
  std::map<std::string, uint64_t> alerts_by_rule_;  // pipeline thread

  mutable std::mutex rules_mu_;
  std::vector<v1::Rule> rules_view_;
};

}  // namespace vigil::edge
