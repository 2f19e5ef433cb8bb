#include "vigil/ingest/dead_letter.h"

namespace vigil::ingest {

DeadLetters::DeadLetters(LogFn log, DeadLetterOptions options)
    : log_(log ? std::move(log) : LogFn(LogToStderr)), options_(options) {}

void DeadLetters::Add(std::string_view stream, std::string where, std::string reason,
                      std::string_view data) {
  DeadLetter d;
  d.stream.assign(stream);
  d.where = std::move(where);
  d.reason = std::move(reason);
  d.sample.assign(data.substr(0, options_.sample_bytes));
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(stream);
    if (it == counts_.end()) it = counts_.emplace(std::string(stream), 0).first;
    n = ++it->second;
    ++total_;
    recent_.push_back(d);
    while (recent_.size() > options_.keep)
      recent_.pop_front();
  }
  if (n <= options_.log_first || (options_.log_every > 0 && n % options_.log_every == 0)) {
    std::string msg = "streams." + d.stream + ": dead letter at " + d.where + ": " + d.reason;
    if (n > 1) msg += " (" + std::to_string(n) + " so far)";
    if (n == options_.log_first)
      msg += "; from now on one in " + std::to_string(options_.log_every) + " is logged";
    log_(LogLevel::kWarning, msg);
  }
}

uint64_t DeadLetters::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

uint64_t DeadLetters::count(std::string_view stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(stream);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<DeadLetter> DeadLetters::recent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<DeadLetter>(recent_.begin(), recent_.end());
}

}  // namespace vigil::ingest
