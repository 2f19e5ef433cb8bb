#include "stdin/stdin_source.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "sources/line_splitter.h"
#include "sources/logged_source.h"
#include "sources/source_types.h"
#include "sources/wakeup.h"
#include "vigil/ingest/dead_letter.h"

namespace vigil::ingest {

namespace {

class StdinSource final : public LoggedSource {
 public:
  StdinSource(const SourceContext& ctx, int fd, size_t max_line)
      : LoggedSource("stdin", ctx), fd_(fd), splitter_(max_line) {}
  ~StdinSource() override { Stop(); }

  Status Start(RecordQueue* queue, uint32_t index) override {
    Status st = OpenAndReplay(queue, index, stop_);
    if (!st.ok()) return st;
    SetState(SourceState::kRunning, "reading standard input");
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() override {
    if (stop_.exchange(true)) return;
    wake_.Signal();
    if (queue_) queue_->WakeProducers();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != SourceState::kFinished) state_ = SourceState::kStopped;
  }

  SourceStatus status() const override {
    SourceStatus s;
    FillStatus(&s);
    std::lock_guard<std::mutex> lock(mu_);
    s.state = state_;
    s.message = message_;
    s.dead_letters = dead_letters_;
    return s;
  }

  std::string DescribePosition(const Record& r) const override {
    return "line " + std::to_string(r.line) + " of standard input (ingest log #" +
           std::to_string(r.position) + ")";
  }

 private:
  void SetState(SourceState s, std::string msg) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = s;
    message_ = std::move(msg);
  }

  void Run() {
    std::vector<char> buf(64 << 10);
    std::vector<Record> batch;
    auto on_line = [&](const LineSplitter::Line& line) {
      ++line_number_;
      if (line.too_long) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++dead_letters_;
        }
        std::string where = "line " + std::to_string(line_number_) + " of standard input";
        if (ctx_.dead_letters)
          ctx_.dead_letters->Add(stream(), where, "line longer than the limit", {});
        else
          Log(LogLevel::kWarning, where + " is longer than the limit: skipped");
        return;
      }
      Record r;
      r.line = line_number_;
      r.data.assign(line.text);
      batch.push_back(std::move(r));
    };
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      Status st = LogAndQueue(&batch, stop_);
      batch.clear();
      if (!st.ok()) {
        SetState(SourceState::kError, st.message());
        Log(LogLevel::kError, st.message());
        return false;
      }
      return true;
    };
    for (;;) {
      bool woken = false;
      bool readable = wake_.Wait(fd_, -1, &woken);
      if (woken || stop_) return;
      if (!readable) continue;
      ssize_t n = read(fd_, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        std::string msg = std::string("cannot read standard input: ") + std::strerror(errno);
        SetState(SourceState::kError, msg);
        Log(LogLevel::kError, msg);
        return;
      }
      if (n == 0) {
        splitter_.Finish(on_line);
        if (!flush()) return;
        queue_->PushControl(index_, ControlRecord(RecordKind::kEnd));
        SetState(SourceState::kFinished, "end of standard input");
        return;
      }
      splitter_.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), on_line);
      if (!flush()) return;
    }
  }

  const int fd_;
  LineSplitter splitter_;
  uint64_t line_number_ = 0;
  std::atomic<bool> stop_{false};
  Wakeup wake_;
  std::thread thread_;
  mutable std::mutex mu_;
  SourceState state_ = SourceState::kStarting;
  std::string message_;
  uint64_t dead_letters_ = 0;
};

struct StdinSettings {
  uint64_t max_line = 16u << 20;
};

const std::vector<cep::Option<StdinSettings>>& StdinOptions() {
  static const std::vector<cep::Option<StdinSettings>> t = {
      {"max_line",
       cep::OptionType::kBytes,
       "16MiB",
       false,
       "Longer lines are dead-lettered (counted, logged with their line number), not loaded.",
       {},
       cep::Member(&StdinSettings::max_line)},
  };
  return t;
}

}  // namespace

std::unique_ptr<Source> NewStdinSource(const SourceContext& ctx, int fd, size_t max_line) {
  return std::make_unique<StdinSource>(ctx, fd, max_line);
}

SourceType StdinSourceType() {
  return MakeSourceType<StdinSettings>(
      "stdin",
      "Lines of standard input, one record each. A pipe cannot be read twice, so each line is "
      "written to the stream's ingest log (per `state.durability`) before the engine sees it, "
      "and a restart first re-reads the lines no checkpoint covered. The end of input ends the "
      "stream.",
      &StdinOptions,
      [](const StdinSettings& s, const std::string&, const SourceContext& ctx)
          -> Result<std::unique_ptr<Source>> { return NewStdinSource(ctx, 0, s.max_line); });
}

}  // namespace vigil::ingest
