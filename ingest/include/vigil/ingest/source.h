// Sources: where a stream's records come from (Kafka, MQTT, gRPC pushes, a file, stdin).
//
// A source runs on its own threads and hands Records to the engine thread through a
// bounded RecordQueue (record_queue.h); a full queue stops its intake (back-pressure), so
// memory stays bounded whatever the input rate.
//
// Positions and checkpoints (architecture decision 5). Each record carries an opaque,
// per-partition position. The engine thread tells the source which records it has
// processed (Processed), and a checkpoint asks every source for the positions of those
// records (AddPositions, into the checkpoint's one atomic StateBatch). Once that batch is
// durable the runtime calls OnCheckpointed: Kafka then commits the offsets to the broker;
// sources that cannot replay (MQTT, stdin, gRPC) keep their records in an ingest log
// (StateFamily::kIngestLog) from receipt until a checkpoint covers them. On restart, Seek
// reads the stored positions before Start, so a source resumes after the last record
// whose effects the checkpoint holds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/options.h"
#include "vigil/cep/state_store.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::ingest {

class DeadLetters;
class RecordQueue;

// state.durability: how records of sources that cannot replay are made durable before
// they are acknowledged to their sender.
enum class Durability : uint8_t {
  kSync,      // written and fsync'd (group commit where the source allows it)
  kBuffered,  // written to the store, not fsync'd: survives a process crash
  kNone,      // not logged: records received but not checkpointed are lost on a crash
};
bool ParseDurability(std::string_view text, Durability* out);
const char* DurabilityName(Durability d);

enum class RecordKind : uint8_t {
  kData,
  kEnd,                // the source has ended (follow: false, stdin closed); nothing follows
  kPartitionRevoked,   // `partition` is no longer this instance's (Kafka rebalance): drop its
                       // watermark
  kCheckpointRequest,  // the source asks for a checkpoint now (Kafka, before giving partitions
                       // away)
};

// One record as a source received it.
struct Record {
  RecordKind kind = RecordKind::kData;
  uint32_t source = 0;     // the source's index in its RecordQueue (RecordQueue::AddSource)
  uint32_t partition = 0;  // Kafka partition, or 0
  // Opaque to the runtime, meaningful to the source; increases within a partition and is
  // never reused (Kafka offset, byte offset across rotations, ingest-log sequence number).
  uint64_t position = 0;
  uint64_t end = 0;   // the position just after this record: where a resume would start
  uint64_t line = 0;  // file, stdin: 1-based line number (for messages); else 0
  std::string data;   // the bytes, decoded by the stream's decoder
  // Values of the source's metadata fields (Source::MetadataFields), in that order; empty
  // when the source has none (mqtt: {topic}).
  std::vector<std::string> metadata;
};

// A control record (kEnd, kPartitionRevoked, kCheckpointRequest).
inline Record ControlRecord(RecordKind kind, uint32_t partition = 0) {
  Record r;
  r.kind = kind;
  r.partition = partition;
  return r;
}

// A stable identity for alert ids: the same record gives the same value on every run.
uint64_t RecordIdentity(std::string_view stream, const Record& r);

enum class SourceState : uint8_t {
  kStarting,  // not yet connected / opened
  kRunning,
  kReconnecting,  // transient trouble (broker down): retrying with backoff
  kError,         // needs an operator (wrong credentials, TLS, missing file): still retrying
  kFinished,      // ended by itself (follow: false, end of stdin)
  kStopped,
};
const char* SourceStateName(SourceState s);

struct PartitionStatus {
  uint32_t partition = 0;
  uint64_t next = 0;  // position after the last record handed to the queue
  uint64_t processed =
      0;  // position after the last record the engine processed (Kafka: as of the last checkpoint)
  bool assigned = true;  // Kafka: owned by this instance now
};

struct SourceStatus {
  SourceState state = SourceState::kStarting;
  std::string message;   // what is wrong, or what it is connected to
  uint64_t records = 0;  // handed to the queue
  uint64_t bytes = 0;
  uint64_t dead_letters = 0;        // dropped at the source (over-long line, empty Kafka value)
  uint64_t reconnects = 0;          // connections lost and re-established
  uint64_t backpressure_waits = 0;  // times intake stopped because the queue was full
  uint64_t replayed = 0;            // records re-read from the ingest log at start
  uint64_t wakeups = 0;  // times the source's thread woke up (idle sources must not spin)
  std::vector<PartitionStatus> partitions;
};

enum class LogLevel : uint8_t { kInfo, kWarning, kError };
using LogFn = std::function<void(LogLevel, const std::string& message)>;
// Writes "vigil: <level>: <message>" to stderr.
void LogToStderr(LogLevel level, const std::string& message);

// What the runtime gives every source.
struct SourceContext {
  std::string stream;  // the stream's name: prefixes messages and state keys
  // Positions and the ingest log. Required by sources that log (mqtt, stdin, grpc) unless
  // durability is kNone; may be null otherwise (then nothing is stored).
  cep::StateStore* store = nullptr;
  Durability durability = Durability::kSync;
  const cep::Clock* clock = nullptr;           // null: the system clock
  LogFn log;                                   // null: LogToStderr
  std::string node_id = "vigil";               // Kafka client.id default, MQTT client_id default
  const cep::SecretSource* secrets = nullptr;  // null: the process environment and files
  // Where records the source itself cannot use go (over-long lines, empty Kafka values);
  // null: they are only counted in status() and logged.
  DeadLetters* dead_letters = nullptr;
};

// Thread safety: Seek, Start and Stop from the runtime's control thread; Processed,
// AddPositions and OnCheckpointed from the engine thread (the one popping the queue);
// status() and DescribePosition from any thread.
class Source {
 public:
  virtual ~Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  const std::string& type() const { return type_; }
  const std::string& stream() const { return stream_; }

  // Field paths whose values records carry in Record::metadata ("mqtt.topic").
  virtual std::vector<std::string> MetadataFields() const { return {}; }

  // Reads the positions a checkpoint stored for this stream (StateFamily::kPositions) so
  // that Start resumes after them. Without a call (or without stored positions) the source
  // starts fresh: Kafka at the committed offset or auto_offset_reset, a file at start_at.
  // REQUIRES: before Start.
  virtual Status Seek(const cep::StateStore& store) = 0;

  // Starts the source's threads; its records go to `queue` under index `source_index`.
  // Records left in the ingest log by an earlier run are queued first. Connection trouble
  // is not an error here (the source retries, status() tells); invalid settings are.
  virtual Status Start(RecordQueue* queue, uint32_t source_index) = 0;

  // Stops intake and joins the source's threads; records already queued stay queued.
  // Idempotent.
  virtual void Stop() = 0;

  // The engine has processed `r`: every record of this source it pops, data and control,
  // in queue order. A kCheckpointRequest asks the runtime to checkpoint right after it:
  // the source waits until a checkpoint whose AddPositions came after this call is durable
  // (OnCheckpointed). A runtime without a store still answers with AddPositions into a
  // scratch batch and OnCheckpointed.
  virtual void Processed(const Record& r) = 0;
  // Adds the positions of the processed records (and, for ingest logs, the deletion of the
  // entries they cover) to a checkpoint's batch.
  virtual void AddPositions(cep::StateBatch* batch) = 0;
  // The batch of the last AddPositions is durable.
  virtual void OnCheckpointed() = 0;

  virtual SourceStatus status() const = 0;
  // "partition 3 offset 1742", "line 17 of /var/log/auth.log", "ingest log #88 (topic a/b)".
  virtual std::string DescribePosition(const Record& r) const = 0;

 protected:
  Source(std::string type, std::string stream)
      : type_(std::move(type)), stream_(std::move(stream)) {}

 private:
  std::string type_;
  std::string stream_;
};

// Sets a source's metadata fields (Source::MetadataFields) on decoded events, for the fields
// some rule reads (the others are never materialised, decision 2). A metadata value
// replaces a decoded field of the same path: `mqtt.topic` is the broker's word, not the
// payload's.
class MetadataBinder {
 public:
  MetadataBinder(const std::vector<std::string>& fields, const cep::FieldRegistry& registry);
  bool empty() const { return slots_.empty(); }
  // REQUIRES: `event` was decoded against the registry given to the constructor.
  void Apply(const Record& r, cep::Event* event) const;

 private:
  std::vector<std::pair<size_t, cep::FieldId>> slots_;  // (index in Record::metadata, field)
};

// The kPositions key of one partition of a stream: "<stream>/<partition>".
std::string PositionKey(std::string_view stream, uint32_t partition);
// Position values are "name=value" pairs joined by ';' ("offset=42"), readable in a
// state dump and extensible without a format change.
std::string EncodePosition(const std::vector<std::pair<std::string, uint64_t>>& fields);
bool DecodePositionField(std::string_view encoded, std::string_view name, uint64_t* value);

}  // namespace vigil::ingest
