#include "vigil/ingest/record_queue.h"

#include <chrono>

namespace vigil::ingest {

RecordQueue::RecordQueue(QueueLimits limits) : limits_(limits) {}

uint32_t RecordQueue::AddSource(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_.push_back(std::move(name));
  return static_cast<uint32_t>(sources_.size() - 1);
}

const std::string& RecordQueue::source_name(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_.at(index);
}

size_t RecordQueue::source_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_.size();
}

size_t RecordQueue::Cost(const Record& r) {
  size_t n = sizeof(Record) + r.data.size();
  for (const std::string& m : r.metadata)
    n += sizeof(std::string) + m.size();
  return n;
}

bool RecordQueue::HasRoom(size_t cost) const {
  if (records_.empty()) return true;
  return records_.size() < limits_.max_records && bytes_ + cost <= limits_.max_bytes;
}

RecordQueue::PushResult RecordQueue::Push(uint32_t source, Record& r, const std::atomic<bool>* stop,
                                          cep::Duration timeout) {
  const size_t cost = Cost(r);
  std::unique_lock<std::mutex> lock(mu_);
  if (!HasRoom(cost)) {
    full_waits_.fetch_add(1, std::memory_order_relaxed);
    auto ready = [&] { return HasRoom(cost) || (stop && stop->load(std::memory_order_acquire)); };
    ++producers_waiting_;
    bool ok = true;
    if (timeout < 0) {
      producer_cv_.wait(lock, ready);
    } else {
      ok = producer_cv_.wait_for(lock, std::chrono::nanoseconds(timeout), ready);
    }
    --producers_waiting_;
    if (!ok) return PushResult::kTimedOut;
    if (!HasRoom(cost)) return PushResult::kStopped;
  } else if (stop && stop->load(std::memory_order_acquire)) {
    return PushResult::kStopped;
  }
  r.source = source;
  bytes_ += cost;
  records_.push_back(std::move(r));
  if (consumer_waiting_) consumer_cv_.notify_one();
  return PushResult::kOk;
}

size_t RecordQueue::PushSome(uint32_t source, std::vector<Record>& records, size_t from,
                             const std::atomic<bool>* stop, cep::Duration timeout) {
  if (from >= records.size()) return from;
  std::unique_lock<std::mutex> lock(mu_);
  const size_t first_cost = Cost(records[from]);
  if (!HasRoom(first_cost)) {
    full_waits_.fetch_add(1, std::memory_order_relaxed);
    auto ready = [&] {
      return HasRoom(first_cost) || (stop && stop->load(std::memory_order_acquire));
    };
    ++producers_waiting_;
    bool ok = true;
    if (timeout < 0) {
      producer_cv_.wait(lock, ready);
    } else {
      ok = producer_cv_.wait_for(lock, std::chrono::nanoseconds(timeout), ready);
    }
    --producers_waiting_;
    if (!ok || !HasRoom(first_cost)) return from;
  } else if (stop && stop->load(std::memory_order_acquire)) {
    return from;
  }
  size_t i = from;
  for (; i < records.size(); ++i) {
    const size_t cost = Cost(records[i]);
    if (i > from && !HasRoom(cost)) break;
    records[i].source = source;
    bytes_ += cost;
    records_.push_back(std::move(records[i]));
  }
  if (consumer_waiting_) consumer_cv_.notify_one();
  return i;
}

void RecordQueue::PushControl(uint32_t source, Record r) {
  r.source = source;
  std::lock_guard<std::mutex> lock(mu_);
  bytes_ += Cost(r);
  records_.push_back(std::move(r));
  if (consumer_waiting_) consumer_cv_.notify_one();
}

void RecordQueue::WakeProducers() {
  std::lock_guard<std::mutex> lock(mu_);
  producer_cv_.notify_all();
}

size_t RecordQueue::Pop(std::vector<Record>* out, size_t max, cep::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (records_.empty() && timeout > 0) {
    consumer_waiting_ = true;
    consumer_cv_.wait_for(lock, std::chrono::nanoseconds(timeout),
                          [&] { return !records_.empty() || consumer_woken_; });
    consumer_waiting_ = false;
  }
  consumer_woken_ = false;
  size_t n = 0;
  while (n < max && !records_.empty()) {
    bytes_ -= Cost(records_.front());
    out->push_back(std::move(records_.front()));
    records_.pop_front();
    ++n;
  }
  if (n > 0 && producers_waiting_ > 0) producer_cv_.notify_all();
  return n;
}

void RecordQueue::WakeConsumer() {
  std::lock_guard<std::mutex> lock(mu_);
  consumer_woken_ = true;
  consumer_cv_.notify_one();
}

size_t RecordQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

size_t RecordQueue::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace vigil::ingest
