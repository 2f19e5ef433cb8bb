#include "vigil/cep/engine.h"

#include <algorithm>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <cstring>
#include <queue>
#include <unordered_map>

#include "codec.h"
#include "evict_index.h"
#include "key_table.h"
#include "nfa/pattern_rule.h"
#include "rule_runtime.h"
#include "single_event_rule.h"
#include "threshold_rule.h"
#include "timer_queue.h"
#include "value_index.h"
#include "key_encoding.h"
#include "vigil/cep/json_array.h"
#include "vigil/cep/key.h"
#include "vigil/cep/state_store.h"

namespace vigil::cep {

namespace {

struct StreamState {
  std::string name;
  StreamOptions options;
  // Largest event time seen per source partition; kMinTimestamp = none yet (or removed).
  std::vector<Timestamp> partition_max;
  // Partitions marked idle (SetPartitionIdle) until their next event: they do not hold
  // the watermark back.
  std::vector<uint8_t> partition_idle;
};

struct EventOrder {
  // priority_queue is a max-heap: "a after b" puts the earliest (time, seq) on top.
  bool operator()(const EventPtr& a, const EventPtr& b) const {
    return a->time != b->time ? a->time > b->time : a->seq > b->seq;
  }
};

struct RuleSlot {
  RuleSpec spec;
  std::unique_ptr<RuleRuntime> runtime;
  RuleStats stats;
  size_t key_set = 0;  // index into Impl::key_sets_
  bool sees_all = false;  // runtime->SeesAllEventsOfLiveKeys(), cached
  // `suppress`: time of the last emitted alert per key.
  std::unordered_map<std::string, Timestamp> last_alert;
};

}  // namespace

class Engine::Impl final : public RuntimeContext {
  struct KeyCacheEntry;

 public:
  explicit Impl(MatchSink* sink) : sink_(sink) {}

  uint32_t AddStream(std::string name, const StreamOptions& options) {
    streams_.push_back(StreamState{std::move(name), options, {}, {}});
    index_dirty_ = true;
    return static_cast<uint32_t>(streams_.size() - 1);
  }

  int FindStream(std::string_view name) const {
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  Result<uint32_t> AddRule(RuleSpec spec) {
    if (spec.stream && *spec.stream >= streams_.size()) {
      return Status::InvalidArgument("rule " + spec.id + ": unknown stream index");
    }
    if (spec.key_fields.size() != spec.key_names.size()) {
      return Status::InvalidArgument("rule " + spec.id + ": key fields and names differ");
    }
    auto slot = std::make_unique<RuleSlot>();
    uint32_t index = static_cast<uint32_t>(rules_.size());
    switch (spec.kind) {
      case RuleKind::kSingleEvent:
        if (!spec.where) return Status::InvalidArgument("rule " + spec.id + ": no condition");
        slot->spec = std::move(spec);
        slot->runtime = std::make_unique<SingleEventRule>(index, &slot->spec);
        break;
      case RuleKind::kPattern:
        if (spec.steps.empty()) return Status::InvalidArgument("rule " + spec.id + ": no steps");
        for (const StepSpec& s : spec.steps) {
          if (!s.where) return Status::InvalidArgument("rule " + spec.id + ": step without condition");
        }
        if (spec.steps.front().absent) {
          return Status::InvalidArgument("rule " + spec.id + ": a pattern cannot start with an absent step");
        }
        if (spec.steps.back().absent && spec.within <= 0) {
          return Status::InvalidArgument("rule " + spec.id +
                                         ": an absent last step needs within");
        }
        slot->spec = std::move(spec);
        slot->runtime = std::make_unique<PatternRule>(index, &slot->spec);
        break;
      case RuleKind::kThreshold:
        if (!spec.where) return Status::InvalidArgument("rule " + spec.id + ": no condition");
        if (spec.threshold.window <= 0) {
          return Status::InvalidArgument("rule " + spec.id + ": threshold window must be positive");
        }
        slot->spec = std::move(spec);
        slot->runtime = std::make_unique<ThresholdRule>(index, &slot->spec);
        break;
    }
    auto ks = std::find(key_sets_.begin(), key_sets_.end(), slot->spec.key_fields);
    slot->key_set = static_cast<size_t>(ks - key_sets_.begin());
    if (ks == key_sets_.end()) key_sets_.push_back(slot->spec.key_fields);
    runtimes_.push_back(slot->runtime.get());
    rules_.push_back(std::move(slot));
    index_dirty_ = true;
    return index;
  }

  ProcessResult Process(std::shared_ptr<Event> event) {
    ++stats_.events;
    if (event->time < watermark_) {
      ++stats_.late;
      return ProcessResult::kLate;
    }
    event->seq = next_seq_++;
    StreamState& stream = streams_.at(event->stream);
    if (stream.partition_max.size() <= event->partition) {
      stream.partition_max.resize(event->partition + 1, kMinTimestamp);
    }
    Timestamp& pmax = stream.partition_max[event->partition];
    if (event->partition < stream.partition_idle.size() && stream.partition_idle[event->partition]) {
      stream.partition_idle[event->partition] = 0;  // active again; the watermark stays
    }
    if (event->time > pmax) {
      pmax = event->time;
      watermark_ = std::max(watermark_, ComputeWatermark());
    }
    if (buffer_.empty() && event->time <= watermark_) {
      // Nothing buffered is earlier: the event goes to the rules at once, after the timers
      // due at or before its time (the common case of in-order input skips the heap).
      // Its keys' state is fetched from memory while the timers run.
      PrefetchKeys(*event);
      FireTimersUpTo(event->time);
      const EventPtr ev = std::move(event);
      Dispatch(ev);
    } else {
      buffer_.push(std::move(event));
    }
    Drain();
    return ProcessResult::kAccepted;
  }

  void SetPartitionIdle(uint32_t stream_index, uint32_t partition, bool idle) {
    StreamState& stream = streams_.at(stream_index);
    if (stream.partition_idle.size() <= partition) {
      if (!idle) return;
      stream.partition_idle.resize(partition + 1, 0);
    }
    stream.partition_idle[partition] = idle ? 1 : 0;
    if (idle) Advance();
  }

  void RemovePartition(uint32_t stream_index, uint32_t partition) {
    StreamState& stream = streams_.at(stream_index);
    if (partition < stream.partition_max.size()) stream.partition_max[partition] = kMinTimestamp;
    if (partition < stream.partition_idle.size()) stream.partition_idle[partition] = 0;
    Advance();
  }

  void Finish() {
    watermark_ = kMaxTimestamp;
    Drain();
    finishing_ = true;
    for (uint32_t ks = 0; ks < tables_.size(); ++ks) {
      KeyTable& table = tables_[ks];
      for (uint32_t s = 0; s < table.slot_limit(); ++s) {
        KeyEntry& entry = table.at(s);
        while (entry.in_use && !entry.live.empty()) {
          const LiveRule lr = entry.live[0];
          KeyHandle h{entry.key(), ks, s, entry.generation, lr.state};
          deferred_timers_.clear();
          rules_[lr.rule]->runtime->FinishKey(h, *this);
          h.state = nullptr;  // FinishKey frees the state
          AfterCall(lr.rule, h, entry.hash, lr.state, 0);
        }
      }
    }
    if (evicted_total_ > 0) FinishEvicted();
    for (auto& slot : rules_) slot->runtime->OnFinish(*this);
    finishing_ = false;
  }

  Timestamp watermark() const { return watermark_; }
  const EngineStats& stats() const { return stats_; }
  const RuleSpec& rule(uint32_t i) const { return rules_.at(i)->spec; }
  size_t rule_count() const { return rules_.size(); }
  const RuleStats& rule_stats(uint32_t i) const { return rules_.at(i)->stats; }
  RuleStateStats rule_state(uint32_t i) const {
    const RuleSlot& slot = *rules_.at(i);
    RuleStateStats st = slot.runtime->StateStats();
    if (i < evicted_per_rule_.size()) st.evicted_keys = evicted_per_rule_[i];
    if (!slot.last_alert.empty()) {
      st.keys = std::max(st.keys, slot.last_alert.size());
      st.bytes += slot.last_alert.size() * 48;
    }
    return st;
  }
  size_t buffered_events() const { return buffer_.size(); }
  size_t pending_timers() const { return timers_.size(); }
  size_t live_keys() const {
    size_t n = 0;
    for (const KeyTable& t : tables_) n += t.size();
    return n;
  }

  // Bounded memory -------------------------------------------------------------------

  Status LimitMemory(size_t max_bytes, StateStore* store, const FieldRegistry* fields,
                     EventPreparer prepare) {
    if (max_bytes == 0) return Status::Ok();
    if (store == nullptr || fields == nullptr) {
      return Status::InvalidArgument("bounded memory needs a state store");
    }
    if (rules_.size() >= EvictIndex::kMaxRules) {
      return Status::InvalidArgument("bounded memory supports fewer than 16,777,215 rules");
    }
    // Timers left in the store by an earlier engine (a previous run, or the pipeline a
    // reload replaces, which must keep working if the reload fails) are not cleared: at
    // worst one loads a key early, which changes nothing, and each goes once it is due.
    Status st = FindFirstSpilled(*store, {});
    if (!st.ok()) return st;
    max_bytes_ = max_bytes;
    spill_ = store;
    spill_fields_ = fields;
    spill_prepare_ = std::move(prepare);
    evicted_per_rule_.assign(rules_.size(), 0);
    memory_.limit = max_bytes;
    if (index_dirty_) BuildIndex();
    return Status::Ok();
  }

  size_t MemoryBytes() const {
    size_t n = state_bytes_ + timers_.bytes();
    for (const KeyTable& t : tables_) n += t.approx_bytes();
    for (const EvictIndex& e : evicted_) n += e.bytes();
    return n;
  }
  bool OverMemoryLimit() const { return max_bytes_ != 0 && MemoryBytes() > max_bytes_; }

  MemoryStats memory_stats() const {
    MemoryStats m = memory_;
    m.bytes = max_bytes_ != 0 ? MemoryBytes() : 0;
    m.evicted_keys = evicted_total_;
    return m;
  }
  const Status& memory_error() const { return memory_error_; }

  size_t Evict() {
    if (max_bytes_ == 0 || rewrite_all_) return 0;  // after a failed write: not clean
    if (index_dirty_) BuildIndex();
    const size_t target = max_bytes_ / 4 * 3;
    size_t bytes = MemoryBytes();
    if (bytes <= target) return 0;
    // CLOCK: a state used since the hand last passed gets another round; a key goes when
    // every rule's state for it is as the last checkpoint wrote it.
    victims_.clear();
    size_t slots = 0;
    for (const KeyTable& t : tables_) slots += t.slot_limit();
    for (size_t visited = 0; bytes > target && visited < 2 * slots;) {
      if (hand_key_set_ >= tables_.size()) {
        hand_key_set_ = 0;
        hand_slot_ = 0;
      }
      KeyTable& table = tables_[hand_key_set_];
      if (hand_slot_ >= table.slot_limit()) {
        ++hand_key_set_;
        hand_slot_ = 0;
        continue;
      }
      const uint32_t slot = hand_slot_++;
      ++visited;
      KeyEntry& e = table.at(slot);
      if (!e.in_use || e.live.empty()) continue;
      bool clean = true, used = false;
      size_t freed = 0;
      for (LiveRule& lr : e.live) {
        if (lr.dirty || !lr.persisted) clean = false;
        if (lr.touched) used = true;
        lr.touched = false;
        freed += size_t{lr.size64} * 64;
      }
      if (!clean || used) continue;
      victims_.push_back(uint64_t{hand_key_set_} << 32 | slot);
      bytes -= std::min(bytes, freed);
    }
    if (victims_.empty()) return 0;
    // The second round of the hand meets the first round's victims again.
    std::sort(victims_.begin(), victims_.end());
    victims_.erase(std::unique(victims_.begin(), victims_.end()), victims_.end());
    auto victim = [&](const Timer& t) {
      if (!std::binary_search(victims_.begin(), victims_.end(), uint64_t{t.key_set} << 32 | t.slot)) {
        return false;
      }
      return tables_[t.key_set].at(t.slot).generation == t.generation;
    };
    // Their pending timers wait in the store (the timer queue drops them).
    StateBatch spilled;
    Timestamp earliest = kMaxTimestamp;
    timers_.ForEach([&](const Timer& t) {
      if (!victim(t) || StaleTimer(t)) return;
      spilled.Put(StateFamily::kTimers, SpillKey(t.deadline, t.key_set, tables_[t.key_set].at(t.slot).key()), {});
      earliest = std::min(earliest, t.deadline);
    });
    if (!spilled.empty()) {
      Status st = spill_->Write(spilled, false);
      if (!st.ok()) {
        if (memory_error_.ok()) memory_error_ = st;
        return 0;  // nothing evicted: the keys stay in memory
      }
    }
    timers_.RemoveIf([&](const Timer& t) { return victim(t) || StaleTimer(t); });
    if (!spilled.empty()) {
      spill_min_ = have_spill_ ? std::min(spill_min_, earliest) : earliest;
      have_spill_ = true;
    }
    size_t evicted = 0;
    for (uint64_t v : victims_) {
      const uint32_t ks = static_cast<uint32_t>(v >> 32);
      const uint32_t slot = static_cast<uint32_t>(v);
      KeyTable& table = tables_[ks];
      KeyEntry& e = table.at(slot);
      const uint64_t fp = EvictIndex::Fingerprint(e.hash);
      for (LiveRule& lr : e.live) {
        evicted_[ks].Add(fp, lr.rule);
        ++evicted_per_rule_[lr.rule];
        state_bytes_ -= size_t{lr.size64} * 64;
        KeyHandle h{e.key(), ks, slot, e.generation, lr.state};
        runtimes_[lr.rule]->EvictKey(h);
        ++evicted;
      }
      e.live.clear();
      table.Erase(slot);
    }
    evicted_total_ += evicted;
    memory_.evictions += evicted;
#ifdef __GLIBC__
    // The freed states are small blocks all over the heap: hand the free pages back, or
    // the process keeps the high-water mark of every eviction round.
    malloc_trim(0);
#endif
    return evicted;
  }

  // Checkpoints ---------------------------------------------------------------------

  void TrackChanges(bool on) { track_ = on; }

  void AddToCheckpoint(StateBatch* batch, const FieldRegistry& fields, CheckpointStats* st) {
    KeyedWriter writer(&fields);
    std::string value;
    auto put_state = [&](uint32_t rule, std::string_view key, LiveRule& lr) {
      writer.Clear();
      runtimes_[rule]->SaveKey(lr.state, writer);
      writer.Finish(&value);
      batch->Put(StateFamily::kKeyed, KeyedKey(rule, key), value);
      lr.dirty = false;
      lr.persisted = true;
      ++st->keys_written;
    };
    inflight_deleted_.clear();  // the checkpoint that deleted them was written
    if (rewrite_all_) {
      // After a failed write nothing is known of what the store holds: all of it again.
      // With keys evicted, the store holds their state: instead of clearing the family,
      // the deletes since the last written checkpoint go again (CheckpointFailed keeps
      // them), then every state in memory.
      if (evicted_total_ == 0) {
        batch->DeleteRange(StateFamily::kKeyed, std::string_view(), kEndOfKeys);
      } else {
        for (const std::string& k : deleted_) batch->Delete(StateFamily::kKeyed, k);
        st->keys_deleted += deleted_.size();
      }
      for (uint32_t ks = 0; ks < tables_.size(); ++ks) {
        KeyTable& table = tables_[ks];
        for (uint32_t s = 0; s < table.slot_limit(); ++s) {
          KeyEntry& entry = table.at(s);
          if (!entry.in_use) continue;
          for (LiveRule& lr : entry.live) put_state(lr.rule, entry.key(), lr);
        }
      }
      rewrite_all_ = false;
    } else {
      // Deletes first: a key freed and then created again in the interval is put after.
      for (const std::string& k : deleted_) batch->Delete(StateFamily::kKeyed, k);
      st->keys_deleted += deleted_.size();
      for (const DirtyRef& d : dirty_) {
        KeyTable& table = tables_[d.key_set];
        if (d.slot >= table.slot_limit()) continue;
        KeyEntry& entry = table.at(d.slot);
        if (!entry.in_use || entry.generation != d.generation) continue;  // freed since
        const uint32_t pos = FindLive(entry, d.rule);
        if (pos == entry.live.size() || !entry.live[pos].dirty) continue;
        put_state(d.rule, entry.key(), entry.live[pos]);
      }
    }
    inflight_deleted_ = std::move(deleted_);
    deleted_.clear();
    dirty_.clear();

    // The reorder buffer and suppression: small, written whole.
    writer.Clear();
    const auto& waiting = buffer_.items();
    writer.body().Varint(waiting.size());
    for (const EventPtr& e : waiting) writer.EventRef(e);
    writer.Finish(&value);
    batch->Put(StateFamily::kReorder, "engine", value);
    for (uint32_t r = 0; r < rules_.size(); ++r) {
      const RuleSlot& slot = *rules_[r];
      if (slot.spec.suppress <= 0) continue;
      value.clear();
      Writer w(&value);
      w.Varint(slot.last_alert.size());
      for (const auto& [key, time] : slot.last_alert) {
        w.Bytes(key);
        w.Svarint(time);
      }
      batch->Put(StateFamily::kMeta, "suppress/" + KeyedKey(r, {}), value);
    }
    // Clocks last: the engine's place in time, with the per-partition watermarks.
    value.clear();
    Writer w(&value);
    w.Bytes(kEngineFormat);
    w.Varint(next_seq_);
    w.Svarint(watermark_);
    w.Varint(streams_.size());
    for (const StreamState& stream : streams_) {
      w.Bytes(stream.name);
      w.Varint(stream.partition_max.size());
      for (size_t p = 0; p < stream.partition_max.size(); ++p) {
        w.Svarint(stream.partition_max[p]);
        w.U8(p < stream.partition_idle.size() ? stream.partition_idle[p] : 0);
      }
    }
    batch->Put(StateFamily::kMeta, "engine", value);
  }

  void CheckpointFailed() {
    rewrite_all_ = true;
    dirty_.clear();
    // Deletes not known to be written go again with the next checkpoint (harmless if
    // they were).
    deleted_.insert(deleted_.end(), std::make_move_iterator(inflight_deleted_.begin()),
                    std::make_move_iterator(inflight_deleted_.end()));
    inflight_deleted_.clear();
  }

  Result<RestoreStats> Restore(const StateStore& store, const FieldRegistry& fields,
                               const EventPreparer& prepare) {
    RestoreStats st;
    if (index_dirty_) BuildIndex();  // the key tables
    std::string value;
    Result<bool> found = store.Get(StateFamily::kMeta, "engine", &value);
    if (!found.ok()) return found.status();
    if (!*found) return st;  // a store without engine state: start fresh
    {
      Reader r(value);
      std::string_view format = r.Bytes();
      if (r.ok() && format != kEngineFormat) {
        return Status::Corruption("engine state is in format '" + std::string(format) +
                                  "', this version reads '" + std::string(kEngineFormat) + "'");
      }
      next_seq_ = r.Varint();
      watermark_ = r.Svarint();
      const uint64_t n_streams = r.Count();
      for (uint64_t i = 0; i < n_streams && r.ok(); ++i) {
        std::string name(r.Bytes());
        const uint64_t n_parts = r.Count();
        std::vector<Timestamp> pmax;
        std::vector<uint8_t> idle;
        for (uint64_t p = 0; p < n_parts && r.ok(); ++p) {
          pmax.push_back(r.Svarint());
          idle.push_back(r.U8());
        }
        const int s = FindStream(name);
        if (s >= 0) {  // a stream no longer configured holds nothing back
          streams_[s].partition_max = std::move(pmax);
          streams_[s].partition_idle = std::move(idle);
        }
      }
      if (!r.ok() || !r.done()) return Status::Corruption("engine state (meta 'engine') is garbled");
    }
    std::unordered_map<std::string, uint32_t> by_key;  // KeyedKey prefix -> rule
    for (uint32_t r = 0; r < rules_.size(); ++r) by_key.emplace(KeyedKey(r, {}), r);

    const bool track = track_;
    track_ = false;  // what is restored is what the store holds
    Status bad = Status::Ok();
    // In chunks, so that with bounded memory the keys restored so far can be evicted
    // between them (the store is not read and written at once).
    auto restore_one = [&](std::string_view k, std::string_view v) {
      const size_t nul = k.find('\0');
      if (nul == std::string_view::npos || k.size() < nul + 1 + 8) {
        bad = Status::Corruption("keyed state: malformed key '" + Printable(k) + "'");
        return false;
      }
      auto it = by_key.find(std::string(k.substr(0, nul + 1 + 8)));
      if (it == by_key.end()) {
        deleted_.emplace_back(k);  // a rule removed or changed: its state goes
        ++st.stale_keys;
        return true;
      }
      const uint32_t rule = it->second;
      const std::string_view key = k.substr(nul + 1 + 8);
      const RuleSlot& slot = *rules_[rule];
      KeyTable& table = tables_[slot.key_set];
      const uint64_t hash = KeyTable::Hash(key);
      uint32_t at = table.Find(key, hash);
      if (at == KeyTable::kNone && evicted_total_ > 0) {
        // The key's other rules were restored and evicted: a key is in memory whole.
        at = LoadKeyFromStore(static_cast<uint32_t>(slot.key_set), key, hash);
        if (at != KeyTable::kNone && FindLive(table.at(at), rule) < table.at(at).live.size()) {
          ++st.keys;  // a fingerprint twin's entry brought this one in already
          return true;
        }
      }
      KeyedReader reader(v, &fields, &prepare);
      KeyHandle h{key, static_cast<uint32_t>(slot.key_set), at, 0, nullptr};
      if (h.slot != KeyTable::kNone) h.generation = table.at(h.slot).generation;
      deferred_timers_.clear();
      if (!reader.ok() || !slot.runtime->LoadKey(reader, h, *this)) {
        bad = Status::Corruption("keyed state of rule '" + slot.spec.id + "' for key " +
                                 Printable(key) + " is garbled");
        return false;
      }
      at = AfterCall(rule, h, hash, nullptr, 0);
      KeyEntry& entry = table.at(at);
      entry.live[FindLive(entry, rule)].persisted = true;
      ++st.keys;
      return true;
    };
    Status scan = Status::Ok();
    std::string begin;
    std::vector<std::pair<std::string, std::string>> chunk;
    size_t chunk_bytes = 0;
    if (max_bytes_ == 0) {  // unbounded: nothing to evict between chunks, no copies
      scan = store.Scan(StateFamily::kKeyed, {}, {}, restore_one);
    }
    for (; max_bytes_ != 0;) {
      chunk.clear();
      chunk_bytes = 0;
      scan = store.Scan(StateFamily::kKeyed, begin, {}, [&](std::string_view k, std::string_view v) {
        if (chunk_bytes >= (size_t{4} << 20)) return false;
        chunk.emplace_back(k, v);
        chunk_bytes += k.size() + v.size();
        return true;
      });
      if (!scan.ok()) break;
      for (const auto& [k, v] : chunk) {
        if (!restore_one(k, v)) break;
      }
      if (!bad.ok() || chunk.empty() || chunk_bytes < (size_t{4} << 20)) break;
      begin = chunk.back().first;
      begin.push_back('\0');
      if (OverMemoryLimit()) Evict();  // restored states are as the store holds them
    }
    track_ = track;
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;

    found = store.Get(StateFamily::kReorder, "engine", &value);
    if (!found.ok()) return found.status();
    if (*found) {
      KeyedReader reader(value, &fields, &prepare);
      Reader& r = reader.body();
      const uint64_t n = reader.ok() ? r.Count() : 0;
      for (uint64_t i = 0; i < n && reader.ok(); ++i) {
        EventPtr e = reader.EventRef();
        if (e == nullptr || e->stream >= streams_.size()) {
          r.Fail();
          break;
        }
        buffer_.push(std::move(e));
        ++st.buffered_events;
      }
      if (!reader.ok() || !r.done()) return Status::Corruption("engine state: the reorder buffer is garbled");
    }
    for (uint32_t rule = 0; rule < rules_.size(); ++rule) {
      RuleSlot& slot = *rules_[rule];
      if (slot.spec.suppress <= 0) continue;
      found = store.Get(StateFamily::kMeta, "suppress/" + KeyedKey(rule, {}), &value);
      if (!found.ok()) return found.status();
      if (!*found) continue;
      Reader r(value);
      const uint64_t n = r.Count();
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string key(r.Bytes());
        slot.last_alert[key] = r.Svarint();
      }
      if (!r.ok() || !r.done()) {
        return Status::Corruption("suppression state of rule '" + slot.spec.id + "' is garbled");
      }
    }
    ++dispatch_generation_;  // cached key lookups predate the restored keys
    return st;
  }

  // RuntimeContext
  void Emit(Match& match) override {
    RuleSlot& slot = *rules_[match.rule];
    if (slot.spec.suppress > 0) {
      auto [it, inserted] = slot.last_alert.try_emplace(match.key, match.time);
      if (!inserted) {
        if (match.time < SaturatingAdd(it->second, slot.spec.suppress)) {
          ++slot.stats.suppressed;
          return;
        }
        it->second = match.time;
      }
    }
    ++slot.stats.matches;
    ++stats_.matches;
    sink_->OnMatch(match);
  }

  void ScheduleTimer(uint32_t rule, Timestamp deadline, const KeyHandle& key) override {
    (void)key;  // the handle's slot is only known once the call that asked returns
    if (finishing_) return;
    deferred_timers_.push_back(DeferredTimer{rule, deadline});
  }

  RuleStats& stats(uint32_t rule) override { return rules_[rule]->stats; }

 private:
  // The watermark never goes back: a partition that becomes active again (or a new one)
  // behind it only makes its own events late.
  void Advance() {
    if (watermark_ == kMaxTimestamp) return;
    Timestamp wm = ComputeWatermark();
    if (wm <= watermark_) return;
    watermark_ = wm;
    Drain();
  }

  Timestamp ComputeWatermark() const {
    Timestamp wm = kMaxTimestamp;
    bool any = false;
    for (const StreamState& s : streams_) {
      for (size_t p = 0; p < s.partition_max.size(); ++p) {
        const Timestamp pmax = s.partition_max[p];
        if (pmax == kMinTimestamp) continue;
        if (p < s.partition_idle.size() && s.partition_idle[p]) continue;
        any = true;
        wm = std::min(wm, SaturatingAdd(pmax, -s.options.max_delay));
      }
    }
    return any ? wm : kMinTimestamp;
  }

  // Releases, in event-time order, every buffered event and timer at or before the
  // watermark. A deadline D means "strictly before D": it fires before events at D.
  void Drain() {
    for (;;) {
      bool have_event = !buffer_.empty() && buffer_.top()->time <= watermark_;
      bool have_timer = !timers_.empty() && timers_.Top().deadline <= watermark_;
      if (have_spill_ && spill_min_ <= watermark_ &&
          (!have_event || spill_min_ <= buffer_.top()->time) &&
          (!have_timer || spill_min_ <= timers_.Top().deadline)) {
        LoadSpilled(spill_min_);  // evicted keys with timers due next: their timers join
        continue;
      }
      if (!have_event && !have_timer) break;
      if (have_timer && (!have_event || timers_.Top().deadline <= buffer_.top()->time)) {
        FireTimer();
      } else {
        EventPtr ev = buffer_.top();
        buffer_.pop();
        Dispatch(ev);
      }
    }
    PruneSuppression();
  }

  void FireTimersUpTo(Timestamp t) {
    for (;;) {
      if (have_spill_ && spill_min_ <= t && (timers_.empty() || spill_min_ <= timers_.Top().deadline)) {
        LoadSpilled(spill_min_);
      } else if (!timers_.empty() && timers_.Top().deadline <= t) {
        FireTimer();
      } else {
        break;
      }
    }
  }

  void FireTimer() {
    const Timer t = timers_.Top();
    timers_.Pop();
    PrefetchTimers();
    RuleSlot& slot = *rules_[t.rule];
    KeyTable& table = tables_[slot.key_set];
    if (t.slot >= table.slot_limit()) return;
    KeyEntry& entry = table.at(t.slot);
    if (!entry.in_use || entry.generation != t.generation) return;  // the key was freed
    uint32_t pos = FindLive(entry, t.rule);
    if (pos == entry.live.size()) return;  // the rule let go of the key
    void* const before = entry.live[pos].state;
    KeyHandle h{entry.key(), static_cast<uint32_t>(slot.key_set), t.slot, entry.generation, before};
    deferred_timers_.clear();
    slot.runtime->OnTimer(h, t.deadline, *this);
    AfterCall(t.rule, h, entry.hash, before, pos);
  }

  // FireTimer would drop `t` (its key or the rule's state for it is gone).
  bool StaleTimer(const Timer& t) const {
    const KeyTable& table = tables_[t.key_set];
    if (t.slot >= table.slot_limit()) return true;
    const KeyEntry& entry = table.at(t.slot);
    if (!entry.in_use || entry.generation != t.generation) return true;
    return FindLive(entry, t.rule) == entry.live.size();
  }

  // Store keys of timers of evicted keys (family kTimers): the deadline (big-endian, the
  // sign bit flipped, so keys sort by time), the key set and the encoded key.
  static std::string SpillKey(Timestamp deadline, uint32_t key_set, std::string_view key) {
    std::string k = SpillPrefix(deadline);
    for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>(key_set >> (8 * i)));
    k.append(key);
    return k;
  }
  static std::string SpillPrefix(Timestamp deadline) {
    const uint64_t u = static_cast<uint64_t>(deadline) ^ (uint64_t{1} << 63);
    std::string k;
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(u >> (8 * i)));
    return k;
  }
  static bool ParseSpillKey(std::string_view k, Timestamp* deadline, uint32_t* key_set,
                            std::string_view* key) {
    if (k.size() < 12) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u = u << 8 | static_cast<unsigned char>(k[i]);
    *deadline = static_cast<Timestamp>(u ^ (uint64_t{1} << 63));
    uint32_t ks = 0;
    for (int i = 8; i < 12; ++i) ks = ks << 8 | static_cast<unsigned char>(k[i]);
    *key_set = ks;
    *key = k.substr(12);
    return true;
  }
  void SpillFailed(const Status& st) {
    if (memory_error_.ok()) memory_error_ = st;
    ++memory_.load_errors;
  }

  // Loads the keys whose timers wait in the store with deadlines up to `upto`.
  void LoadSpilled(Timestamp upto) {
    constexpr size_t kChunk = 4096;
    std::vector<std::pair<uint32_t, std::string>> due;
    for (;;) {
      due.clear();
      StateBatch consumed;
      Status st = spill_->Scan(StateFamily::kTimers, spill_floor_, {}, [&](std::string_view k, std::string_view) {
        Timestamp deadline;
        uint32_t ks;
        std::string_view key;
        if (!ParseSpillKey(k, &deadline, &ks, &key)) {
          consumed.Delete(StateFamily::kTimers, k);
          return true;
        }
        if (deadline > upto || due.size() >= kChunk) return false;
        due.emplace_back(ks, std::string(key));
        consumed.Delete(StateFamily::kTimers, k);
        return true;
      });
      if (st.ok() && !consumed.empty()) st = spill_->Write(consumed, false);
      if (!st.ok()) {
        SpillFailed(st);
        have_spill_ = false;  // no endless retry; the error is reported
        return;
      }
      for (const auto& [ks, key] : due) {
        if (ks >= tables_.size() || evicted_[ks].size() == 0) continue;
        const uint64_t hash = KeyTable::Hash(key);
        if (tables_[ks].Find(key, hash) != KeyTable::kNone) continue;  // loaded since
        LoadKeyFromStore(ks, key, hash);
      }
      if (due.size() < kChunk) break;
    }
    spill_floor_ = SpillPrefix(SaturatingAdd(upto, 1));
    if (upto == kMaxTimestamp) spill_floor_ = std::string(16, '\xff');
    Status st = FindFirstSpilled(*spill_, spill_floor_);
    if (!st.ok()) SpillFailed(st);
  }

  // Sets have_spill_ and spill_min_ from the first timer record at or after `from`.
  Status FindFirstSpilled(const StateStore& store, std::string_view from) {
    have_spill_ = false;
    return store.Scan(StateFamily::kTimers, from, {}, [&](std::string_view k, std::string_view) {
      Timestamp deadline;
      uint32_t ks;
      std::string_view key;
      if (ParseSpillKey(k, &deadline, &ks, &key)) {
        spill_min_ = deadline;
        have_spill_ = true;
      }
      return false;
    });
  }

  // Before an event is dispatched: its keys that are evicted come back.
  void LoadEvictedFor(const Event& ev) {
    for (size_t ks = 0; ks < evicted_.size(); ++ks) {
      if (evicted_[ks].size() == 0) continue;
      KeyCacheEntry& kc = KeyFor(ev, ks);
      if (!kc.present || kc.slot != KeyTable::kNone) continue;
      kc.slot = LoadKeyFromStore(static_cast<uint32_t>(ks), kc.key(), kc.hash);
    }
  }

  // Loads every rule's evicted state for `key` (of key set `ks`, not in memory); returns
  // its slot, or kNone if nothing was evicted for it.
  uint32_t LoadKeyFromStore(uint32_t ks, std::string_view key, uint64_t hash) {
    EvictIndex& index = evicted_[ks];
    const uint64_t fp = EvictIndex::Fingerprint(hash);
    load_rules_.clear();
    index.ForEach(fp, [&](uint32_t rule) { load_rules_.push_back(rule); });
    if (load_rules_.empty()) return KeyTable::kNone;
    std::sort(load_rules_.begin(), load_rules_.end());
    load_rules_.erase(std::unique(load_rules_.begin(), load_rules_.end()), load_rules_.end());
    KeyTable& table = tables_[ks];
    uint32_t slot = KeyTable::kNone;
    const bool track = track_;
    track_ = false;  // as the store holds it
    for (uint32_t rule : load_rules_) {
      Result<bool> found = spill_->Get(StateFamily::kKeyed, KeyedKey(rule, key), &load_value_);
      if (!found.ok()) {
        SpillFailed(found.status());  // the entry stays: a later event tries again
        continue;
      }
      if (!*found) continue;  // another key with the same fingerprint
      index.Remove(fp, rule);
      --evicted_total_;
      --evicted_per_rule_[rule];
      KeyedReader reader(load_value_, spill_fields_, &spill_prepare_);
      KeyHandle h{key, ks, slot, slot == KeyTable::kNone ? 0 : table.at(slot).generation, nullptr};
      deferred_timers_.clear();
      if (!reader.ok() || !runtimes_[rule]->LoadKey(reader, h, *this)) {
        SpillFailed(Status::Corruption("evicted state of rule '" + rules_[rule]->spec.id + "' for key " +
                                       Printable(key) + " is garbled"));
        continue;
      }
      slot = AfterCall(rule, h, hash, nullptr, 0);
      KeyEntry& entry = table.at(slot);
      entry.live[FindLive(entry, rule)].persisted = true;
      ++memory_.loads;
    }
    track_ = track;
    return slot;
  }

  // Finish for keys only in the store: each is loaded and finished on its own.
  void FinishEvicted() {
    std::unordered_map<std::string, uint32_t> by_key;  // KeyedKey prefix -> rule
    for (uint32_t r = 0; r < rules_.size(); ++r) by_key.emplace(KeyedKey(r, {}), r);
    std::string begin;
    std::vector<std::pair<uint32_t, std::string>> chunk;  // rule, key
    for (;;) {
      chunk.clear();
      std::string last;
      Status st = spill_->Scan(StateFamily::kKeyed, begin, {}, [&](std::string_view k, std::string_view) {
        if (chunk.size() >= 1024) return false;
        last.assign(k);
        const size_t nul = k.find('\0');
        if (nul == std::string_view::npos || k.size() < nul + 1 + 8) return true;
        auto it = by_key.find(std::string(k.substr(0, nul + 1 + 8)));
        if (it != by_key.end()) chunk.emplace_back(it->second, std::string(k.substr(nul + 1 + 8)));
        return true;
      });
      if (!st.ok()) {
        SpillFailed(st);
        return;
      }
      for (const auto& [rule, key] : chunk) {
        const uint32_t ks = static_cast<uint32_t>(rules_[rule]->key_set);
        if (evicted_[ks].size() == 0) continue;
        const uint64_t hash = KeyTable::Hash(key);
        if (tables_[ks].Find(key, hash) != KeyTable::kNone) continue;
        const uint32_t slot = LoadKeyFromStore(ks, key, hash);
        if (slot == KeyTable::kNone) continue;
        KeyEntry& entry = tables_[ks].at(slot);
        while (entry.in_use && !entry.live.empty()) {
          const LiveRule lr = entry.live[0];
          KeyHandle h{entry.key(), ks, slot, entry.generation, lr.state};
          deferred_timers_.clear();
          rules_[lr.rule]->runtime->FinishKey(h, *this);
          h.state = nullptr;
          AfterCall(lr.rule, h, entry.hash, lr.state, 0);
        }
      }
      if (last.empty() || evicted_total_ == 0) return;
      begin = last;
      begin.push_back('\0');  // the next key after `last`
    }
  }

  // The timers about to fire are known: most expire a key's partial matches, a walk
  // through memory no event has touched for a while (key entry, state, buffer nodes,
  // events), each a dependent load from far away. Each fired timer prefetches for the
  // next ones, one step deeper the closer they are: the newest of the next kAhead gets its
  // entry and state prefetched; two timers later the runtime reads what arrived and
  // prefetches the next step (level 1), and so on.
  // Timers between two prefetch steps of one timer: time for a line to arrive.
  static constexpr uint32_t kStride = (TimerQueue::kAhead - 2) / 3;
  void PrefetchTimers() {
    if (const Timer* t = timers_.Ahead(TimerQueue::kAhead - 1)) {
      const KeyTable& table = tables_[t->key_set];
      if (t->slot < table.slot_limit()) Prefetch(&table.at(t->slot));
      const char* state = static_cast<const char*>(t->hint);
      for (int line = 0; line < 4; ++line) Prefetch(state + 64 * line);
    }
    for (int level = 1; level <= 3; ++level) {
      const Timer* t = timers_.Ahead(TimerQueue::kAhead - 1 - kStride * static_cast<uint32_t>(level));
      if (t != nullptr) PrefetchTimer(*t, level);
    }
  }
  void PrefetchTimer(const Timer& t, int level) {
    const KeyTable& table = tables_[t.key_set];
    if (t.slot >= table.slot_limit()) return;
    const KeyEntry& entry = table.at(t.slot);
    if (!entry.in_use || entry.generation != t.generation) return;
    if (level == 1) table.PrefetchBucket(entry.hash);  // the key may be erased
    for (const LiveRule& lr : entry.live) {
      // Only a state the key still holds may be read.
      if (lr.rule == t.rule && lr.state == t.hint) {
        runtimes_[t.rule]->Prefetch(lr.state, level);
        return;
      }
    }
  }

  // The store key of rule `rule`'s state for `key`: its id, a NUL, its semantics hash
  // (big-endian) and the encoded key. With an empty key: the prefix of all its keys.
  std::string KeyedKey(uint32_t rule, std::string_view key) const {
    const RuleSpec& spec = rules_[rule]->spec;
    std::string k = spec.id;
    k.push_back('\0');
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(spec.semantics_hash >> (8 * i)));
    k.append(key);
    return k;
  }
  static std::string Printable(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
      if (c >= 0x20 && c < 0x7f) {
        out.push_back(static_cast<char>(c));
      } else {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
    return out;
  }
  // A runtime call left rule `rule`'s state for the key at `slot` (live[pos]) in place or
  // new: remember it for the checkpoint, and account its size and use.
  void Changed(uint32_t rule, uint32_t key_set, uint32_t slot, uint32_t pos) {
    KeyEntry& entry = tables_[key_set].at(slot);
    LiveRule& lr = entry.live[pos];
    if (max_bytes_ != 0) {
      lr.touched = true;
      const size_t units = (runtimes_[rule]->KeyBytes(lr.state) + 63) / 64;
      const uint16_t size64 = units > UINT16_MAX ? UINT16_MAX : static_cast<uint16_t>(units);
      state_bytes_ = state_bytes_ + size_t{size64} * 64 - size_t{lr.size64} * 64;
      lr.size64 = size64;
    }
    if (!track_ || lr.dirty) return;
    lr.dirty = true;
    dirty_.push_back(DirtyRef{key_set, slot, entry.generation, rule});
  }

  static uint32_t FindLive(const KeyEntry& e, uint32_t rule) {
    uint32_t i = 0;
    while (i < e.live.size() && e.live[i].rule != rule) ++i;
    return i;
  }

  // Offers the event to the rules that may care (architecture decision 1): rules whose
  // start filter admits it, and rules holding state for its key that must see all of the
  // key's events. Everything else costs nothing. Candidates run in rule order, so
  // emission order does not depend on indexing.
  void Dispatch(const EventPtr& ev) {
    ++dispatch_generation_;
    if (index_dirty_) BuildIndex();
    if (evicted_total_ > 0) LoadEvictedFor(*ev);
    candidates_.clear();
    auto add = [this](const std::vector<uint32_t>& rules) {
      for (uint32_t r : rules) candidates_.push_back(r);
    };
    const StreamIndex& idx = stream_index_[ev->stream];
    add(idx.always);
    for (const FieldIndex& fi : idx.by_field) {
      const Value& v = ev->field(fi.field);
      if (v.kind == ValueKind::kString) {
        if (const std::vector<uint32_t>* rules = fi.rules_by_value.Find(v.s)) add(*rules);
      } else if (IsJsonArray(v)) {  // rules match arrays by any element
        AnyArrayElement(v.s, [&](const Value& e) {
          if (e.kind == ValueKind::kString) {
            if (const std::vector<uint32_t>* rules = fi.rules_by_value.Find(e.s)) add(*rules);
          }
          return false;
        });
      }
    }
    for (const auto& [bit, rules] : idx.by_bit) {
      if (ev->predicate_bit(bit)) add(rules);
    }
    for (size_t ks = 0; ks < key_sets_.size(); ++ks) {
      if (tables_[ks].size() == 0) continue;
      const KeyCacheEntry& kc = KeyFor(*ev, ks);
      if (!kc.present || kc.slot == KeyTable::kNone) continue;
      for (const LiveRule& lr : tables_[ks].at(kc.slot).live) {
        if (lr.sees_all) candidates_.push_back(lr.rule);
      }
    }
    if (candidates_.empty()) return;
    if (candidates_.size() > 1) {
      std::sort(candidates_.begin(), candidates_.end());
      candidates_.erase(std::unique(candidates_.begin(), candidates_.end()), candidates_.end());
    }
    for (uint32_t r : candidates_) {
      RuleSlot& slot = *rules_[r];
      if (slot.spec.stream && *slot.spec.stream != ev->stream) continue;
      KeyCacheEntry& kc = KeyFor(*ev, slot.key_set);
      if (!kc.present) continue;
      ++slot.stats.events_seen;
      KeyHandle h{kc.key(), static_cast<uint32_t>(slot.key_set), kc.slot, 0, nullptr};
      uint32_t pos = 0;
      if (kc.slot != KeyTable::kNone) {
        const KeyEntry& entry = tables_[slot.key_set].at(kc.slot);
        h.generation = entry.generation;
        pos = FindLive(entry, r);
        if (pos < entry.live.size()) h.state = entry.live[pos].state;
      }
      void* const before = h.state;
      deferred_timers_.clear();
      slot.runtime->OnEvent(ev, h, *this);
      kc.slot = AfterCall(r, h, kc.hash, before, pos);
    }
  }

  // Records what a runtime call did to the rule's state for the key in `h` (created,
  // replaced, freed) and schedules the timers it asked for. `before` is the state the
  // call was given, at `pos` in the key's live rules when not null. Returns the key's slot
  // afterwards (KeyTable::kNone if no rule holds state for it any more).
  uint32_t AfterCall(uint32_t rule, const KeyHandle& h, uint64_t hash, void* before,
                     uint32_t pos) {
    uint32_t slot = h.slot;
    if (h.state == before && deferred_timers_.empty()) {  // the common case
      if ((track_ || max_bytes_ != 0) && h.state != nullptr) Changed(rule, h.key_set, slot, pos);
      return slot;
    }
    KeyTable& table = tables_[h.key_set];
    if (h.state != before) {
      if (before == nullptr) {
        if (slot == KeyTable::kNone) slot = table.Insert(h.key, hash);
        KeyEntry& entry = table.at(slot);
        uint32_t at = 0;
        while (at < entry.live.size() && entry.live[at].rule < rule) ++at;
        entry.live.Insert(at, LiveRule{rule, rules_[rule]->sees_all, false, false, false, 0, h.state});
        if (at == 0) table.SetHint(slot, h.state);
        if (track_ || max_bytes_ != 0) Changed(rule, h.key_set, slot, at);
      } else if (h.state == nullptr) {
        KeyEntry& entry = table.at(slot);
        if (entry.live[pos].persisted) deleted_.push_back(KeyedKey(rule, h.key));
        state_bytes_ -= size_t{entry.live[pos].size64} * 64;
        entry.live.Erase(pos);
        if (entry.live.empty()) {
          table.Erase(slot);  // a key no rule holds state for holds nothing
          slot = KeyTable::kNone;
        } else if (pos == 0) {
          table.SetHint(slot, entry.live[0].state);
        }
      } else {
        table.at(slot).live[pos].state = h.state;
        if (pos == 0) table.SetHint(slot, h.state);
        if (track_ || max_bytes_ != 0) Changed(rule, h.key_set, slot, pos);
      }
    } else if ((track_ || max_bytes_ != 0) && h.state != nullptr) {
      Changed(rule, h.key_set, slot, pos);
    }
    if (!deferred_timers_.empty()) {
      if (slot != KeyTable::kNone && h.state != nullptr) {
        uint32_t generation = table.at(slot).generation;
        for (const DeferredTimer& d : deferred_timers_) {
          timers_.Push(
              Timer{d.deadline, timer_seq_++, d.rule, h.key_set, slot, generation, h.state});
        }
      }
      deferred_timers_.clear();
    }
    return slot;
  }

  // Encodes the event's key for every key set that has keys with state, and prefetches
  // their entries and states (Dispatch finds them there).
  void PrefetchKeys(const Event& ev) {
    if (index_dirty_) return;
    for (size_t ks = 0; ks < key_sets_.size(); ++ks) {
      if (tables_[ks].size() == 0) continue;
      const KeyCacheEntry& kc = EncodeFor(ev, ks);
      if (kc.present) tables_[ks].Prefetch(kc.hash);
    }
  }

  // The event's key for `key_set`, encoded once per event.
  KeyCacheEntry& EncodeFor(const Event& ev, size_t key_set) {
    KeyCacheEntry& kc = key_cache_[key_set];
    if (kc.encoded_for != ev.seq + 1) Encode(ev, key_set, &kc);
    return kc;
  }
  void Encode(const Event& ev, size_t key_set, KeyCacheEntry* kc) {
    kc->encoded_for = ev.seq + 1;
    const std::vector<FieldId>& fields = key_sets_[key_set];
    if (fields.size() == 1) {
      // The common key, one string field of under 128 bytes: kind byte, length byte, bytes.
      const Value& v = ev.field(fields[0]);
      if (v.kind == ValueKind::kString && v.s.size() < 128 && v.s.size() + 2 <= kc->capacity) {
        char* p = kc->bytes.get();
        p[0] = static_cast<char>(ValueKind::kString);
        p[1] = static_cast<char>(v.s.size());
        if (!v.s.empty()) std::memcpy(p + 2, v.s.data(), v.s.size());
        kc->size = v.s.size() + 2;
        kc->present = true;
        kc->hash = KeyTable::Hash(kc->key());
        return;
      }
    }
    const size_t bound = EncodedKeyBound(ev, fields);
    kc->present = bound != SIZE_MAX;
    if (!kc->present) return;
    if (bound > kc->capacity) {
      kc->capacity = std::max<size_t>(bound, 256);
      kc->bytes = std::make_unique<char[]>(kc->capacity);
    }
    kc->size = EncodeKeyTo(ev, fields, kc->bytes.get());
    kc->hash = KeyTable::Hash(kc->key());
  }

  // The event's key for `key_set` and its slot, looked up once per dispatch.
  KeyCacheEntry& KeyFor(const Event& ev, size_t key_set) {
    KeyCacheEntry& kc = EncodeFor(ev, key_set);
    if (kc.looked_up_for != dispatch_generation_) {
      kc.looked_up_for = dispatch_generation_;
      kc.slot = KeyTable::kNone;
      if (kc.present && tables_[key_set].size() > 0) {
        kc.slot = tables_[key_set].Find(kc.key(), kc.hash);
      }
    }
    return kc;
  }

  void BuildIndex() {
    index_dirty_ = false;
    key_cache_.clear();
    key_cache_.resize(key_sets_.size());
    tables_.resize(key_sets_.size());
    evicted_.resize(key_sets_.size());
    stream_index_.assign(streams_.size(), StreamIndex{});
    for (uint32_t r = 0; r < rules_.size(); ++r) {
      RuleSlot& slot = *rules_[r];
      slot.sees_all = slot.runtime->SeesAllEventsOfLiveKeys();
      ConditionIndex ci = slot.runtime->StartIndex();
      for (uint32_t s = 0; s < streams_.size(); ++s) {
        if (slot.spec.stream && *slot.spec.stream != s) continue;
        StreamIndex& idx = stream_index_[s];
        auto index_bit = [&](uint32_t bit) {
          auto it = std::find_if(idx.by_bit.begin(), idx.by_bit.end(),
                                 [&](const auto& p) { return p.first == bit; });
          if (it == idx.by_bit.end()) {
            idx.by_bit.emplace_back(bit, std::vector<uint32_t>{});
            it = idx.by_bit.end() - 1;
          }
          it->second.push_back(r);
        };
        switch (ci.kind) {
          case ConditionIndex::Kind::kNone: idx.always.push_back(r); break;
          case ConditionIndex::Kind::kPredicateBit: index_bit(ci.bit); break;
          case ConditionIndex::Kind::kAnyPredicateBit:
            // Dispatch's sort + unique drops the duplicates when several bits are set.
            for (uint32_t bit : ci.bits) index_bit(bit);
            break;
          case ConditionIndex::Kind::kFieldEquals: {
            auto it = std::find_if(idx.by_field.begin(), idx.by_field.end(),
                                   [&](const FieldIndex& f) { return f.field == ci.field; });
            if (it == idx.by_field.end()) {
              idx.by_field.push_back(FieldIndex{ci.field, {}});
              it = idx.by_field.end() - 1;
            }
            for (const std::string& v : ci.values) it->rules_by_value.Add(v, r);
            break;
          }
        }
      }
    }
  }

  // Forgets `suppress` entries that can no longer suppress anything.
  void PruneSuppression() {
    if (++prune_counter_ < 1024 && watermark_ != kMaxTimestamp) return;
    prune_counter_ = 0;
    for (auto& slot : rules_) {
      if (slot->spec.suppress <= 0) continue;
      std::erase_if(slot->last_alert, [&](const auto& kv) {
        return SaturatingAdd(kv.second, slot->spec.suppress) <= watermark_;
      });
    }
  }

  struct KeyCacheEntry {
    uint64_t encoded_for = 0;    // the event (seq + 1) whose key this is
    uint64_t looked_up_for = 0;  // the dispatch whose slot this is
    bool present = false;        // the event has the key fields
    std::unique_ptr<char[]> bytes;
    size_t size = 0, capacity = 0;
    uint64_t hash = 0;
    uint32_t slot = KeyTable::kNone;
    std::string_view key() const { return {bytes.get(), size}; }
  };
  struct DeferredTimer {
    uint32_t rule;
    Timestamp deadline;
  };
  // A rule's state for a key that changed since the last checkpoint.
  struct DirtyRef {
    uint32_t key_set, slot, generation, rule;
  };
  // The reorder buffer, with its events readable for checkpoints.
  struct ReorderBuffer : std::priority_queue<EventPtr, std::vector<EventPtr>, EventOrder> {
    const std::vector<EventPtr>& items() const { return c; }
  };
  static constexpr std::string_view kEngineFormat = "vigil-engine/1";
  // Above every store key of keyed state (rule ids are UTF-8, which never has 0xff).
  static constexpr std::string_view kEndOfKeys = "\xff\xff\xff\xff";
  struct FieldIndex {
    FieldId field;
    ValueIndex rules_by_value;
  };
  struct StreamIndex {
    std::vector<uint32_t> always;  // rules without a usable start filter
    std::vector<FieldIndex> by_field;
    std::vector<std::pair<uint32_t, std::vector<uint32_t>>> by_bit;
  };

  MatchSink* const sink_;
  std::vector<StreamState> streams_;
  std::vector<std::unique_ptr<RuleSlot>> rules_;
  std::vector<RuleRuntime*> runtimes_;  // rules_[i]->runtime, one load away
  std::vector<std::vector<FieldId>> key_sets_;
  // Per key set: the keys some rule holds state for, and which rules.
  std::vector<KeyTable> tables_;
  std::vector<KeyCacheEntry> key_cache_;
  uint64_t dispatch_generation_ = 0;
  bool index_dirty_ = true;
  bool finishing_ = false;
  std::vector<StreamIndex> stream_index_;
  std::vector<uint32_t> candidates_;
  std::vector<DeferredTimer> deferred_timers_;
  ReorderBuffer buffer_;
  bool track_ = false;
  bool rewrite_all_ = false;
  std::vector<DirtyRef> dirty_;
  std::vector<std::string> deleted_;  // store keys of persisted states freed since
  std::vector<std::string> inflight_deleted_;  // ... deleted by the last checkpoint batch
  // Bounded memory (LimitMemory); max_bytes_ == 0: unbounded, none of this is used.
  size_t max_bytes_ = 0;
  StateStore* spill_ = nullptr;
  const FieldRegistry* spill_fields_ = nullptr;
  EventPreparer spill_prepare_;
  size_t state_bytes_ = 0;  // sum of the live states' size64 * 64
  std::vector<EvictIndex> evicted_;  // per key set
  size_t evicted_total_ = 0;
  std::vector<size_t> evicted_per_rule_;
  // The earliest deadline of a timer waiting in the store (kTimers), and the key prefix
  // below which every record was consumed (so scans skip the deleted ones).
  bool have_spill_ = false;
  Timestamp spill_min_ = kMaxTimestamp;
  std::string spill_floor_;
  uint32_t hand_key_set_ = 0, hand_slot_ = 0;  // the eviction sweep's place
  std::vector<uint64_t> victims_;               // key set << 32 | slot
  std::vector<uint32_t> load_rules_;
  std::string load_value_;
  MemoryStats memory_;
  Status memory_error_ = Status::Ok();
  TimerQueue timers_;
  uint64_t timer_seq_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t prune_counter_ = 0;
  Timestamp watermark_ = kMinTimestamp;
  EngineStats stats_;
};

Engine::Engine(MatchSink* sink) : impl_(std::make_unique<Impl>(sink)) {}
Engine::~Engine() = default;
uint32_t Engine::AddStream(std::string name, const StreamOptions& options) {
  return impl_->AddStream(std::move(name), options);
}
int Engine::FindStream(std::string_view name) const { return impl_->FindStream(name); }
Result<uint32_t> Engine::AddRule(RuleSpec spec) { return impl_->AddRule(std::move(spec)); }
const RuleSpec& Engine::rule(uint32_t index) const { return impl_->rule(index); }
size_t Engine::rule_count() const { return impl_->rule_count(); }
const RuleStats& Engine::rule_stats(uint32_t index) const { return impl_->rule_stats(index); }
RuleStateStats Engine::rule_state(uint32_t index) const { return impl_->rule_state(index); }
size_t Engine::buffered_events() const { return impl_->buffered_events(); }
size_t Engine::pending_timers() const { return impl_->pending_timers(); }
size_t Engine::live_keys() const { return impl_->live_keys(); }
ProcessResult Engine::Process(std::shared_ptr<Event> event) { return impl_->Process(std::move(event)); }
void Engine::Finish() { impl_->Finish(); }
void Engine::SetPartitionIdle(uint32_t stream, uint32_t partition, bool idle) {
  impl_->SetPartitionIdle(stream, partition, idle);
}
void Engine::RemovePartition(uint32_t stream, uint32_t partition) { impl_->RemovePartition(stream, partition); }
void Engine::TrackChanges(bool on) { impl_->TrackChanges(on); }
CheckpointStats Engine::AddToCheckpoint(StateBatch* batch, const FieldRegistry& fields) {
  CheckpointStats st;
  impl_->AddToCheckpoint(batch, fields, &st);
  return st;
}
void Engine::CheckpointFailed() { impl_->CheckpointFailed(); }
Result<RestoreStats> Engine::Restore(const StateStore& store, const FieldRegistry& fields,
                                     const EventPreparer& prepare) {
  return impl_->Restore(store, fields, prepare);
}
Status Engine::LimitMemory(size_t max_bytes, StateStore* store, const FieldRegistry* fields,
                           EventPreparer prepare) {
  return impl_->LimitMemory(max_bytes, store, fields, std::move(prepare));
}
bool Engine::OverMemoryLimit() const { return impl_->OverMemoryLimit(); }
size_t Engine::Evict() { return impl_->Evict(); }
MemoryStats Engine::memory_stats() const { return impl_->memory_stats(); }
const Status& Engine::memory_error() const { return impl_->memory_error(); }
Timestamp Engine::watermark() const { return impl_->watermark(); }
const EngineStats& Engine::stats() const { return impl_->stats(); }

}  // namespace vigil::cep
