// The kafka source: one consumer (librdkafka) in a consumer group with cooperative-sticky
// assignment, one partition index per Kafka partition, offsets committed only after a
// checkpoint covers them.
//
// Threads. One consumer thread polls librdkafka and serves its callbacks (rebalance,
// errors, commit results). The engine thread calls Processed / AddPositions /
// OnCheckpointed. They share the per-partition positions under mu_.
//
// Assignment. A newly assigned partition resumes at the larger of the checkpointed
// position (Seek) and the group's committed offset: equal after a clean stop, the stored
// one ahead after a crash between checkpoint and commit, the committed one ahead when
// another instance owned the partition meanwhile. With neither, auto_offset_reset applies.
//
// Revocation. Before giving partitions away the consumer thread queues a
// kCheckpointRequest and waits (up to revoke_timeout) until a checkpoint taken after the
// engine processed it is durable; then it commits those offsets synchronously and lets the
// partitions go, so the next owner starts exactly after what this instance's state holds.
// That commit can fail when the coordinator has already begun the next generation (seen
// with librdkafka 2.0.2 against the mock cluster under load); the next owner then resumes
// from the commit after the last periodic checkpoint, so it re-reads at most one
// checkpoint interval (at-least-once, alerts keep their ids).
//
// Back-pressure. When the queue is full the consumer pauses every assigned partition
// (librdkafka stops fetching) and keeps polling, so rebalances and the group session are
// still served; it resumes once the record it holds is queued.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kafka/kafka_settings.h"
#include "sources/source_types.h"
#include "vigil/ingest/dead_letter.h"
#include "vigil/ingest/record_queue.h"

namespace vigil::ingest {

namespace {

constexpr int kPollMs = 100;
constexpr size_t kBatch = 1024;

class KafkaSource final : public Source {
 public:
  KafkaSource(const KafkaSettings& s, const SourceContext& ctx)
      : Source("kafka", ctx.stream), s_(s), ctx_(ctx) {}
  ~KafkaSource() override { Stop(); }

  Status Seek(const cep::StateStore& store) override {
    std::string prefix = stream() + "/";
    std::string end = stream() + static_cast<char>('/' + 1);
    Status bad;
    Status st = store.Scan(
        cep::StateFamily::kPositions, prefix, end,
        [&](std::string_view key, std::string_view value) {
          std::string_view part = key.substr(prefix.size());
          uint64_t p = 0, offset = 0;
          for (char c : part)
            p = p * 10 + static_cast<uint64_t>(c - '0');
          if (part.empty() || part.find_first_not_of("0123456789") != std::string_view::npos ||
              !DecodePositionField(value, "offset", &offset)) {
            bad = Status::Corruption("streams." + stream() + ": stored position '" +
                                     std::string(key) + "' = '" + std::string(value) +
                                     "' is not a Kafka offset");
            return false;
          }
          stored_[static_cast<int32_t>(p)] = static_cast<int64_t>(offset);
          return true;
        });
    return st.ok() ? bad : st;
  }

  Status Start(RecordQueue* queue, uint32_t index) override {
    queue_ = queue;
    index_ = index;
    auto conf = BuildKafkaConf(s_, "streams." + stream() + ".source", ctx_.node_id);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_t* c = *conf;
    rd_kafka_conf_set_opaque(c, this);
    rd_kafka_conf_set_rebalance_cb(c, &KafkaSource::OnRebalance);
    rd_kafka_conf_set_error_cb(c, &KafkaSource::OnError);
    rd_kafka_conf_set_log_cb(c, &KafkaSource::OnLog);
    rd_kafka_conf_set_offset_commit_cb(c, &KafkaSource::OnCommitted);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (rk_ == nullptr) {
      return Status::InvalidArgument("streams." + stream() +
                                     " (kafka): cannot create the consumer: " + err);
    }
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, s_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy(rk_);
      rk_ = nullptr;
      return Status::InvalidArgument("streams." + stream() + " (kafka): cannot subscribe to '" +
                                     s_.topic + "': " + rd_kafka_err2str(e));
    }
    SetState(SourceState::kStarting, "joining group '" + s_.group + "' at " + s_.brokers);
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() override {
    if (stop_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      barrier_cv_.notify_all();
    }
    if (queue_) queue_->WakeProducers();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    state_ = SourceState::kStopped;
  }

  // Engine thread, once per record: no lock. Queue order makes it consistent with the
  // consumer thread: a partition's kPartitionRevoked comes after its last record.
  void Processed(const Record& r) override {
    switch (r.kind) {
      case RecordKind::kData:
        if (r.partition >= engine_processed_.size()) engine_processed_.resize(r.partition + 1, -1);
        engine_processed_[r.partition] = static_cast<int64_t>(r.end);
        break;
      case RecordKind::kPartitionRevoked:
        if (r.partition < engine_processed_.size()) engine_processed_[r.partition] = -1;
        break;
      case RecordKind::kCheckpointRequest:
        engine_barrier_ = std::max(engine_barrier_, r.position);
        break;
      case RecordKind::kEnd:
        break;
    }
  }

  void AddPositions(cep::StateBatch* batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint_.clear();
    for (int32_t p : assigned_) {
      // Where the partition was resumed, or after the last record processed since; the
      // larger, in case a stale position of an earlier ownership is still on record.
      int64_t pos = -1;
      auto start = start_.find(p);
      if (start != start_.end()) pos = start->second;
      if (static_cast<size_t>(p) < engine_processed_.size())
        pos = std::max(pos, engine_processed_[static_cast<size_t>(p)]);
      if (pos >= 0) checkpoint_[p] = pos;
    }
    checkpoint_barrier_ = engine_barrier_;
    for (const auto& [p, offset] : checkpoint_) {
      batch->Put(cep::StateFamily::kPositions, PositionKey(stream(), static_cast<uint32_t>(p)),
                 EncodePosition({{"offset", static_cast<uint64_t>(offset)}}));
    }
    // Partitions given away: their position is the group's committed offset now.
    for (int32_t p : released_)
      batch->Delete(cep::StateFamily::kPositions, PositionKey(stream(), static_cast<uint32_t>(p)));
    released_.clear();
  }

  void OnCheckpointed() override {
    std::lock_guard<std::mutex> lock(mu_);
    durable_ = checkpoint_;
    durable_barrier_ = checkpoint_barrier_;
    barrier_cv_.notify_all();
    // Under mu_: the consumer thread destroys rk_ only after setting closed_ under mu_.
    // An asynchronous commit only enqueues; its result comes to OnCommitted.
    if (!s_.commit || closed_ || rk_ == nullptr) return;
    rd_kafka_topic_partition_list_t* list = OffsetsLocked(durable_, nullptr);
    if (list->cnt > 0) rd_kafka_commit(rk_, list, 1);
    rd_kafka_topic_partition_list_destroy(list);
  }

  SourceStatus status() const override {
    SourceStatus st;
    std::lock_guard<std::mutex> lock(mu_);
    st.state = state_;
    st.message = message_;
    st.records = records_;
    st.bytes = bytes_;
    st.dead_letters = dead_letters_;
    st.reconnects = reconnects_;
    st.backpressure_waits = waits_;
    st.wakeups = wakeups_.load(std::memory_order_relaxed);
    std::set<int32_t> parts(assigned_.begin(), assigned_.end());
    for (const auto& [p, o] : next_)
      parts.insert(p);
    for (int32_t p : parts) {
      PartitionStatus ps;
      ps.partition = static_cast<uint32_t>(p);
      auto n = next_.find(p);
      ps.next = n == next_.end() ? 0 : static_cast<uint64_t>(n->second);
      auto d = checkpoint_.find(p);
      ps.processed = d == checkpoint_.end() ? 0 : static_cast<uint64_t>(d->second);
      ps.assigned = assigned_.count(p) > 0;
      st.partitions.push_back(ps);
    }
    return st;
  }

  std::string DescribePosition(const Record& r) const override {
    return "partition " + std::to_string(r.partition) + " offset " + std::to_string(r.position) +
           " of '" + s_.topic + "'";
  }

 private:
  std::string Prefix() const { return "streams." + stream() + " (kafka): "; }

  void Log(LogLevel level, const std::string& msg) const {
    if (ctx_.log)
      ctx_.log(level, Prefix() + msg);
    else
      LogToStderr(level, Prefix() + msg);
  }

  // REQUIRES: mu_ not held.
  void SetState(SourceState st, std::string msg) {
    bool changed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (st == SourceState::kRunning &&
          (state_ == SourceState::kReconnecting || state_ == SourceState::kError) &&
          ever_running_) {
        ++reconnects_;
      }
      if (st == SourceState::kRunning) ever_running_ = true;
      changed = st != state_ || msg != message_;
      state_ = st;
      message_ = msg;
      running_.store(st == SourceState::kRunning, std::memory_order_relaxed);
    }
    if (!changed) return;
    LogLevel level = st == SourceState::kError          ? LogLevel::kError
                     : st == SourceState::kReconnecting ? LogLevel::kWarning
                                                        : LogLevel::kInfo;
    Log(level, std::string(SourceStateName(st)) + ": " + msg);
  }

  SourceState state() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }

  // The offsets of `positions` for partitions still assigned (and, if `only`, in it).
  // REQUIRES: mu_ held.
  rd_kafka_topic_partition_list_t* OffsetsLocked(const std::map<int32_t, int64_t>& positions,
                                                 const std::set<int32_t>* only) const {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
    for (const auto& [p, offset] : positions) {
      if (!assigned_.count(p) || (only && !only->count(p))) continue;
      rd_kafka_topic_partition_list_add(list, s_.topic.c_str(), p)->offset = offset;
    }
    return list;
  }

  static KafkaSource* Self(rd_kafka_t* rk) {
    return static_cast<KafkaSource*>(rd_kafka_opaque(rk));
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void*) {
    KafkaSource* self = Self(rk);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->Assign(parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      self->Revoke(parts, rd_kafka_assignment_lost(rk) != 0);
    } else {
      self->Log(LogLevel::kError, std::string("rebalance failed: ") + rd_kafka_err2str(err));
      rd_kafka_assign(rk, nullptr);
    }
  }

  void Assign(rd_kafka_topic_partition_list_t* parts) {
    // Where the group left each partition, to compare with what this instance stored.
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk_, committed, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Log(LogLevel::kWarning, std::string("cannot read committed offsets: ") + rd_kafka_err2str(e) +
                                  "; resuming from stored positions or auto_offset_reset");
    }
    std::string which;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < parts->cnt; ++i) {
        rd_kafka_topic_partition_t& tp = parts->elems[i];
        int64_t start = RD_KAFKA_OFFSET_INVALID;
        auto stored = stored_.find(tp.partition);
        if (stored != stored_.end()) start = stored->second;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].offset >= 0) {
          start = std::max(start, committed->elems[i].offset);
        }
        tp.offset = start;  // invalid: librdkafka applies auto.offset.reset
        assigned_.insert(tp.partition);
        released_.erase(tp.partition);
        if (start >= 0) {
          start_[tp.partition] = start;
          next_[tp.partition] = start;
        } else {
          start_.erase(tp.partition);
        }
        which += (which.empty() ? "" : ",") + std::to_string(tp.partition);
      }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_error_t* error = rd_kafka_incremental_assign(rk_, parts);
    if (error) {
      Log(LogLevel::kError, std::string("cannot take partitions: ") + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
      return;
    }
    if (paused_) rd_kafka_pause_partitions(rk_, parts);
    Log(LogLevel::kInfo, "assigned partitions " + which + " of '" + s_.topic + "'");
    SetState(SourceState::kRunning, RunningMessage());
  }

  void Revoke(rd_kafka_topic_partition_list_t* parts, bool lost) {
    std::set<int32_t> revoked;
    for (int i = 0; i < parts->cnt; ++i)
      revoked.insert(parts->elems[i].partition);
    // Records not yet queued are not processed; the next owner reads them again.
    {
      std::vector<Record> keep;
      std::vector<size_t> keep_bytes;
      for (size_t i = pending_from_; i < pending_.size(); ++i) {
        if (revoked.count(static_cast<int32_t>(pending_[i].partition))) continue;
        keep.push_back(std::move(pending_[i]));
        keep_bytes.push_back(pending_bytes_[i]);
      }
      pending_.swap(keep);
      pending_bytes_.swap(keep_bytes);
      pending_from_ = 0;
    }
    if (!lost && !stop_) {
      // Ask the runtime for a checkpoint after every record of these partitions queued so far.
      uint64_t barrier;
      {
        std::lock_guard<std::mutex> lock(mu_);
        barrier = ++barrier_next_;
      }
      Record req = ControlRecord(RecordKind::kCheckpointRequest);
      req.position = barrier;
      queue_->PushControl(index_, std::move(req));
      std::unique_lock<std::mutex> lock(mu_);
      bool covered = barrier_cv_.wait_for(lock, std::chrono::nanoseconds(s_.revoke_timeout),
                                          [&] { return durable_barrier_ >= barrier || stop_; });
      if (!covered) {
        lock.unlock();
        Log(LogLevel::kWarning,
            "no checkpoint within revoke_timeout before giving partitions away; "
            "committing the last checkpointed offsets (the next owner re-reads the rest)");
        lock.lock();
      }
    }
    if (!lost && s_.commit) {
      rd_kafka_topic_partition_list_t* list;
      {
        std::lock_guard<std::mutex> lock(mu_);
        list = OffsetsLocked(durable_, &revoked);
      }
      if (list->cnt > 0) {
        // Synchronous: before the partitions go. It can fail when the coordinator has
        // already begun the next generation (REBALANCE_IN_PROGRESS, then ILLEGAL_GENERATION:
        // retrying inside this callback never helps, the group waits for this member); the
        // next owner then resumes from the last periodic commit and re-reads since
        // (at-least-once; alert ids are deterministic, so downstream dedupes).
        rd_kafka_resp_err_t e = rd_kafka_commit(rk_, list, 0);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
          Log(LogLevel::kWarning, std::string("commit before revocation failed: ") +
                                      rd_kafka_err2str(e) +
                                      " (the next owner resumes from the last committed offsets)");
        }
      }
      rd_kafka_topic_partition_list_destroy(list);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int32_t p : revoked) {
        assigned_.erase(p);
        start_.erase(p);
        checkpoint_.erase(p);
        durable_.erase(p);
        released_.insert(p);
      }
    }
    rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_, parts);
    if (error) {
      Log(LogLevel::kError,
          std::string("cannot release partitions: ") + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    for (int32_t p : revoked)
      queue_->PushControl(index_,
                          ControlRecord(RecordKind::kPartitionRevoked, static_cast<uint32_t>(p)));
    std::string which;
    for (int32_t p : revoked)
      which += (which.empty() ? "" : ",") + std::to_string(p);
    Log(LogLevel::kInfo, std::string(lost ? "lost" : "released") + " partitions " + which +
                             " of '" + s_.topic + "'");
  }

  std::string RunningMessage() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string parts;
    for (int32_t p : assigned_)
      parts += (parts.empty() ? "" : ",") + std::to_string(p);
    return "consuming '" + s_.topic + "' from " + s_.brokers + " in group '" + s_.group +
           "', partitions [" + parts + "]";
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void*) {
    KafkaSource* self = Self(rk);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    std::string why = reason ? reason : rd_kafka_err2str(code);
    switch (code) {
      case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        self->SetState(SourceState::kError, "authentication failed: " + why);
        break;
      case RD_KAFKA_RESP_ERR__SSL:
        self->SetState(SourceState::kError, "TLS failed: " + why);
        break;
      case RD_KAFKA_RESP_ERR__FATAL: {
        char buf[512];
        rd_kafka_fatal_error(rk, buf, sizeof buf);
        self->SetState(SourceState::kError, std::string("fatal: ") + buf);
        break;
      }
      case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
      case RD_KAFKA_RESP_ERR__TRANSPORT:
      case RD_KAFKA_RESP_ERR__RESOLVE:
        // An authentication failure also closes connections: keep saying what is wrong.
        if (self->state() != SourceState::kError) {
          self->SetState(SourceState::kReconnecting,
                         "cannot reach the brokers (" + why + "); retrying with backoff");
        }
        break;
      default:
        self->Log(LogLevel::kWarning, why);
    }
  }

  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    // Connection failures come to OnError as state changes; the rest of what librdkafka
    // thinks worth saying at warning level or above is passed on.
    if (level > 4 || std::string_view(fac) == "FAIL") return;
    const KafkaSource* self = static_cast<const KafkaSource*>(rd_kafka_opaque(rk));
    self->Log(level <= 3 ? LogLevel::kError : LogLevel::kWarning,
              std::string("librdkafka: ") + buf);
  }

  static void OnCommitted(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*,
                          void*) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    Self(rk)->Log(LogLevel::kWarning,
                  std::string("offset commit failed: ") + rd_kafka_err2str(err) +
                      " (the checkpointed position is kept; the next commit retries)");
  }

  void PauseAll(bool pause) {
    rd_kafka_topic_partition_list_t* list;
    {
      std::lock_guard<std::mutex> lock(mu_);
      list = rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size()));
      for (int32_t p : assigned_)
        rd_kafka_topic_partition_list_add(list, s_.topic.c_str(), p);
      if (pause) ++waits_;
    }
    if (pause)
      rd_kafka_pause_partitions(rk_, list);
    else
      rd_kafka_resume_partitions(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    paused_ = pause;
  }

  // Queues pending_ records, waiting up to `wait` for room; returns false if some are left.
  bool Drain(cep::Duration wait) {
    if (pending_from_ >= pending_.size()) return true;
    size_t from = pending_from_;
    size_t to = queue_->PushSome(index_, pending_, from, &stop_, wait);
    if (to > from) {
      uint64_t bytes = 0;
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = from; i < to; ++i) {
        bytes += pending_bytes_[i];
        next_[static_cast<int32_t>(pending_[i].partition)] = static_cast<int64_t>(pending_[i].end);
      }
      records_ += to - from;
      bytes_ += bytes;
    }
    pending_from_ = to;
    if (pending_from_ < pending_.size()) return false;
    pending_.clear();
    pending_bytes_.clear();
    pending_from_ = 0;
    return true;
  }

  bool HasPending() const { return pending_from_ < pending_.size(); }

  void OnMessage(rd_kafka_message_t* m) {
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      std::string why = rd_kafka_message_errstr(m);
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        SetState(SourceState::kError, "topic '" + s_.topic + "' is not available: " + why);
      } else if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                 m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        SetState(SourceState::kError, "not authorized: " + why);
      } else {
        Log(LogLevel::kWarning, "consumer error: " + why);
      }
      return;
    }
    if (!running_.load(std::memory_order_relaxed))
      SetState(SourceState::kRunning, RunningMessage());
    Record r;
    r.partition = static_cast<uint32_t>(m->partition);
    r.position = static_cast<uint64_t>(m->offset);
    r.end = r.position + 1;
    if (m->payload == nullptr) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++dead_letters_;
        next_[m->partition] = static_cast<int64_t>(r.end);
      }
      if (ctx_.dead_letters)
        ctx_.dead_letters->Add(stream(), DescribePosition(r), "message without a value", {});
      else
        Log(LogLevel::kWarning,
            "dead letter at " + DescribePosition(r) + ": message without a value");
      return;
    }
    r.data.assign(static_cast<const char*>(m->payload), m->len);
    pending_bytes_.push_back(m->len);
    pending_.push_back(std::move(r));
  }

  void Run() {
    cep::Timestamp last_probe = 0;
    const cep::Clock* clock = ctx_.clock ? ctx_.clock : cep::SystemClock::Default();
    // Messages come in batches from the consumer queue; the same call serves the
    // rebalance, error and commit callbacks.
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk_);
    std::vector<rd_kafka_message_t*> msgs(kBatch);
    auto consume = [&](int timeout_ms) {
      ssize_t n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs.data(), msgs.size());
      for (ssize_t i = 0; i < n; ++i) {
        OnMessage(msgs[static_cast<size_t>(i)]);
        rd_kafka_message_destroy(msgs[static_cast<size_t>(i)]);
      }
    };
    while (!stop_) {
      wakeups_.fetch_add(1, std::memory_order_relaxed);
      // A full queue: wait a poll interval for room, then pause fetching (pausing at once
      // would throw the prefetched data away at every short stall).
      if (HasPending() && !Drain(kPollMs * cep::kMillisecond)) {
        if (stop_) break;
        if (!paused_) PauseAll(true);
        consume(0);  // keep serving rebalances and the session while paused
        continue;
      }
      if (paused_) PauseAll(false);
      consume(kPollMs);
      if (HasPending()) Drain(0);
      SourceState st = state();
      if (st == SourceState::kReconnecting && clock->Now() - last_probe >= cep::kSecond) {
        // Nothing tells that the brokers are back until data flows; ask for metadata.
        last_probe = clock->Now();
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(rk_, 0, nullptr, &md, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_metadata_destroy(md);
          SetState(SourceState::kRunning, RunningMessage());
        }
      }
    }
    rd_kafka_queue_destroy(q);
    // Leaving the group: the revocation callback commits the last checkpointed offsets
    // (it does not wait for a checkpoint: the engine may be stopping too).
    rd_kafka_consumer_close(rk_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    rd_kafka_destroy(rk_);
  }

  const KafkaSettings s_;
  const SourceContext ctx_;
  RecordQueue* queue_ = nullptr;
  uint32_t index_ = 0;
  rd_kafka_t* rk_ = nullptr;
  std::map<int32_t, int64_t> stored_;  // from Seek

  // Consumer thread only.
  std::vector<Record> pending_;        // consumed, not yet queued: [pending_from_, size)
  std::vector<size_t> pending_bytes_;  // their value sizes
  size_t pending_from_ = 0;
  bool paused_ = false;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> wakeups_{0};

  std::atomic<bool> stop_{false};
  std::thread thread_;

  // Engine thread only.
  std::vector<int64_t>
      engine_processed_;         // per partition, after the last record processed (-1: none)
  uint64_t engine_barrier_ = 0;  // the last checkpoint request processed

  mutable std::mutex mu_;
  std::condition_variable barrier_cv_;
  std::set<int32_t> assigned_;
  std::set<int32_t> released_;             // revoked since the last AddPositions
  std::map<int32_t, int64_t> next_;        // after the last record queued
  std::map<int32_t, int64_t> start_;       // where an assigned partition was resumed
  std::map<int32_t, int64_t> checkpoint_;  // positions at the last AddPositions
  std::map<int32_t, int64_t> durable_;     // checkpoint_ once OnCheckpointed
  uint64_t barrier_next_ = 0, checkpoint_barrier_ = 0, durable_barrier_ = 0;
  bool closed_ = false;
  bool ever_running_ = false;
  SourceState state_ = SourceState::kStarting;
  std::string message_;
  uint64_t records_ = 0, bytes_ = 0, dead_letters_ = 0, reconnects_ = 0, waits_ = 0;
};

}  // namespace

SourceType KafkaSourceType() {
  return MakeSourceType<KafkaSettings>(
      "kafka",
      "A Kafka topic, consumed in a consumer group (`partition.assignment.strategy: "
      "cooperative-sticky`, no auto-commit). Each Kafka partition is one source partition "
      "with its own watermark. A checkpoint stores each partition's next offset; after it is "
      "durable the offsets are committed to the group. A partition resumes at the larger of "
      "the checkpointed and the committed offset (else `auto_offset_reset`). Before "
      "partitions are given to another instance a checkpoint is taken, so the next owner "
      "starts where this one's state ends. Brokers that are down are retried with "
      "librdkafka's backoff; authentication and TLS failures are reported with the stream's "
      "name. A full queue pauses fetching (never unbounded memory). `security.protocol`, "
      "`sasl.*` and `ssl.*` are passed to librdkafka as written.",
      &KafkaOptions,
      [](const KafkaSettings& s, const std::string&,
         const SourceContext& ctx) -> Result<std::unique_ptr<Source>> {
        return std::unique_ptr<Source>(new KafkaSource(s, ctx));
      });
}

}  // namespace vigil::ingest
