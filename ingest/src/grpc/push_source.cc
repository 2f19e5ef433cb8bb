#include "vigil/ingest/push_source.h"

#include <mutex>

#include "sources/logged_source.h"
#include "sources/source_types.h"

namespace vigil::ingest {

namespace {

struct GrpcSettings {
  uint64_t max_record = 1u << 20;
  int64_t max_batch = 10000;
};

const std::vector<cep::Option<GrpcSettings>>& GrpcOptions() {
  static const std::vector<cep::Option<GrpcSettings>> t = {
      {"max_record",
       cep::OptionType::kBytes,
       "1MiB",
       false,
       "A pushed record larger than this refuses the whole call (nothing of it is logged).",
       {},
       cep::Member(&GrpcSettings::max_record)},
      {"max_batch",
       cep::OptionType::kInt,
       "10000",
       false,
       "Records one Publish call may carry.",
       {},
       [](GrpcSettings& s, const cep::OptionValue& v) -> std::string {
         if (v.integer <= 0) return "must be positive";
         s.max_batch = v.integer;
         return {};
       }},
  };
  return t;
}

// LoggedSource gives the ingest log and the positions; PushSource is the interface the
// gRPC handler sees. The two meet here.
class GrpcSource final : public PushSource {
 public:
  GrpcSource(const SourceContext& ctx, const GrpcSettings& s)
      : PushSource("grpc", ctx.stream), impl_(ctx), settings_(s) {}
  ~GrpcSource() override { Stop(); }

  Status Seek(const cep::StateStore& store) override { return impl_.Seek(store); }
  Status Start(RecordQueue* queue, uint32_t index) override { return impl_.Start(queue, index); }
  void Stop() override { impl_.Stop(); }
  void Processed(const Record& r) override { impl_.Processed(r); }
  void AddPositions(cep::StateBatch* batch) override { impl_.AddPositions(batch); }
  void OnCheckpointed() override { impl_.OnCheckpointed(); }
  SourceStatus status() const override { return impl_.status(); }
  std::string DescribePosition(const Record& r) const override {
    return "pushed record (ingest log #" + std::to_string(r.position) + ")";
  }

  Result<uint64_t> Publish(std::vector<std::string> records) override {
    if (records.size() > static_cast<uint64_t>(settings_.max_batch)) {
      return Status::InvalidArgument("streams." + stream() + ": " + std::to_string(records.size()) +
                                     " records in one call; the limit is " +
                                     std::to_string(settings_.max_batch) + " (max_batch)");
    }
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].size() > settings_.max_record) {
        return Status::InvalidArgument("streams." + stream() + ": record " + std::to_string(i) +
                                       " has " + std::to_string(records[i].size()) +
                                       " bytes; the limit is " +
                                       std::to_string(settings_.max_record) + " (max_record)");
      }
    }
    return impl_.Publish(std::move(records));
  }

 private:
  class Impl final : public LoggedSource {
   public:
    explicit Impl(const SourceContext& ctx) : LoggedSource("grpc", ctx) {}

    Status Start(RecordQueue* queue, uint32_t index) override {
      Status st = OpenAndReplay(queue, index, stop_);
      if (!st.ok()) return st;
      std::lock_guard<std::mutex> lock(mu_);
      state_ = SourceState::kRunning;
      return Status::Ok();
    }
    void Stop() override {
      stop_ = true;
      if (queue_) queue_->WakeProducers();
      std::lock_guard<std::mutex> lock(mu_);
      state_ = SourceState::kStopped;
    }
    SourceStatus status() const override {
      SourceStatus s;
      FillStatus(&s);
      std::lock_guard<std::mutex> lock(mu_);
      s.state = state_;
      s.message = state_ == SourceState::kRunning ? "accepting Ingest.Publish calls" : "";
      return s;
    }

    Result<uint64_t> Publish(std::vector<std::string> data) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (state_ != SourceState::kRunning || stop_) {
          return Status::Unavailable("streams." + stream() + " is not accepting records (" +
                                     SourceStateName(state_) + ")");
        }
      }
      std::vector<Record> records(data.size());
      for (size_t i = 0; i < data.size(); ++i)
        records[i].data = std::move(data[i]);
      // Once logged the records are acknowledged, even if the source stops before all are
      // queued: the rest is queued from the log on the next start.
      Status st = LogAndQueue(&records, stop_);
      if (!st.ok()) return st;
      return records.empty() ? uint64_t{0} : records.front().position;
    }

   private:
    std::atomic<bool> stop_{false};
    mutable std::mutex mu_;
    SourceState state_ = SourceState::kStarting;
  };

  Impl impl_;
  GrpcSettings settings_;
};

}  // namespace

PushSource* AsPushSource(Source* source) {
  return dynamic_cast<PushSource*>(source);
}

SourceType GrpcSourceType() {
  return MakeSourceType<GrpcSettings>(
      "grpc",
      "Records pushed through the admin API (`Ingest.Publish`, a client stream of events for "
      "this stream). Each call returns once its records are in the stream's ingest log "
      "(durable per `state.durability`; concurrent calls share one fsync) and queued; a full "
      "queue slows the call down rather than buffering without bound.",
      &GrpcOptions,
      [](const GrpcSettings& s, const std::string&,
         const SourceContext& ctx) -> Result<std::unique_ptr<Source>> {
        return std::unique_ptr<Source>(new GrpcSource(ctx, s));
      });
}

}  // namespace vigil::ingest
