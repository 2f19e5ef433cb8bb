// Internal: the per-rule matching machinery behind the Engine.
#pragma once

#include <string>
#include <string_view>

#include "state/keyed_codec.h"
#include "vigil/cep/engine.h"
#include "vigil/cep/match.h"
#include "vigil/cep/rule.h"

namespace vigil::cep {

// One rule's state for one key, as the engine hands it to the rule's runtime. The engine
// keeps `state` with the key (KeyTable) and never looks inside it; the runtime owns what
// it points to. A runtime that creates state for the key sets `state`; one that frees it
// (the key has nothing left: no partial match, no window) sets it to null, and the engine
// forgets the key for that rule. `slot` and `generation` name the key in timers.
struct KeyHandle {
  std::string_view key;  // encoded (key.h)
  uint32_t key_set = 0;
  uint32_t slot = 0;     // KeyTable::kNone while the key holds no state for any rule
  uint32_t generation = 0;
  void* state = nullptr;
};

// What a rule runtime may ask of the engine.
class RuntimeContext {
 public:
  virtual ~RuntimeContext() = default;
  // Emits a match (the engine applies suppression, then hands it to the sink).
  virtual void Emit(Match& match) = 0;
  // Asks for OnTimer(key, deadline) once the event time reaches `deadline`: after every
  // event earlier than `deadline` and before any event at or after it. Runtimes keep at
  // most one timer per key armed and ignore timers that no longer apply. REQUIRES: the
  // rule holds state for the key when the timer fires, or the timer is dropped; so call
  // it for a key whose state is (or is being) set in the handle.
  virtual void ScheduleTimer(uint32_t rule, Timestamp deadline, const KeyHandle& key) = 0;
  virtual RuleStats& stats(uint32_t rule) = 0;
};

// One rule's matching state for all its keys.
// Thread safety: driven by the engine's thread only.
class RuleRuntime {
 public:
  RuleRuntime(uint32_t index, const RuleSpec* spec) : index_(index), spec_(spec) {}
  virtual ~RuleRuntime() = default;
  RuleRuntime(const RuleRuntime&) = delete;
  RuleRuntime& operator=(const RuleRuntime&) = delete;

  // The next event of the rule's stream for `key`, in event-time order. key.state is the
  // rule's state for the key (null: none); the runtime may replace it (see KeyHandle).
  virtual void OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) = 0;
  // A timer asked for by ScheduleTimer came due; key.state is non-null.
  virtual void OnTimer(KeyHandle& key, Timestamp deadline, RuntimeContext& ctx) {
    (void)key, (void)deadline, (void)ctx;
  }
  // The input ended (after the final watermark): for each key the rule holds state for,
  // FinishKey drops what cannot complete, emits what was complete but held back, and frees
  // the state (sets key.state to null); then OnFinish runs once.
  virtual void FinishKey(KeyHandle& key, RuntimeContext& ctx) = 0;
  virtual void OnFinish(RuntimeContext& ctx) { (void)ctx; }

  virtual RuleStateStats StateStats() const { return {}; }

  // Checkpoints (architecture decision 5): the rule's state for one key as bytes, and
  // back. SaveKey writes everything `state` holds; LoadKey rebuilds it into key.state
  // (for a key the rule holds no state for) and asks for the timers it needs. LoadKey
  // returns false on a body it cannot read (then key.state is left null). Only rules that
  // hold keyed state get these calls.
  virtual void SaveKey(const void* state, KeyedWriter& out) const { (void)state, (void)out; }
  virtual bool LoadKey(KeyedReader& in, KeyHandle& key, RuntimeContext& ctx) {
    (void)in, (void)key, (void)ctx;
    return false;
  }

  // Bounded memory (Engine::LimitMemory): the approximate heap bytes of one key's state,
  // the events it holds included (an event shared by several keys counts for each), in
  // O(1); and dropping a key's state whose bytes the store holds (evicted: no match, no
  // counter, no timer; LoadKey brings it back). Only rules that hold keyed state get these.
  virtual size_t KeyBytes(const void* state) const { (void)state; return 0; }
  virtual void EvictKey(KeyHandle& key) { (void)key; }

  // A timer for the key whose state is `state` (a state the key still holds) is about to
  // fire: prefetch what it will read. Level 1 comes when the state itself has been
  // prefetched; level n + 1 later, when what level n prefetched may be read.
  virtual void Prefetch(const void* state, int level) const { (void)state, (void)level; }

  // A necessary condition for an event to start a match (or count, or alert) for a key the
  // rule holds no state for. kNone: every event must be offered.
  virtual ConditionIndex StartIndex() const {
    return spec_->where ? spec_->where->Index() : ConditionIndex{};
  }
  // Whether, while it holds state for a key, the rule must see every event of that key
  // (not only those its start index admits).
  virtual bool SeesAllEventsOfLiveKeys() const { return false; }

  uint32_t index() const { return index_; }
  const RuleSpec& spec() const { return *spec_; }

 private:
  const uint32_t index_;
  const RuleSpec* const spec_;
};

}  // namespace vigil::cep
