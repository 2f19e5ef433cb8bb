// Internal: the per-rule matching machinery behind the Engine.
#pragma once

#include <string>

#include "vigil/cep/engine.h"
#include "vigil/cep/match.h"
#include "vigil/cep/rule.h"

namespace vigil::cep {

// What a rule runtime may ask of the engine.
class RuntimeContext {
 public:
  virtual ~RuntimeContext() = default;
  // Emits a match (the engine applies suppression, then hands it to the sink).
  virtual void Emit(Match& match) = 0;
  // Asks for OnTimer(key, deadline) once the event time reaches `deadline`: after every
  // event earlier than `deadline` and before any event at or after it. Timers may fire
  // for state that is gone by then; runtimes ignore those.
  virtual void ScheduleTimer(uint32_t rule, Timestamp deadline, const std::string& key) = 0;
  virtual RuleStats& stats(uint32_t rule) = 0;
  // A rule's state for `key` became non-empty (live) or empty: while live, the rule sees
  // every event of the key, whatever its start filter says.
  virtual void SetKeyLive(uint32_t rule, const std::string& key, bool live) {
    (void)rule, (void)key, (void)live;
  }
};

// One rule's matching state for all its keys.
// Thread safety: driven by the engine's thread only.
class RuleRuntime {
 public:
  RuleRuntime(uint32_t index, const RuleSpec* spec) : index_(index), spec_(spec) {}
  virtual ~RuleRuntime() = default;
  RuleRuntime(const RuleRuntime&) = delete;
  RuleRuntime& operator=(const RuleRuntime&) = delete;

  // The next event of the rule's stream in event-time order. `key` is the encoded key.
  virtual void OnEvent(const EventPtr& event, const std::string& key, RuntimeContext& ctx) = 0;
  // A timer asked for by ScheduleTimer came due.
  virtual void OnTimer(const std::string& key, Timestamp deadline, RuntimeContext& ctx) {
    (void)key, (void)deadline, (void)ctx;
  }
  // The event time reached `watermark` (all events and timers up to it are done): prune.
  virtual void OnWatermark(Timestamp watermark, RuntimeContext& ctx) {
    (void)watermark, (void)ctx;
  }
  // The input ended (after the final watermark): drop what cannot complete, emit what was
  // complete but held back.
  virtual void OnFinish(RuntimeContext& ctx) { (void)ctx; }

  virtual RuleStateStats StateStats() const { return {}; }

  // A necessary condition for an event to start a match (or count, or alert) for a key the
  // rule holds no state for. kNone: every event must be offered.
  virtual ConditionIndex StartIndex() const { return spec_->where ? spec_->where->Index() : ConditionIndex{}; }

  uint32_t index() const { return index_; }
  const RuleSpec& spec() const { return *spec_; }

 private:
  const uint32_t index_;
  const RuleSpec* const spec_;
};

}  // namespace vigil::cep
