#include "idle_tracker.h"

#include <algorithm>
#include <limits>

namespace vigil::edge {

bool IdleTracker::Seen(uint32_t stream, uint32_t partition, cep::Timestamp now) {
  if (stream >= idle_.size() || idle_[stream] <= 0) return false;
  Partition& p = partitions_[{stream, partition}];
  bool was_idle = p.idle;
  p.last = now;
  p.idle = false;
  return was_idle;
}

void IdleTracker::Remove(uint32_t stream, uint32_t partition) {
  partitions_.erase({stream, partition});
}

std::vector<std::pair<uint32_t, uint32_t>> IdleTracker::TakeNewlyIdle(cep::Timestamp now) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (auto& [id, p] : partitions_) {
    if (!p.idle && now - p.last >= idle_[id.first]) {
      p.idle = true;
      out.push_back(id);
    }
  }
  return out;
}

cep::Timestamp IdleTracker::NextDeadline() const {
  cep::Timestamp next = std::numeric_limits<cep::Timestamp>::max();
  for (const auto& [id, p] : partitions_) {
    if (!p.idle) next = std::min(next, p.last + idle_[id.first]);
  }
  return next;
}

}  // namespace vigil::edge
