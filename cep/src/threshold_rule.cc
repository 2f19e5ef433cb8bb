#include "threshold_rule.h"

#include "vigil/cep/key.h"

namespace vigil::cep {

void ThresholdRule::Evict(KeyState& ks, Timestamp time) {
  const Duration window = spec().threshold.window;
  Timestamp horizon = SaturatingAdd(time, -window);
  while (!ks.window.empty() && ks.window.front().time <= horizon) {
    Entry& e = ks.window.front();
    switch (spec().threshold.aggregate) {
      case ThresholdSpec::Aggregate::kSum: ks.sum -= e.value; break;
      case ThresholdSpec::Aggregate::kDistinct: {
        auto it = ks.distinct.find(e.distinct);
        if (it != ks.distinct.end() && --it->second == 0) ks.distinct.erase(it);
        break;
      }
      case ThresholdSpec::Aggregate::kCount: break;
    }
    Unhold(ks, e.event);
    ks.window.pop_front();
  }
  if (ks.window.empty()) ks.sum = 0;  // no drift left behind by floating-point subtraction
}

double ThresholdRule::Aggregate(const KeyState& ks) const {
  switch (spec().threshold.aggregate) {
    case ThresholdSpec::Aggregate::kCount: return static_cast<double>(ks.window.size());
    case ThresholdSpec::Aggregate::kDistinct: return static_cast<double>(ks.distinct.size());
    case ThresholdSpec::Aggregate::kSum: return ks.sum;
  }
  return 0;
}

ThresholdRule::~ThresholdRule() {
  for (KeyState* ks : states_) delete ks;
}

void ThresholdRule::Drop(KeyHandle& key) {
  auto* ks = static_cast<KeyState*>(key.state);
  states_[ks->index] = states_.back();
  states_[ks->index]->index = ks->index;
  states_.pop_back();
  delete ks;
  key.state = nullptr;  // a key whose window is empty holds no state
}

void ThresholdRule::OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) {
  EvalContext ec{*event, nullptr};
  if (!spec().where->Eval(ec)) return;
  const ThresholdSpec& t = spec().threshold;
  Entry entry{event->time, event, 0, {}};
  if (t.aggregate == ThresholdSpec::Aggregate::kSum) {
    const Value& v = event->field(t.field);
    if (!v.is_number()) return;  // a missing or non-numeric value does not count
    entry.value = v.AsDouble();
  } else if (t.aggregate == ThresholdSpec::Aggregate::kDistinct) {
    if (!EncodeKey(*event, {t.field}, &scratch_)) return;  // missing: does not count
    entry.distinct = scratch_;
  }

  // Only events that satisfy `where` count, and the start index is necessary for that, so
  // a threshold rule never needs to see a key's other events (SeesAllEventsOfLiveKeys).
  if (key.state == nullptr) {
    auto* fresh = new KeyState();
    fresh->index = states_.size();
    states_.push_back(fresh);
    key.state = fresh;
  }
  KeyState& ks = *static_cast<KeyState*>(key.state);
  Evict(ks, event->time);
  if (t.aggregate == ThresholdSpec::Aggregate::kSum) ks.sum += entry.value;
  if (t.aggregate == ThresholdSpec::Aggregate::kDistinct) ++ks.distinct[entry.distinct];
  Hold(ks, entry.event);
  ks.window.push_back(std::move(entry));
  if (ks.window.size() > kMaxAlertEvents) {
    Unhold(ks, ks.window[ks.window.size() - kMaxAlertEvents - 1].event);
  }

  double value = Aggregate(ks);
  if (value >= t.bound) {
    match_.rule = index();
    match_.key.assign(key.key);
    match_.time = event->time;
    match_.value = value;
    match_.events.clear();
    size_t first = ks.window.size() > kMaxAlertEvents ? ks.window.size() - kMaxAlertEvents : 0;
    for (size_t i = first; i < ks.window.size(); ++i) {
      match_.events.push_back(MatchedEvent{"match", ks.window[i].event});
    }
    // The window empties: the next alert needs the bound reached again by newer events.
    ks.window.clear();
    ks.distinct.clear();
    ks.sum = 0;
    ks.event_bytes = 0;
    ctx.Emit(match_);
    match_.events.clear();
  }
  if (ks.window.empty()) {
    Drop(key);
    return;
  }
  if (!ks.timer_armed) {
    ks.timer_armed = true;
    ctx.ScheduleTimer(index(), SaturatingAdd(ks.window.front().time, t.window), key);
  }
}

void ThresholdRule::OnTimer(KeyHandle& key, Timestamp deadline, RuntimeContext& ctx) {
  KeyState& ks = *static_cast<KeyState*>(key.state);
  ks.timer_armed = false;
  Evict(ks, deadline);
  if (ks.window.empty()) {
    Drop(key);
    return;
  }
  ks.timer_armed = true;
  ctx.ScheduleTimer(index(), SaturatingAdd(ks.window.front().time, spec().threshold.window), key);
}

void ThresholdRule::FinishKey(KeyHandle& key, RuntimeContext& ctx) {
  (void)ctx;  // a window that did not reach its bound by the end of input never will
  Drop(key);
}

void ThresholdRule::SaveKey(const void* state, KeyedWriter& out) const {
  const auto& ks = *static_cast<const KeyState*>(state);
  Writer& w = out.body();
  w.Varint(ks.window.size());
  for (const Entry& e : ks.window) {
    w.Svarint(e.time);
    out.EventRef(e.event);  // null past the newest kMaxAlertEvents
    w.Double(e.value);
    w.Bytes(e.distinct);
  }
  w.Double(ks.sum);  // as accumulated: recomputing could differ in the last bits
}

bool ThresholdRule::LoadKey(KeyedReader& in, KeyHandle& key, RuntimeContext& ctx) {
  Reader& r = in.body();
  auto ks = std::make_unique<KeyState>();
  const uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    Entry e;
    e.time = r.Svarint();
    e.event = in.EventRef();
    e.value = r.Double();
    e.distinct = std::string(r.Bytes());
    if (spec().threshold.aggregate == ThresholdSpec::Aggregate::kDistinct) ++ks->distinct[e.distinct];
    Hold(*ks, e.event);
    ks->window.push_back(std::move(e));
  }
  ks->sum = r.Double();
  if (!r.ok() || !r.done() || ks->window.empty()) return false;
  ks->index = states_.size();
  states_.push_back(ks.get());
  key.state = ks.release();
  auto* restored = static_cast<KeyState*>(key.state);
  restored->timer_armed = true;
  ctx.ScheduleTimer(index(), SaturatingAdd(restored->window.front().time, spec().threshold.window), key);
  return true;
}

size_t ThresholdRule::KeyBytes(const void* state) const {
  const auto& ks = *static_cast<const KeyState*>(state);
  // A deque of entries, a node per distinct value (its string and the map's overhead).
  return sizeof(KeyState) + ks.window.size() * sizeof(Entry) + ks.event_bytes +
         ks.distinct.size() * 64;
}

size_t ThresholdRule::state_bytes() const {
  size_t n = 0;
  for (const KeyState* ks : states_) {
    n += sizeof(KeyState) + ks->window.size() * sizeof(Entry);
    for (const auto& [v, c] : ks->distinct) n += v.capacity() + 32;
  }
  return n;
}

}  // namespace vigil::cep
