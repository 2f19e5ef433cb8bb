// Internal: the alerts the admin API shows (Alerts.Recent and Alerts.Tail): a ring of the
// most recent alerts and the live subscribers, each with a bounded queue of its own so a
// slow client loses alerts from its feed, never from delivery, and never slows the engine.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "vigil/edge/admin_backend.h"
#include "vigil/v1/alerts.pb.h"

namespace vigil::edge {

// True when `alert` passes `filter` (rule ids, minimum severity).
bool AlertPasses(const v1::AlertFilter& filter, const v1::Alert& alert);

// Thread safety: every method from any thread.
class AlertFeed {
 public:
  explicit AlertFeed(size_t keep = 1000, size_t subscriber_queue = 1024)
      : keep_(keep), subscriber_queue_(subscriber_queue) {}
  ~AlertFeed();
  AlertFeed(const AlertFeed&) = delete;
  AlertFeed& operator=(const AlertFeed&) = delete;

  void Add(v1::Alert alert);
  // The newest `limit` alerts passing the filter, oldest first.
  std::vector<v1::Alert> Recent(const v1::AlertFilter& filter, size_t limit) const;
  std::unique_ptr<AlertSubscription> Subscribe(const v1::AlertFilter& filter, size_t backlog);
  // Subscribers' Next returns false with `stopping` set from now on.
  void Close();
  size_t subscribers() const;

 private:
  class Subscription;
  struct Queue {
    v1::AlertFilter filter;
    std::deque<v1::Alert> alerts;
    uint64_t dropped = 0;
  };
  void Remove(Queue* q);

  const size_t keep_;
  const size_t subscriber_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::Alert> recent_;
  std::vector<Queue*> queues_;
  bool closed_ = false;
};

}  // namespace vigil::edge
