// Internal: idle source partitions (config `watermark.idle`). The daemon owns processing
// time: a partition that has sent nothing for its stream's idle time is reported once, so
// the engine stops letting it hold the watermark back (Engine::SetPartitionIdle) until its
// next event, which makes it active again.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "vigil/cep/time.h"

namespace vigil::edge {

// Thread safety: one thread (the pipeline's).
class IdleTracker {
 public:
  // idle[stream]: the stream's idle time; 0 never marks its partitions idle.
  explicit IdleTracker(std::vector<cep::Duration> idle) : idle_(std::move(idle)) {}

  // A record of (stream, partition) arrived at processing time `now`. Returns true when
  // the partition was idle (the caller marks it active again).
  bool Seen(uint32_t stream, uint32_t partition, cep::Timestamp now);
  // The partition is gone (revoked): no longer tracked.
  void Remove(uint32_t stream, uint32_t partition);
  // Partitions that have been silent for their stream's idle time as of `now` and were
  // not reported yet; each is reported once per silence.
  std::vector<std::pair<uint32_t, uint32_t>> TakeNewlyIdle(cep::Timestamp now);
  // When TakeNewlyIdle may next report something (INT64_MAX: nothing tracked can go idle).
  cep::Timestamp NextDeadline() const;

 private:
  struct Partition {
    cep::Timestamp last = 0;
    bool idle = false;
  };
  std::vector<cep::Duration> idle_;
  std::map<std::pair<uint32_t, uint32_t>, Partition> partitions_;
};

}  // namespace vigil::edge
