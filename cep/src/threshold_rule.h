// Internal: threshold rules — count, distinct or sum over a sliding event-time window per
// key; the window empties after an alert.
#pragma once

#include <deque>
#include <memory>
#include <vector>
#include <string>
#include <unordered_map>

#include "rule_runtime.h"

namespace vigil::cep {

class ThresholdRule final : public RuleRuntime {
 public:
  // Alerts list at most this many of the window's newest events.
  static constexpr size_t kMaxAlertEvents = 100;

  using RuleRuntime::RuleRuntime;
  ~ThresholdRule() override;
  void OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) override;
  void OnTimer(KeyHandle& key, Timestamp deadline, RuntimeContext& ctx) override;
  void FinishKey(KeyHandle& key, RuntimeContext& ctx) override;
  void SaveKey(const void* state, KeyedWriter& out) const override;
  bool LoadKey(KeyedReader& in, KeyHandle& key, RuntimeContext& ctx) override;
  size_t KeyBytes(const void* state) const override;
  void EvictKey(KeyHandle& key) override { Drop(key); }

  size_t key_count() const { return states_.size(); }
  RuleStateStats StateStats() const override {
    RuleStateStats st;
    st.keys = states_.size();
    st.bytes = state_bytes();
    return st;
  }
  size_t state_bytes() const;

 private:
  struct Entry {
    Timestamp time;
    EventPtr event;  // kept for the newest kMaxAlertEvents entries only
    double value;    // kSum: the summed field
    std::string distinct;  // kDistinct: the value, encoded
  };
  struct KeyState {
    std::deque<Entry> window;
    std::unordered_map<std::string, uint32_t> distinct;
    double sum = 0;
    bool timer_armed = false;
    size_t index = 0;  // in states_
    size_t event_bytes = 0;  // Event::MemoryUsage of the events the window holds
  };
  // Keeps event_bytes while entries come and go.
  static void Hold(KeyState& ks, const EventPtr& e) {
    if (e) ks.event_bytes += e->MemoryUsage();
  }
  static void Unhold(KeyState& ks, EventPtr& e) {
    if (e) ks.event_bytes -= e->MemoryUsage();
    e.reset();
  }
  // Drops entries at or before `time - window`.
  void Evict(KeyState& ks, Timestamp time);
  double Aggregate(const KeyState& ks) const;
  // Frees the key's state (its window is empty).
  void Drop(KeyHandle& key);

  std::vector<KeyState*> states_;  // owned; the engine's KeyTable holds the same pointers
  std::string scratch_;
  Match match_;
};

}  // namespace vigil::cep
