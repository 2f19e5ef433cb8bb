// Durable state: the families of data Vigil keeps across restarts, written in atomic
// batches (architecture decision 5). The RocksDB store is the production one (one column
// family per StateFamily); the memory store serves tests and `replay` without --state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/status.h"

namespace vigil::cep {

enum class StateFamily : uint8_t {
  kMeta,       // format version, engine clocks and counters, checkpoint number
  kKeyed,      // per (rule, key): the rule runtime's serialised state
  kEvents,     // events that keyed state or the reorder buffer still refers to
  kTimers,     // pending timers
  kReorder,    // events waiting for the watermark
  kPositions,  // source positions (file offsets, Kafka offsets, ingest-log sequence numbers)
  kOutbox,     // alerts not yet delivered to every sink
  kIngestLog,  // events of sources that cannot replay, kept from receipt to checkpoint
};
inline constexpr int kStateFamilyCount = 8;
// The column family's name ("meta", "keyed", ...).
const char* StateFamilyName(StateFamily f);

// Changes applied together: all of them or none.
class StateBatch {
 public:
  enum class OpKind : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpKind kind;
    StateFamily family;
    std::string key;    // kDeleteRange: the first key deleted
    std::string value;  // kDeleteRange: the end of the range (exclusive)
  };

  void Put(StateFamily f, std::string_view key, std::string_view value);
  void Delete(StateFamily f, std::string_view key);
  // Deletes every key k of the family with begin <= k < end.
  void DeleteRange(StateFamily f, std::string_view begin, std::string_view end);
  void Clear();

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // Bytes of keys and values, for accounting and checkpoint size limits.
  size_t bytes() const { return bytes_; }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// Thread safety: every method may be called from several threads at once.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applies every change of `batch`, or none. With `sync`, returns once the changes are
  // on stable storage (fsync); without, they survive a process crash but perhaps not a
  // power loss.
  virtual Status Write(const StateBatch& batch, bool sync) = 0;
  // Reads one value: true and *value if `key` exists, false if not.
  virtual Result<bool> Get(StateFamily f, std::string_view key, std::string* value) const = 0;
  // Calls fn(key, value) for the keys k of the family with begin <= k < end in key order
  // (an empty `end`: to the end of the family) until fn returns false.
  using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;
  virtual Status Scan(StateFamily f, std::string_view begin, std::string_view end,
                      const ScanFn& fn) const = 0;
  // Approximate bytes the family takes (memory, or disk for RocksDB).
  virtual uint64_t ApproximateBytes(StateFamily f) const = 0;
  // Where it lives, for messages ("memory" or the directory).
  virtual std::string Describe() const = 0;
};

// The on-disk format this build reads and writes, stored in the meta family. A store of
// another version is refused with a message, never misread.
inline constexpr std::string_view kStateFormat = "vigil-state/1";

// Opens (creating if absent) the RocksDB store in `dir`. Fails with a message naming the
// directory when it is not a Vigil store, was written by an incompatible version, or is
// damaged; the message says how to start fresh.
Result<std::unique_ptr<StateStore>> OpenRocksDbStore(const std::string& dir);

std::unique_ptr<StateStore> NewMemoryStore();

// For crash tests: a store that passes everything to `inner` and, at its `kill_at`-th
// Write (1-based), kills the process with SIGKILL, before the write when `before` is
// true, after it otherwise. kill_at == 0 never kills.
std::unique_ptr<StateStore> NewFaultInjectingStore(std::unique_ptr<StateStore> inner,
                                                   uint64_t kill_at, bool before);

}  // namespace vigil::cep
