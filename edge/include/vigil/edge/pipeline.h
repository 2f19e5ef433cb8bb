// The path of one event through Vigil: decode → engine → alert. Shared by `run`, `replay`
// and `test` (architecture decision 7: one engine for bounded and unbounded data).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/alerting/alert.h"
#include "vigil/cep/engine.h"
#include "vigil/cep/event.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"
#include "vigil/ingest/decoder.h"
#include "vigil/ingest/extract.h"
#include "vigil/ingest/source.h"
#include "vigil/ingest/syslog_decoder.h"
#include "vigil/rules/predicates.h"
#include "vigil/rules/ruleset.h"

namespace vigil::edge {

// Receives alerts, in emission order, on the pipeline's thread.
class AlertHandler {
 public:
  virtual ~AlertHandler() = default;
  virtual void OnAlert(const alerting::Alert& alert) = 0;
};

// How one stream's records become events.
struct StreamSettings {
  std::string stream = "default";
  std::string format = "json";         // json | syslog | raw
  ingest::TimestampOptions timestamp;  // json
  ingest::SyslogOptions syslog;        // syslog (its clock defaults to the pipeline's)
  std::vector<ingest::ExtractSpec> extract;  // applied in order after decoding
  cep::Duration max_delay = 0;
};

// The first stream's settings (for replay and test the only stream), and the others.
struct PipelineOptions : StreamSettings {
  std::vector<StreamSettings> more_streams;
  const cep::Clock* clock = nullptr;  // detected_at, raw-record time; null = the system clock
  // The engine remembers whose state changed, for AddToCheckpoint (durable state).
  bool checkpoints = false;
};

// What a rule reload did (Pipeline::WithRules), by rule id.
struct RulesChange {
  std::vector<std::string> added;      // new, or enabled again: start fresh
  std::vector<std::string> changed;    // other matching semantics: start fresh
  std::vector<std::string> unchanged;  // same id and semantics hash: keep their state
  std::vector<std::string> removed;    // gone, or disabled: their state is dropped
};

struct PipelineStats {
  uint64_t records = 0;     // given to Process
  uint64_t events = 0;      // decoded and given to the engine
  uint64_t malformed = 0;   // not decodable: dead-lettered
  uint64_t no_time = 0;     // no usable time field
  uint64_t late = 0;        // older than the watermark
  uint64_t alerts = 0;
  rules::PredicateScanStats predicates;  // the shared string-predicate scan of each event
};

enum class RecordOutcome { kProcessed, kSkipped, kMalformed, kNoTime, kLate };

// Thread safety: one thread drives a Pipeline.
class Pipeline final : public cep::MatchSink {
 public:
  // Takes the loaded rules and the registry they were compiled against. `handler` must
  // outlive the pipeline.
  static Result<std::unique_ptr<Pipeline>> Create(rules::Ruleset rules,
                                                  std::shared_ptr<cep::FieldRegistry> fields,
                                                  const PipelineOptions& options,
                                                  AlertHandler* handler);
  ~Pipeline() override;

  // Decodes one record of the first stream, from `source` at `position` (for files: the
  // byte offset of the line), and runs it through the engine. On kMalformed / kNoTime,
  // `error` says why.
  RecordOutcome Process(std::string_view record, std::string_view source, uint64_t position,
                        std::string* error) {
    return ProcessStream(0, record, ingest::EventIdentity(source, position), 0, error);
  }
  // The same for stream `stream` (0: the first; i+1: more_streams[i]) with the record's
  // stable identity (alert ids derive from it) and its source partition.
  RecordOutcome ProcessStream(size_t stream, std::string_view record, uint64_t identity,
                              uint32_t partition, std::string* error);
  size_t stream_count() const { return streams_.size(); }
  // A source's record for stream `stream`: as ProcessStream, and the values of the
  // source's metadata fields (SetMetadataFields) set on the event before extract.
  RecordOutcome ProcessRecord(size_t stream, const ingest::Record& record, uint64_t identity,
                              std::string* error);
  // The metadata fields (ingest::Source::MetadataFields) of stream `stream`'s records;
  // only those some rule reads are bound.
  void SetMetadataFields(size_t stream, const std::vector<std::string>& fields);
  // The largest event time of stream `stream` given to the engine (INT64_MIN before any).
  cep::Timestamp max_event_time(size_t stream) const { return streams_[stream].max_time; }

  // Source partitions of stream `stream` (cep::Engine::SetPartitionIdle, RemovePartition).
  void SetPartitionIdle(size_t stream, uint32_t partition, bool idle) {
    engine_->SetPartitionIdle(streams_[stream].index, partition, idle);
  }
  void RemovePartition(size_t stream, uint32_t partition) {
    engine_->RemovePartition(streams_[stream].index, partition);
  }

  // Ends a bounded run: the final watermark resolves every window and absence.
  void Finish();

  // Durable state (with options.checkpoints): the engine's part of a checkpoint, into the
  // batch that also holds the sources' positions and the outbox; see cep::Engine.
  cep::CheckpointStats AddToCheckpoint(cep::StateBatch* batch) {
    return engine_->AddToCheckpoint(batch, *fields_);
  }
  void CheckpointFailed() { engine_->CheckpointFailed(); }
  // Loads the engine's state from the last checkpoint. REQUIRES: no record processed yet.
  Result<cep::RestoreStats> Restore(const cep::StateStore& store);
  // Bounded memory (state.max_memory; cep::Engine::LimitMemory): keyed state past
  // `max_bytes` is evicted to `store` (which outlives the pipeline). REQUIRES:
  // options.checkpoints, called before Restore. The caller checkpoints when
  // OverMemoryLimit() and calls Evict() once the checkpoint is written.
  Status LimitMemory(size_t max_bytes, cep::StateStore* store);
  bool OverMemoryLimit() const { return engine_->OverMemoryLimit(); }
  size_t Evict() { return engine_->Evict(); }

  // Hot reload: a pipeline with the same streams and handler running `rules` (compiled
  // against `fields`), holding this one's state for every rule whose id and matching
  // semantics are unchanged, and its clocks and waiting events. This pipeline keeps its
  // state (so a failed reload changes nothing; its next checkpoint rewrites all keyed
  // state); the caller switches over. The new pipeline's next checkpoint rewrites all
  // keyed state too, replacing the old rules' in the store.
  // With bounded memory and keys evicted, the state moves through `store` instead (the
  // new pipeline restores from it, as after a restart): REQUIRES then that a checkpoint
  // of this pipeline was just written to `store`.
  Result<std::unique_ptr<Pipeline>> WithRules(rules::Ruleset rules,
                                              std::shared_ptr<cep::FieldRegistry> fields,
                                              RulesChange* change, cep::StateStore* store = nullptr);
  // Keys whose state is only in the store (bounded memory).
  size_t evicted_keys() const { return engine_->memory_stats().evicted_keys; }

  const PipelineStats& stats() const { return stats_; }
  const cep::Engine& engine() const { return *engine_; }
  const rules::Ruleset& ruleset() const { return rules_; }

  // cep::MatchSink
  void OnMatch(const cep::Match& match) override;

 private:
  Pipeline(rules::Ruleset rules, std::shared_ptr<cep::FieldRegistry> fields,
           const PipelineOptions& options, AlertHandler* handler);

  rules::Ruleset rules_;
  std::shared_ptr<cep::FieldRegistry> fields_;
  PipelineOptions options_;
  AlertHandler* handler_;
  size_t max_memory_ = 0;  // LimitMemory's, for WithRules
  struct Stream {
    std::unique_ptr<ingest::Decoder> decoder;
    std::unique_ptr<ingest::Extractor> extractor;  // null without extract:
    uint32_t index = 0;                            // the engine's stream index
    std::unique_ptr<ingest::MetadataBinder> metadata;  // null: no metadata fields bound
    cep::Timestamp max_time = INT64_MIN;
  };
  RecordOutcome Run(size_t stream, std::string_view data, const ingest::Record* record,
                    uint64_t identity, uint32_t partition, std::string* error);
  Status AddStream(const StreamSettings& settings);

  std::unique_ptr<cep::Engine> engine_;
  std::vector<Stream> streams_;
  alerting::AlertBuilder builder_;
  std::vector<alerting::RuleInfo> infos_;      // per engine rule index
  std::vector<const rules::Rule*> by_index_;   // per engine rule index
  PipelineStats stats_;
};

}  // namespace vigil::edge
