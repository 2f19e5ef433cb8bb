// The durable outbox (architecture decision 6): the engine appends alerts; one worker
// per sink delivers them, in order, at least once, with exponential backoff and jitter,
// a circuit breaker and a give-up age after which an alert becomes a dead letter.
//
// Durability: the outbox writes into the caller's StateBatch (AddToCheckpoint), so the
// engine's checkpoint stores keyed state, source positions and undelivered alerts in one
// atomic write. After a restart, Recover() reloads the undelivered alerts and where each
// sink had got to; re-processing re-emits the alerts after the checkpoint with the same
// ids, and those the outbox already holds are dropped.
//
// Layout in StateFamily::kOutbox:
//   "a" + seq (8 bytes, big-endian)      -> an alert not yet delivered to all its sinks
//   "c" + sink name                      -> that sink's cursor: every alert with a
//                                           smaller seq is done for it (delivered or dead)
//   "d" + seq + sink name                -> a dead letter
//   "n"                                  -> the next seq
//
// Bound: `outbox_max` bytes of held alerts. When an append would go over it, the alert is
// still kept for sinks whose own backlog is under an eighth of outbox_max (they are
// keeping up, and another sink's outage must not cost them alerts) and dropped for the
// others, counted as overflow per sink: the oldest undelivered alerts are kept, the
// engine never waits. So the held bytes stay under outbox_max plus an eighth of it per
// sink that keeps up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "vigil/alerting/alert.h"
#include "vigil/alerting/sink.h"
#include "vigil/alerting/sinks.h"
#include "vigil/cep/state_store.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

struct OutboxOptions {
  RetryPolicy retry;
  uint64_t max_bytes = 1000ull * 1000 * 1000;  // delivery.outbox_max's default, "1GB"
  int dead_letter_keep = 1000;
  // Alert age, backoff deadlines and give-up. Null: the system clock. With a ManualClock,
  // call Wake() after moving it so that waiting workers look again at once.
  const cep::Clock* clock = nullptr;
  uint64_t jitter_seed = 0;  // 0: random
  // Where dead letters and overflow are reported (one line each). Null: stderr.
  std::function<void(const std::string&)> log;
};

struct OutboxSink {
  std::string name;
  std::unique_ptr<Sink> sink;
};

enum class AppendResult {
  kAppended,
  kDuplicate,  // the outbox already holds an alert with this id
  kNoSinks,    // routed to no sink
  kOverflow,   // the outbox is full for every sink it was routed to
};

struct SinkStats {
  std::string name;
  uint64_t delivered = 0;
  uint64_t attempts = 0;
  uint64_t failures = 0;     // failed attempts
  uint64_t dead_letters = 0;
  uint64_t overflow = 0;     // alerts not kept for this sink because the outbox was full
  uint64_t backlog = 0;      // alerts waiting for this sink
  uint64_t backlog_bytes = 0;
  int consecutive_failures = 0;
  bool circuit_open = false;
  std::string last_error;
};

struct OutboxStats {
  uint64_t appended = 0;
  uint64_t duplicates = 0;
  uint64_t overflow = 0;  // alerts dropped for every sink they were routed to
  uint64_t held = 0;      // alerts not yet done for every sink
  uint64_t held_bytes = 0;
  std::vector<SinkStats> sinks;
};

// The outbox settings of `delivery:`, and the sinks of a loaded config, in config order
// (so sink i of the Router is sink i of the outbox).
OutboxOptions OutboxOptionsFrom(const DeliverySettings& delivery);
std::vector<OutboxSink> TakeSinks(AlertingConfig* config);

struct DeadLetter {
  uint64_t seq = 0;
  std::string sink;
  std::string alert_id;
  std::string reason;
  cep::Timestamp at = 0;
  std::string alert_json;
};

// The delay before retry number `failures` (1-based): base = min(max, initial * 2^(failures-1)),
// then "equal jitter": base/2 fixed plus a uniform random part up to base/2, so sinks that
// failed together do not retry in step. At least `retry_after` (a receiver's Retry-After),
// at most max.
cep::Duration BackoffDelay(const RetryPolicy& policy, int failures, cep::Duration retry_after,
                           std::mt19937_64* rng);

// Thread safety: every public method may be called from any thread; Append, the
// checkpoint calls and Stats never wait on a network or on a sink.
class Outbox {
 public:
  // `store` must outlive the outbox; sinks are owned by it. At most kMaxSinks sinks.
  Outbox(cep::StateStore* store, std::vector<OutboxSink> sinks, OutboxOptions options);
  ~Outbox();  // stops the workers
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Reloads undelivered alerts, cursors and dead letters from the store. Alerts routed
  // only to sinks that are no longer configured are dropped (and removed at the next
  // checkpoint). REQUIRES: before Start() and before any Append().
  Status Recover();
  // Starts one worker per sink.
  void Start();
  // Stops the workers after their current attempt (bounded by the sinks' timeouts).
  // Nothing is lost: undelivered alerts stay for the next checkpoint and restart.
  void Stop();

  // Queues `alert` for the sinks in `sinks` (indexes into the constructor's list) and
  // hands it to their workers at once. Never blocks on delivery.
  AppendResult Append(const Alert& alert, SinkSet sinks);
  // The same, taking the alert's JSON without a copy.
  AppendResult Append(Alert&& alert, SinkSet sinks);

  // Adds to `batch` what changed since the last checkpoint: alerts appended and still
  // undelivered, the sinks' cursors, removals of alerts now done, new dead letters.
  void AddToCheckpoint(cep::StateBatch* batch);
  // The batch of the last AddToCheckpoint was not written: put its changes back so the
  // next checkpoint carries them.
  void CheckpointFailed();
  // Standalone use (tests, benchmarks, a process without an engine checkpoint):
  // AddToCheckpoint into a batch of its own and write it.
  Status Commit(bool sync);
  // Standalone use: Commit every `interval` on a thread of its own until Stop().
  void StartPeriodicCommit(cep::Duration interval);

  // Wakes workers waiting for a retry deadline, so they look at the clock again.
  void Wake();

  OutboxStats Stats() const;
  std::vector<DeadLetter> DeadLetters() const;
  size_t sink_count() const { return workers_.size(); }

 private:
  struct Entry;
  struct Worker;

  AppendResult AppendJson(std::string id, std::string json, SinkSet sinks);
  void Run(Worker* w);
  cep::Timestamp Now() const;
  cep::Duration Backoff(int failures, cep::Duration retry_after);
  // REQUIRES: mu_ held. The head alert of `w` is done for it (delivered or dead).
  void FinishHead(Worker* w);
  void AddDeadLetter(Worker* w, const Entry& e, const std::string& reason);
  void Log(const std::string& line) const;

  cep::StateStore* store_;
  OutboxOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<uint64_t, std::shared_ptr<Entry>> entries_;  // held, by seq
  std::unordered_map<std::string, uint64_t> ids_;       // held alert id -> seq
  uint64_t next_seq_ = 1;
  uint64_t held_bytes_ = 0;
  uint64_t appended_ = 0, duplicates_ = 0, overflow_ = 0;
  // Checkpoint bookkeeping.
  std::vector<uint64_t> undurable_;         // appended since the last checkpoint
  std::vector<uint64_t> done_durable_;      // durable alerts now done: delete at checkpoint
  std::vector<uint64_t> last_deleted_;      // what the last checkpoint deleted
  std::vector<uint64_t> last_written_;      // what the last checkpoint wrote
  std::deque<DeadLetter> dead_letters_;     // the newest dead_letter_keep
  std::vector<DeadLetter> new_dead_letters_;
  std::vector<DeadLetter> last_dead_written_;
  std::vector<std::string> stale_keys_;     // old dead letters, cursors of removed sinks
  std::vector<std::string> last_dropped_;
  std::mt19937_64 rng_;
  bool started_ = false;
  bool stopping_ = false;
  std::condition_variable commit_cv_;
  std::thread committer_;
};

}  // namespace vigil::alerting
