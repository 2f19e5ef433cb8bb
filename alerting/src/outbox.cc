#include "vigil/alerting/outbox.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <iostream>

namespace vigil::alerting {

namespace {

using cep::StateFamily;

// How long a worker waiting for a retry deadline sleeps before it looks at the clock
// again: an injected clock moves without telling the condition variable (tests call
// Wake()), the system clock is only rechecked in case of a clock step.
constexpr cep::Duration kMaxWaitInjected = 50 * cep::kMillisecond;
constexpr cep::Duration kMaxWaitSystem = cep::kSecond;
constexpr uint8_t kRecordVersion = 1;

void PutBE64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
uint64_t GetBE64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}
void PutU32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}
void PutStr(std::string_view s, std::string* out) {
  PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

// Reads what Put* wrote; any overrun marks the reader failed.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  uint8_t U8() {
    if (s_.size() < 1) return Fail(), 0;
    uint8_t v = static_cast<uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return v;
  }
  uint64_t BE64() {
    if (s_.size() < 8) return Fail(), 0;
    uint64_t v = GetBE64(s_);
    s_.remove_prefix(8);
    return v;
  }
  uint32_t U32() {
    if (s_.size() < 4) return Fail(), 0;
    uint32_t v;
    std::memcpy(&v, s_.data(), 4);
    s_.remove_prefix(4);
    return v;
  }
  std::string Str() {
    uint32_t n = U32();
    if (!ok_ || s_.size() < n) return Fail(), std::string();
    std::string v(s_.substr(0, n));
    s_.remove_prefix(n);
    return v;
  }
  std::string Rest() {
    std::string v(s_);
    s_ = {};
    return v;
  }

 private:
  void Fail() { ok_ = false; }
  std::string_view s_;
  bool ok_ = true;
};

std::string AlertKey(uint64_t seq) {
  std::string k = "a";
  PutBE64(seq, &k);
  return k;
}
std::string CursorKey(const std::string& sink) { return "c" + sink; }
std::string DeadLetterKey(uint64_t seq, const std::string& sink) {
  std::string k = "d";
  PutBE64(seq, &k);
  return k + sink;
}

}  // namespace

struct Outbox::Entry {
  uint64_t seq = 0;
  std::string id;
  std::string json;
  cep::Timestamp appended_at = 0;
  SinkSet sinks = 0;
  int pending = 0;
  bool durable = false;
  uint64_t bytes = 0;
};

struct Outbox::Worker {
  size_t index = 0;
  std::string name;
  std::unique_ptr<Sink> sink;
  std::deque<std::shared_ptr<Entry>> queue;
  std::condition_variable cv;
  std::thread thread;
  uint64_t cursor = 0;  // every alert with a smaller seq is done for this sink
  bool cursor_dirty = false;
  uint64_t backlog_bytes = 0;
  cep::Timestamp next_attempt = 0;
  bool overflowing = false;
  SinkStats stats;
  // Used by the worker thread only: the head alert, parsed once for all its attempts.
  uint64_t parsed_seq = 0;
  std::unique_ptr<AlertView> parsed;
};

Outbox::Outbox(cep::StateStore* store, std::vector<OutboxSink> sinks, OutboxOptions options)
    : store_(store), options_(std::move(options)) {
  rng_.seed(options_.jitter_seed ? options_.jitter_seed : std::random_device{}());
  for (size_t i = 0; i < sinks.size() && i < kMaxSinks; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->name = std::move(sinks[i].name);
    w->sink = std::move(sinks[i].sink);
    w->stats.name = w->name;
    workers_.push_back(std::move(w));
  }
}

Outbox::~Outbox() { Stop(); }

cep::Timestamp Outbox::Now() const {
  return (options_.clock ? options_.clock : cep::SystemClock::Default())->Now();
}

void Outbox::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
  else std::cerr << "vigil: " << line << "\n";
}

Status Outbox::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> cursors;
  std::vector<std::pair<uint64_t, std::string>> records;
  Status s = store_->Scan(StateFamily::kOutbox, "", "", [&](std::string_view k, std::string_view v) {
    if (k.empty()) return true;
    switch (k[0]) {
      case 'n':
        if (v.size() == 8) next_seq_ = std::max(next_seq_, GetBE64(v));
        break;
      case 'c':
        if (v.size() == 8) cursors[std::string(k.substr(1))] = GetBE64(v);
        break;
      case 'a':
        if (k.size() != 9) break;
        records.emplace_back(GetBE64(k.substr(1)), std::string(v));
        break;
      case 'd': {
        if (k.size() < 9) break;
        Reader r(v);
        DeadLetter d;
        d.seq = GetBE64(k.substr(1));
        d.sink = std::string(k.substr(9));
        if (r.U8() != kRecordVersion) break;
        d.at = static_cast<cep::Timestamp>(r.BE64());
        d.alert_id = r.Str();
        d.reason = r.Str();
        d.alert_json = r.Rest();
        if (r.ok()) dead_letters_.push_back(std::move(d));
        break;
      }
      default: break;
    }
    return true;
  });
  if (!s.ok()) return s;
  std::map<std::string, Worker*> by_name;
  for (auto& w : workers_) {
    by_name[w->name] = w.get();
    auto it = cursors.find(w->name);
    w->cursor = it == cursors.end() ? 0 : it->second;
    next_seq_ = std::max(next_seq_, w->cursor);
  }
  for (const auto& [name, cursor] : cursors) {
    if (!by_name.count(name)) stale_keys_.push_back(CursorKey(name));
  }
  for (auto& [seq, value] : records) {
    Reader r(value);
    auto e = std::make_shared<Entry>();
    e->seq = seq;
    if (r.U8() != kRecordVersion) {
      return Status::Corruption("outbox record " + std::to_string(seq) + " in " +
                                store_->Describe() + " has an unknown format");
    }
    e->appended_at = static_cast<cep::Timestamp>(r.BE64());
    e->id = r.Str();
    uint32_t n = r.U32();
    std::vector<std::string> names;
    for (uint32_t i = 0; i < n && r.ok(); ++i) names.push_back(r.Str());
    e->json = r.Rest();
    if (!r.ok()) {
      return Status::Corruption("outbox record " + std::to_string(seq) + " in " +
                                store_->Describe() + " is damaged");
    }
    next_seq_ = std::max(next_seq_, seq + 1);
    e->durable = true;
    e->bytes = e->json.size() + e->id.size() + 64;
    for (const std::string& name : names) {
      auto it = by_name.find(name);
      if (it == by_name.end() || seq < it->second->cursor) continue;
      e->sinks |= SinkSet{1} << it->second->index;
    }
    e->pending = std::popcount(e->sinks);
    if (e->pending == 0) {
      done_durable_.push_back(seq);
      continue;
    }
    for (auto& w : workers_) {
      if (!(e->sinks & (SinkSet{1} << w->index))) continue;
      w->queue.push_back(e);
      w->backlog_bytes += e->bytes;
    }
    held_bytes_ += e->bytes;
    ids_[e->id] = seq;
    entries_[seq] = std::move(e);
  }
  std::sort(dead_letters_.begin(), dead_letters_.end(),
            [](const DeadLetter& a, const DeadLetter& b) { return a.seq < b.seq; });
  while (dead_letters_.size() > static_cast<size_t>(std::max(0, options_.dead_letter_keep))) {
    stale_keys_.push_back(DeadLetterKey(dead_letters_.front().seq,
                                                      dead_letters_.front().sink));
    dead_letters_.pop_front();
  }
  return Status::Ok();
}

void Outbox::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { Run(raw); });
  }
}

void Outbox::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& w : workers_) w->cv.notify_all();
    commit_cv_.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (committer_.joinable()) committer_.join();
}

OutboxOptions OutboxOptionsFrom(const DeliverySettings& delivery) {
  OutboxOptions o;
  o.retry = delivery.retry;
  o.max_bytes = delivery.outbox_max;
  o.dead_letter_keep = delivery.dead_letter_keep;
  return o;
}

std::vector<OutboxSink> TakeSinks(AlertingConfig* config) {
  std::vector<OutboxSink> sinks;
  for (ConfiguredSink& s : config->sinks) sinks.push_back({s.name, std::move(s.sink)});
  return sinks;
}

AppendResult Outbox::Append(const Alert& alert, SinkSet sinks) {
  return AppendJson(alert.id, alert.json, sinks);
}

AppendResult Outbox::Append(Alert&& alert, SinkSet sinks) {
  return AppendJson(std::move(alert.id), std::move(alert.json), sinks);
}

AppendResult Outbox::AppendJson(std::string id, std::string json, SinkSet sinks) {
  SinkSet wake = 0;  // workers whose queue was empty: they are waiting for this alert
  AppendResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ids_.count(id)) {
      ++duplicates_;
      return AppendResult::kDuplicate;
    }
    SinkSet valid = workers_.size() >= 64 ? ~SinkSet{0} : (SinkSet{1} << workers_.size()) - 1;
    sinks &= valid;
    if (!sinks) return AppendResult::kNoSinks;
    uint64_t bytes = json.size() + id.size() + 64;
    if (held_bytes_ + bytes > options_.max_bytes) {
      for (auto& w : workers_) {
        SinkSet bit = SinkSet{1} << w->index;
        if (!(sinks & bit) || w->backlog_bytes + bytes <= options_.max_bytes / 8) continue;
        sinks &= ~bit;
        ++w->stats.overflow;
        if (!w->overflowing) {
          w->overflowing = true;
          Log("outbox full (" + std::to_string(held_bytes_) + " bytes held, outbox_max " +
              std::to_string(options_.max_bytes) + "): new alerts are not kept for sink '" +
              w->name + "' until its backlog drains; counted as overflow");
        }
      }
      if (!sinks) {
        ++overflow_;
        return AppendResult::kOverflow;
      }
    }
    auto e = std::make_shared<Entry>();
    e->seq = next_seq_++;
    e->id = std::move(id);
    e->json = std::move(json);
    e->appended_at = Now();
    e->sinks = sinks;
    e->pending = std::popcount(sinks);
    e->bytes = bytes;
    for (auto& w : workers_) {
      if (!(sinks & (SinkSet{1} << w->index))) continue;
      if (w->queue.empty()) wake |= SinkSet{1} << w->index;
      w->queue.push_back(e);
      w->backlog_bytes += bytes;
      w->overflowing = false;
    }
    held_bytes_ += bytes;
    ids_[e->id] = e->seq;
    undurable_.push_back(e->seq);
    entries_.emplace(e->seq, std::move(e));
    ++appended_;
    result = AppendResult::kAppended;
  }
  for (size_t i = 0; wake; ++i, wake >>= 1) {
    if (wake & 1) workers_[i]->cv.notify_one();
  }
  return result;
}

void Outbox::FinishHead(Worker* w) {
  std::shared_ptr<Entry> e = std::move(w->queue.front());
  w->queue.pop_front();
  w->cursor = e->seq + 1;
  w->cursor_dirty = true;
  w->backlog_bytes -= e->bytes;
  if (--e->pending == 0) {
    entries_.erase(e->seq);
    ids_.erase(e->id);
    held_bytes_ -= e->bytes;
    if (e->durable) done_durable_.push_back(e->seq);
  }
}

void Outbox::AddDeadLetter(Worker* w, const Entry& e, const std::string& reason) {
  DeadLetter d;
  d.seq = e.seq;
  d.sink = w->name;
  d.alert_id = e.id;
  d.reason = reason;
  d.at = Now();
  d.alert_json = e.json;
  ++w->stats.dead_letters;
  Log("sink '" + w->name + "': alert " + e.id + " dead-lettered: " + reason);
  new_dead_letters_.push_back(d);
  dead_letters_.push_back(std::move(d));
  while (dead_letters_.size() > static_cast<size_t>(std::max(0, options_.dead_letter_keep))) {
    stale_keys_.push_back(DeadLetterKey(dead_letters_.front().seq,
                                                      dead_letters_.front().sink));
    dead_letters_.pop_front();
  }
}

cep::Duration BackoffDelay(const RetryPolicy& p, int failures, cep::Duration retry_after,
                           std::mt19937_64* rng) {
  cep::Duration max = std::max<cep::Duration>(p.max, 1);
  cep::Duration base = std::min(std::max<cep::Duration>(p.initial, 1), max);
  for (int i = 1; i < failures && base < max; ++i) base = base > max / 2 ? max : base * 2;
  std::uniform_int_distribution<cep::Duration> jitter(0, base / 2);
  cep::Duration d = base - base / 2 + jitter(*rng);
  return std::min(std::max(d, retry_after), max);
}

cep::Duration Outbox::Backoff(int failures, cep::Duration retry_after) {
  return BackoffDelay(options_.retry, failures, retry_after, &rng_);
}

void Outbox::Run(Worker* w) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (w->queue.empty()) {
      w->cv.wait(lock);
      continue;
    }
    cep::Timestamp now = Now();
    if (w->next_attempt > now) {
      cep::Duration wait = std::min(w->next_attempt - now, options_.clock ? kMaxWaitInjected : kMaxWaitSystem);
      w->cv.wait_for(lock, std::chrono::nanoseconds(wait));
      continue;
    }
    std::shared_ptr<Entry> e = w->queue.front();
    if (w->stats.consecutive_failures > 0 &&
        now - e->appended_at >= options_.retry.give_up_after) {
      AddDeadLetter(w, *e, "undelivered after " + cep::FormatDuration(options_.retry.give_up_after) +
                               " (last error: " + w->stats.last_error + ")");
      FinishHead(w);
      continue;
    }
    lock.unlock();
    DeliveryResult r;
    if (w->parsed_seq != e->seq || !w->parsed) {
      auto view = AlertView::Parse(e->json);
      w->parsed_seq = e->seq;
      w->parsed = view.ok() ? std::move(view).value() : nullptr;
      if (!view.ok()) r = DeliveryResult::Reject("not an alert: " + view.status().message());
    }
    if (w->parsed) r = w->sink->Deliver(*w->parsed);
    lock.lock();
    ++w->stats.attempts;
    switch (r.outcome) {
      case DeliveryResult::Outcome::kDelivered:
        ++w->stats.delivered;
        w->stats.consecutive_failures = 0;
        w->stats.circuit_open = false;
        w->next_attempt = 0;
        w->parsed.reset();
        FinishHead(w);
        break;
      case DeliveryResult::Outcome::kReject:
        ++w->stats.failures;
        w->stats.consecutive_failures = 0;
        w->stats.circuit_open = false;
        w->stats.last_error = r.error;
        w->next_attempt = 0;
        w->parsed.reset();
        AddDeadLetter(w, *e, "rejected: " + r.error);
        FinishHead(w);
        break;
      case DeliveryResult::Outcome::kRetry:
        ++w->stats.failures;
        ++w->stats.consecutive_failures;
        w->stats.last_error = r.error;
        if (w->stats.consecutive_failures >= options_.retry.breaker_failures &&
            !w->stats.circuit_open) {
          w->stats.circuit_open = true;
          Log("sink '" + w->name + "': circuit open after " +
              std::to_string(w->stats.consecutive_failures) + " failures: " + r.error);
        }
        w->next_attempt = Now() + Backoff(w->stats.consecutive_failures, r.retry_after);
        break;
    }
  }
}

void Outbox::AddToCheckpoint(cep::StateBatch* batch) {
  std::lock_guard<std::mutex> lock(mu_);
  last_written_.clear();
  // Alerts not yet durable. Those already done never reach the store at all.
  for (uint64_t seq : undurable_) {
    auto it = entries_.find(seq);
    if (it == entries_.end() || it->second->durable) continue;
    Entry* e = it->second.get();
    std::string v;
    v.push_back(static_cast<char>(kRecordVersion));
    PutBE64(static_cast<uint64_t>(e->appended_at), &v);
    PutStr(e->id, &v);
    PutU32(static_cast<uint32_t>(std::popcount(e->sinks)), &v);
    for (auto& w : workers_) {
      if (e->sinks & (SinkSet{1} << w->index)) PutStr(w->name, &v);
    }
    v += e->json;
    batch->Put(StateFamily::kOutbox, AlertKey(seq), v);
    e->durable = true;
    last_written_.push_back(seq);
  }
  undurable_.clear();
  // Done alerts, as ranges where they are contiguous.
  std::sort(done_durable_.begin(), done_durable_.end());
  for (size_t i = 0; i < done_durable_.size();) {
    size_t j = i;
    while (j + 1 < done_durable_.size() && done_durable_[j + 1] == done_durable_[j] + 1) ++j;
    if (j == i) batch->Delete(StateFamily::kOutbox, AlertKey(done_durable_[i]));
    else batch->DeleteRange(StateFamily::kOutbox, AlertKey(done_durable_[i]),
                            AlertKey(done_durable_[j] + 1));
    i = j + 1;
  }
  last_deleted_ = std::move(done_durable_);
  done_durable_.clear();
  for (auto& w : workers_) {
    if (!w->cursor_dirty) continue;
    std::string v;
    PutBE64(w->cursor, &v);
    batch->Put(StateFamily::kOutbox, CursorKey(w->name), v);
    w->cursor_dirty = false;
  }
  std::string n;
  PutBE64(next_seq_, &n);
  batch->Put(StateFamily::kOutbox, "n", n);
  for (const DeadLetter& d : new_dead_letters_) {
    std::string v;
    v.push_back(static_cast<char>(kRecordVersion));
    PutBE64(static_cast<uint64_t>(d.at), &v);
    PutStr(d.alert_id, &v);
    PutStr(d.reason, &v);
    v += d.alert_json;
    batch->Put(StateFamily::kOutbox, DeadLetterKey(d.seq, d.sink), v);
  }
  last_dead_written_ = std::move(new_dead_letters_);
  new_dead_letters_.clear();
  for (const std::string& k : stale_keys_) batch->Delete(StateFamily::kOutbox, k);
  last_dropped_ = std::move(stale_keys_);
  stale_keys_.clear();
}

void Outbox::CheckpointFailed() {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t seq : last_written_) {
    auto it = entries_.find(seq);
    if (it != entries_.end()) it->second->durable = false;
  }
  undurable_.insert(undurable_.begin(), last_written_.begin(), last_written_.end());
  last_written_.clear();
  done_durable_.insert(done_durable_.end(), last_deleted_.begin(), last_deleted_.end());
  last_deleted_.clear();
  for (auto& w : workers_) w->cursor_dirty = true;
  new_dead_letters_.insert(new_dead_letters_.begin(), last_dead_written_.begin(),
                           last_dead_written_.end());
  last_dead_written_.clear();
  stale_keys_.insert(stale_keys_.end(), last_dropped_.begin(),
                                   last_dropped_.end());
  last_dropped_.clear();
}

Status Outbox::Commit(bool sync) {
  cep::StateBatch batch;
  AddToCheckpoint(&batch);
  Status s = store_->Write(batch, sync);
  if (!s.ok()) CheckpointFailed();
  return s;
}

void Outbox::StartPeriodicCommit(cep::Duration interval) {
  committer_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      commit_cv_.wait_for(lock, std::chrono::nanoseconds(interval));
      if (stopping_) break;
      lock.unlock();
      Status s = Commit(true);
      if (!s.ok()) Log("outbox commit failed: " + s.message());
      lock.lock();
    }
  });
}

void Outbox::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& w : workers_) w->cv.notify_all();
}

OutboxStats Outbox::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  OutboxStats s;
  s.appended = appended_;
  s.duplicates = duplicates_;
  s.overflow = overflow_;
  s.held = entries_.size();
  s.held_bytes = held_bytes_;
  for (const auto& w : workers_) {
    SinkStats st = w->stats;
    st.backlog = w->queue.size();
    st.backlog_bytes = w->backlog_bytes;
    s.sinks.push_back(std::move(st));
  }
  return s;
}

std::vector<DeadLetter> Outbox::DeadLetters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {dead_letters_.begin(), dead_letters_.end()};
}

}  // namespace vigil::alerting
