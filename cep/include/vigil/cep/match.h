// What the engine emits: a completed match (pattern), a fired threshold or a single event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"

namespace vigil::cep {

struct MatchedEvent {
  std::string_view step;  // the step's name; "match" for single-event and threshold rules
  EventPtr event;
};

struct Match {
  uint32_t rule = 0;       // as returned by Engine::AddRule
  std::string key;         // encoded key (key.h)
  Timestamp time = 0;      // last matched event's time, or an absence's deadline
  std::vector<MatchedEvent> events;  // in match order
  std::optional<double> value;       // thresholds: the aggregate that fired
};

// Receives matches. Called on the engine's thread, in emission order; the Match is only
// valid during the call.
class MatchSink {
 public:
  virtual ~MatchSink() = default;
  virtual void OnMatch(const Match& match) = 0;
};

}  // namespace vigil::cep
