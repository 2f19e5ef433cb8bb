// The common part of sources that cannot replay (mqtt, stdin, grpc): one partition whose
// records go through the stream's ingest log before they are queued, positions that are
// ingest-log numbers, and checkpoints that delete the log entries they cover.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sources/ingest_log.h"
#include "vigil/ingest/record_queue.h"
#include "vigil/ingest/source.h"

namespace vigil::ingest {

class LoggedSource : public Source {
 public:
  Status Seek(const cep::StateStore& store) override;
  void Processed(const Record& r) override;
  void AddPositions(cep::StateBatch* batch) override;
  void OnCheckpointed() override;
  std::string DescribePosition(const Record& r) const override;

 protected:
  LoggedSource(std::string type, const SourceContext& ctx);

  // Opens the log and queues the entries a checkpoint did not cover. Call from Start.
  Status OpenAndReplay(RecordQueue* queue, uint32_t index, const std::atomic<bool>& stop);
  // Logs `records` (per durability; `sync` false: written but never fsync'd) and queues them
  // in order, waiting while the queue is full. Returns once they are durable and queued (or
  // the source is stopping: then what was not queued stays in the log for the next start).
  Status LogAndQueue(std::vector<Record>* records, const std::atomic<bool>& stop, bool sync = true);

  // Fills the counters every logged source reports.
  void FillStatus(SourceStatus* s) const;
  void Log(LogLevel level, const std::string& msg) const;

  const SourceContext ctx_;
  IngestLog log_;
  RecordQueue* queue_ = nullptr;
  uint32_t index_ = 0;
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> queued_bytes_{0};
  std::atomic<uint64_t> replayed_{0};
  std::atomic<uint64_t> waits_{0};

 private:
  uint64_t stored_next_ = 0;                 // from Seek
  std::atomic<uint64_t> processed_next_{0};  // engine thread writes
  uint64_t checkpoint_next_ = 0;             // in the last AddPositions
  std::atomic<uint64_t> queued_next_{0};
};

}  // namespace vigil::ingest
