#include "alert_feed.h"

#include <algorithm>
#include <chrono>

#include "vigil/alerting/sink.h"

namespace vigil::edge {

bool AlertPasses(const v1::AlertFilter& filter, const v1::Alert& alert) {
  if (!filter.rule_ids().empty() &&
      std::find(filter.rule_ids().begin(), filter.rule_ids().end(), alert.rule_id()) ==
          filter.rule_ids().end()) {
    return false;
  }
  if (!filter.min_severity().empty() &&
      alerting::SeverityRank(alert.severity()) < alerting::SeverityRank(filter.min_severity())) {
    return false;
  }
  return true;
}

class AlertFeed::Subscription final : public AlertSubscription {
 public:
  Subscription(AlertFeed* feed, Queue* queue) : feed_(feed), queue_(queue) {}
  ~Subscription() override { feed_->Remove(queue_); }

  bool Next(v1::Alert* alert, int timeout_ms, bool* stopping) override {
    std::unique_lock<std::mutex> lock(feed_->mu_);
    feed_->cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return !queue_->alerts.empty() || feed_->closed_; });
    if (stopping) *stopping = feed_->closed_ && queue_->alerts.empty();
    if (queue_->alerts.empty()) return false;
    *alert = std::move(queue_->alerts.front());
    queue_->alerts.pop_front();
    return true;
  }
  uint64_t dropped() const override {
    std::lock_guard<std::mutex> lock(feed_->mu_);
    return queue_->dropped;
  }

 private:
  AlertFeed* feed_;
  Queue* queue_;
};

AlertFeed::~AlertFeed() = default;

void AlertFeed::Add(v1::Alert alert) {
  std::lock_guard<std::mutex> lock(mu_);
  bool woke = false;
  for (Queue* q : queues_) {
    if (!AlertPasses(q->filter, alert)) continue;
    if (q->alerts.size() >= subscriber_queue_) {
      q->alerts.pop_front();  // the subscriber is behind: it loses the oldest
      ++q->dropped;
    }
    q->alerts.push_back(alert);
    woke = true;
  }
  recent_.push_back(std::move(alert));
  if (recent_.size() > keep_) recent_.pop_front();
  if (woke) cv_.notify_all();
}

std::vector<v1::Alert> AlertFeed::Recent(const v1::AlertFilter& filter, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Alert> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    if (AlertPasses(filter, *it)) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::unique_ptr<AlertSubscription> AlertFeed::Subscribe(const v1::AlertFilter& filter,
                                                        size_t backlog) {
  auto q = new Queue;
  q->filter = filter;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const v1::Alert*> older;
  for (auto it = recent_.rbegin(); it != recent_.rend() && older.size() < backlog; ++it) {
    if (AlertPasses(filter, *it)) older.push_back(&*it);
  }
  for (auto it = older.rbegin(); it != older.rend(); ++it) q->alerts.push_back(**it);
  queues_.push_back(q);
  return std::make_unique<Subscription>(this, q);
}

void AlertFeed::Remove(Queue* q) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queues_.erase(std::remove(queues_.begin(), queues_.end(), q), queues_.end());
  }
  delete q;
}

void AlertFeed::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

size_t AlertFeed::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queues_.size();
}

}  // namespace vigil::edge
