// The engine: event time, watermarks, and every rule's matching, for one set of rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/match.h"
#include "vigil/cep/rule.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::cep {

struct StreamOptions {
  // Bounded out-of-orderness: the stream's watermark is the largest event time seen minus this.
  Duration max_delay = 0;
};

struct RuleStats {
  uint64_t events_seen = 0;       // events of the rule's stream that had the rule's key fields
  uint64_t matches = 0;           // emitted
  uint64_t suppressed = 0;        // matches dropped by `suppress`
  uint64_t partial_matches_dropped = 0;  // past max_partial_matches
};

// What a rule holds right now (gauges, for metrics and leak tests).
struct RuleStateStats {
  size_t keys = 0;             // keys with state (partial matches, windows, suppression)
  size_t partial_matches = 0;  // pattern rules, not counting each key's start state
  size_t buffered_nodes = 0;   // shared-buffer nodes (taken events) across keys
  size_t bytes = 0;            // approximate heap bytes
  // Shared-buffer nodes still referenced when their key's state was dropped. Always 0
  // unless there is a bug; leak tests check it.
  size_t leaked_nodes = 0;
  // Keys whose state is only in the store (Engine::LimitMemory); not in `keys`.
  size_t evicted_keys = 0;
};

// Bounded memory (Engine::LimitMemory).
struct MemoryStats {
  size_t limit = 0;          // 0: unbounded
  size_t bytes = 0;          // accounted: keyed state with its events, key tables, indexes
  size_t evicted_keys = 0;   // (rule, key) states only in the store now
  uint64_t evictions = 0;    // (rule, key) states evicted so far
  uint64_t loads = 0;        // ... and loaded back
  uint64_t load_errors = 0;  // states the store could not give back (Engine::memory_error)
};

struct EngineStats {
  uint64_t events = 0;            // given to Process
  uint64_t late = 0;              // older than the watermark: counted, never matched
  uint64_t matches = 0;
};

enum class ProcessResult { kAccepted, kLate };

class StateBatch;
class StateStore;
// Called on every restored event before any rule sees it (the rule set's predicate scan:
// predicate bits depend on the rules loaded now, so they are not stored).
using EventPreparer = std::function<void(Event*)>;

struct CheckpointStats {
  size_t keys_written = 0;  // (rule, key) states put
  size_t keys_deleted = 0;  // states freed since the last checkpoint
};

struct RestoreStats {
  size_t keys = 0;             // (rule, key) states restored
  size_t stale_keys = 0;       // of rules removed or changed: dropped
  size_t buffered_events = 0;  // back in the reorder buffer
};

// Thread safety: not thread-safe; one thread drives an Engine.
//
// Events are matched in event-time order: Process() buffers each event until the watermark
// reaches its time, then every rule sees it (equal times keep arrival order). Matches go to
// the MatchSink as they complete, on the thread that called Process/AdvanceWatermark/Finish.
class Engine {
 public:
  // `sink` must outlive the engine.
  explicit Engine(MatchSink* sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Declares a stream; returns its index, which events carry in Event::stream.
  // REQUIRES: called before the first Process().
  uint32_t AddStream(std::string name, const StreamOptions& options);
  // Returns the index of a declared stream, or -1.
  int FindStream(std::string_view name) const;

  // Adds a rule; returns its index (Match::rule). Fails if the spec is inconsistent.
  // REQUIRES: called before the first Process().
  Result<uint32_t> AddRule(RuleSpec spec);
  const RuleSpec& rule(uint32_t index) const;
  size_t rule_count() const;
  const RuleStats& rule_stats(uint32_t index) const;
  RuleStateStats rule_state(uint32_t index) const;
  // Events waiting in the reorder buffer for the watermark, and timers not yet fired.
  size_t buffered_events() const;
  size_t pending_timers() const;
  // Entries of the index of keys with live state (across rules and key sets).
  size_t live_keys() const;

  // Takes the next event in arrival order. An event older than the current watermark is
  // late: it is counted and not matched (the caller reports it).
  // REQUIRES: event->stream was returned by AddStream. The engine sets event->seq.
  ProcessResult Process(std::shared_ptr<Event> event);

  // Watermarks per source partition (Event::partition): the watermark is the minimum
  // over every stream's partitions that have seen events and are not idle.
  // A partition marked idle (silent for the stream's `idle:` time, decided by the caller,
  // who owns processing time) stops holding the watermark back until its next event;
  // events older than the watermark by then are late. RemovePartition forgets one (a
  // Kafka partition revoked from this instance). Either may release buffered events and
  // fire timers, so matches can be emitted from these calls.
  void SetPartitionIdle(uint32_t stream, uint32_t partition, bool idle);
  void RemovePartition(uint32_t stream, uint32_t partition);

  // Checkpoints (architecture decision 5). With TrackChanges(true) (before the first
  // Process) the engine remembers whose state changed; AddToCheckpoint then adds to
  // `batch` the changed keyed state (family kKeyed, one entry per rule and key, deletes
  // for states freed), the reorder buffer (kReorder), suppression and the clocks with the
  // per-partition watermarks (kMeta). Written in one batch with the sources' positions
  // and the outbox, that is a consistent checkpoint. If the write fails, call
  // CheckpointFailed: the next checkpoint rewrites all keyed state.
  void TrackChanges(bool on);
  CheckpointStats AddToCheckpoint(StateBatch* batch, const FieldRegistry& fields);
  void CheckpointFailed();
  // Loads what AddToCheckpoint wrote. REQUIRES: streams and rules added, no event
  // processed yet. A rule's state is restored only into a rule of the same id and
  // semantics hash (RuleSpec::semantics_hash); state of rules removed or changed is
  // dropped, and deleted by the next checkpoint. Restored timers fire in deadline order;
  // among timers of different keys due at the same instant the order may differ from an
  // uninterrupted run (each key's alerts are the same). Garbled or foreign state is a
  // Corruption error naming the rule and key; an empty store restores nothing.
  Result<RestoreStats> Restore(const StateStore& store, const FieldRegistry& fields,
                               const EventPreparer& prepare);

  // Bounded memory (state.max_memory, architecture decision 5). Keyed state (with the
  // events it holds), the key tables and the index of evicted keys are accounted; past
  // `max_bytes` the caller checkpoints (OverMemoryLimit says when) and then calls Evict,
  // which drops the least recently used keys whose state the checkpoint just wrote, down
  // to 3/4 of the limit. An evicted key's state stays in `store` (family kKeyed, as
  // written by the checkpoint) and is loaded back, before anything else happens to it,
  // on its key's next event or when one of its timers comes due; pending timers of
  // evicted keys wait in the store (family kTimers, rebuilt by Restore; entries an earlier
  // engine left there only make a key load early). Matches are the same as without a limit. REQUIRES: TrackChanges(true), rules
  // added, called before Restore and the first Process; `store` (and `fields`) outlive
  // the engine; `prepare` as for Restore.
  Status LimitMemory(size_t max_bytes, StateStore* store, const FieldRegistry* fields,
                     EventPreparer prepare);
  // Accounted memory is past the limit: checkpoint, then Evict.
  bool OverMemoryLimit() const;
  // REQUIRES: no checkpoint in flight (every AddToCheckpoint batch has been written, or
  // reported with CheckpointFailed). Only states unchanged since the last checkpoint go.
  // Returns the (rule, key) states evicted.
  size_t Evict();
  MemoryStats memory_stats() const;
  // The first failure to read evicted state back or to write pending timers (the state
  // of those keys is lost for this run; counted in load_errors). Ok if none.
  const Status& memory_error() const;

  // Ends a bounded run: the watermark goes to +infinity, so every buffered event is
  // matched and every deadline and absence resolves. Further events are late.
  void Finish();

  // The watermark: the minimum over streams that have seen events of (max time - max_delay).
  Timestamp watermark() const;
  const EngineStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::cep
