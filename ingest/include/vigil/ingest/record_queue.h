// The bounded hand-off from source threads to the engine thread. A full queue makes Push
// wait: that wait is the back-pressure that stops a source's intake (Kafka pauses its
// partitions, MQTT's message callback waits and so the broker holds the messages, the file
// reader stops reading). Bounded in records and in bytes, never unbounded memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/cep/time.h"
#include "vigil/ingest/source.h"

namespace vigil::ingest {

struct QueueLimits {
  size_t max_records = 65536;
  size_t max_bytes = 64u << 20;  // data + metadata + per-record overhead
};

// Thread safety: Push/PushControl from any number of threads; Pop from one thread (the
// engine's); the rest from any thread.
class RecordQueue {
 public:
  explicit RecordQueue(QueueLimits limits = QueueLimits());
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  // Registers a producer (one per source); the index goes into Record::source.
  uint32_t AddSource(std::string name);
  const std::string& source_name(uint32_t index) const;
  size_t source_count() const;

  enum class PushResult { kOk, kStopped, kTimedOut };
  // Appends `r` (setting r.source), waiting while the queue is full until there is room,
  // *stop is true (checked whenever WakeProducers is called) or `timeout` passes (< 0: no
  // limit). A record larger than max_bytes is admitted into an empty queue, so it cannot
  // wait forever. On kStopped / kTimedOut `r` is left unchanged.
  PushResult Push(uint32_t source, Record& r, const std::atomic<bool>* stop,
                  cep::Duration timeout = -1);
  // Appends records[from..] in order while there is room, waiting (as Push does) only for
  // room for the first of them; sets their `source`. Returns the index of the first record
  // not queued (records.size() when all were). Queued records are moved from, their
  // partition and positions left readable. One lock and at most one wake-up for the lot:
  // the way a source hands over a batch.
  size_t PushSome(uint32_t source, std::vector<Record>& records, size_t from,
                  const std::atomic<bool>* stop, cep::Duration timeout = -1);
  // Appends a control record (kEnd, kPartitionRevoked, kCheckpointRequest) whatever the
  // fill level: they are small, rare, and must not wait behind data.
  void PushControl(uint32_t source, Record r);
  // Wakes producers waiting in Push so they re-check their stop flag.
  void WakeProducers();

  // Moves up to `max` records into *out (appended), in arrival order, waiting up to
  // `timeout` for the first (0: do not wait). Returns how many were moved.
  size_t Pop(std::vector<Record>* out, size_t max, cep::Duration timeout);
  // Makes a consumer waiting in Pop return now.
  void WakeConsumer();

  size_t size() const;
  size_t bytes() const;
  // Pushes that found the queue full and had to wait.
  uint64_t full_waits() const { return full_waits_.load(std::memory_order_relaxed); }
  const QueueLimits& limits() const { return limits_; }

  // Bytes a record counts for.
  static size_t Cost(const Record& r);

 private:
  bool HasRoom(size_t cost) const;  // REQUIRES: mu_ held

  const QueueLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable consumer_cv_;
  std::condition_variable producer_cv_;
  std::deque<Record> records_;
  size_t bytes_ = 0;
  bool consumer_waiting_ = false;
  bool consumer_woken_ = false;
  int producers_waiting_ = 0;
  std::vector<std::string> sources_;
  std::atomic<uint64_t> full_waits_{0};
};

}  // namespace vigil::ingest
