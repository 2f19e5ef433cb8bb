#include "sources/logged_source.h"

namespace vigil::ingest {

LoggedSource::LoggedSource(std::string type, const SourceContext& ctx)
    : Source(std::move(type), ctx.stream),
      ctx_(ctx),
      log_(ctx.durability == Durability::kNone ? nullptr : ctx.store, ctx.stream, ctx.durability) {}

void LoggedSource::Log(LogLevel level, const std::string& msg) const {
  std::string line = "streams." + stream() + " (" + type() + "): " + msg;
  if (ctx_.log)
    ctx_.log(level, line);
  else
    LogToStderr(level, line);
}

Status LoggedSource::Seek(const cep::StateStore& store) {
  std::string value;
  auto found = store.Get(cep::StateFamily::kPositions, PositionKey(stream(), 0), &value);
  if (!found.ok()) return found.status();
  uint64_t seq = 0;
  if (*found) {
    if (!DecodePositionField(value, "seq", &seq)) {
      return Status::Corruption("streams." + stream() + ": stored position '" + value +
                                "' is not an ingest-log position");
    }
  }
  stored_next_ = seq;
  processed_next_ = seq;
  checkpoint_next_ = seq;
  return Status::Ok();
}

Status LoggedSource::OpenAndReplay(RecordQueue* queue, uint32_t index,
                                   const std::atomic<bool>& stop) {
  queue_ = queue;
  index_ = index;
  if (ctx_.durability != Durability::kNone && ctx_.store == nullptr) {
    return Status::InvalidArgument("streams." + stream() + " (" + type() +
                                   "): needs the state store for its ingest log (durability " +
                                   DurabilityName(ctx_.durability) + ")");
  }
  Status st = log_.Open(stored_next_);
  if (!st.ok()) return st;
  queued_next_ = stored_next_;
  // Entries of a source that now runs with durability none are still replayed: they were
  // acknowledged under the old setting.
  const IngestLog replay_log(ctx_.store, stream(), Durability::kBuffered);
  if (ctx_.store == nullptr) return Status::Ok();
  st = replay_log.Replay(stored_next_, [&](Record& r) {
    uint64_t bytes = r.data.size();
    uint64_t end = r.end;
    if (queue_->Push(index_, r, &stop) != RecordQueue::PushResult::kOk) return false;
    ++replayed_;
    ++queued_;
    queued_bytes_ += bytes;
    queued_next_ = end;
    return true;
  });
  if (st.ok() && replayed_ > 0) {
    Log(LogLevel::kInfo, "queued " + std::to_string(replayed_.load()) +
                             " records from the ingest log that no checkpoint covered");
  }
  return st;
}

Status LoggedSource::LogAndQueue(std::vector<Record>* records, const std::atomic<bool>& stop,
                                 bool sync) {
  return log_.Append(
      records,
      [&](std::vector<Record>& logged) {
        for (Record& r : logged) {
          uint64_t bytes = r.data.size();
          uint64_t end = r.end;
          auto pushed = queue_->Push(index_, r, &stop, 0);
          if (pushed == RecordQueue::PushResult::kTimedOut) {
            ++waits_;
            pushed = queue_->Push(index_, r, &stop);
          }
          if (pushed != RecordQueue::PushResult::kOk) return;  // stopping: the rest stays logged
          ++queued_;
          queued_bytes_ += bytes;
          queued_next_ = end;
        }
      },
      sync);
}

void LoggedSource::Processed(const Record& r) {
  if (r.kind == RecordKind::kData) processed_next_.store(r.end, std::memory_order_relaxed);
}

void LoggedSource::AddPositions(cep::StateBatch* batch) {
  checkpoint_next_ = processed_next_.load(std::memory_order_relaxed);
  batch->Put(cep::StateFamily::kPositions, PositionKey(stream(), 0),
             EncodePosition({{"seq", checkpoint_next_}}));
  log_.AddTruncate(batch, checkpoint_next_);
}

void LoggedSource::OnCheckpointed() {}

std::string LoggedSource::DescribePosition(const Record& r) const {
  return "ingest log #" + std::to_string(r.position);
}

void LoggedSource::FillStatus(SourceStatus* s) const {
  s->records = queued_;
  s->bytes = queued_bytes_;
  s->replayed = replayed_;
  s->backpressure_waits = waits_;
  PartitionStatus p;
  p.partition = 0;
  p.next = queued_next_;
  p.processed = processed_next_;
  s->partitions = {p};
}

}  // namespace vigil::ingest
