// The ingest log of a source that cannot replay (MQTT, stdin, gRPC pushes): every record is
// written to StateFamily::kIngestLog before it is acknowledged to its sender, and stays there
// until a checkpoint covers it (the checkpoint's batch deletes the entries it covers, so
// log and positions change together). On restart the entries after the stored position
// are queued again before new input.
//
// Keys: "<stream>/" + big-endian sequence number (entries, in order), and "<stream>#next"
// (the next sequence number, written by each checkpoint that truncates the log, so numbers
// are never reused even when the log is empty; entries written since are found by a scan
// from the checkpointed position at Open). Other "<stream>#..." keys belong to the source (MQTT's
// Paho persistence) and are never touched by truncation.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/cep/state_store.h"
#include "vigil/cep/status.h"
#include "vigil/ingest/source.h"

namespace vigil::ingest {

// Thread safety: Append from any number of threads; the rest from one thread at a time.
class IngestLog {
 public:
  // `store` may be null only with Durability::kNone (then nothing is written).
  IngestLog(cep::StateStore* store, std::string stream, Durability durability);
  IngestLog(const IngestLog&) = delete;
  IngestLog& operator=(const IngestLog&) = delete;

  // Continues numbering after both `checkpointed_next` (the stored position: the first
  // entry no checkpoint covers) and every number used before.
  // REQUIRES: no Append yet.
  Status Open(uint64_t checkpointed_next);

  // Calls fn for each entry at or after `from`, in order, until fn returns false.
  Status Replay(uint64_t from, const std::function<bool(Record&)>& fn) const;

  // Numbers `records` consecutively (position, end), writes them in one batch (fsync'd with
  // kSync), then calls deliver(records). Callers that arrive while a write is in progress
  // are group-committed: the next leader writes all their records in one batch and calls
  // each caller's deliver in turn, so deliveries happen in number order. On a write error
  // deliver is not called and the error is returned. `sync` false skips the fsync of kSync
  // for these records (MQTT QoS 0: nothing is acknowledged, so nothing waits for it); a
  // group is fsync'd if any caller in it needs it.
  Status Append(std::vector<Record>* records,
                const std::function<void(std::vector<Record>&)>& deliver, bool sync = true);

  // Adds the deletion of every entry numbered below `next` to `batch`.
  void AddTruncate(cep::StateBatch* batch, uint64_t next) const;

  uint64_t next() const;
  Durability durability() const { return durability_; }
  // Store writes (group commits) and records written, for status and tests.
  uint64_t writes() const;
  uint64_t written() const;
  // Callers inside Append (writing or waiting to), for tests of group commit.
  size_t callers() const;

  // Keys, exposed for tests and for the source's own "<stream>#..." keys.
  static std::string EntryKey(std::string_view stream, uint64_t seq);
  static std::string NextKey(std::string_view stream);
  static void EncodeEntry(const Record& r, std::string* out);
  static bool DecodeEntry(std::string_view value, Record* r);

 private:
  struct Writer;

  cep::StateStore* const store_;
  const std::string stream_;
  const Durability durability_;
  mutable std::mutex mu_;
  std::deque<Writer*> writers_;
  uint64_t next_ = 0;
  uint64_t writes_ = 0;
  uint64_t written_ = 0;
};

}  // namespace vigil::ingest
