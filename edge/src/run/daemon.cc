#include "daemon.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "footprint.h"
#include "sd_notify.h"
#include "vigil/cep/hash.h"
#include "vigil/ingest/source_registry.h"

namespace vigil::edge {

namespace {

// "L:C: path: msg" lines from a module's checker → "file:L:C: path: msg".
std::string InFile(const std::string& file, const std::string& message) {
  std::istringstream lines(message);
  std::string line, out;
  while (std::getline(lines, line)) {
    bool positioned = !line.empty() && std::isdigit(static_cast<unsigned char>(line[0]));
    out += (out.empty() ? "" : "\n") + file + ":" + (positioned ? "" : " ") + line;
  }
  return out;
}

std::vector<cep::Duration> IdleTimes(const AppConfig& config) {
  std::vector<cep::Duration> idle;
  for (const StreamConfig& s : config.streams) idle.push_back(s.idle);
  return idle;
}

StreamSettings SettingsOf(const StreamConfig& s) {
  StreamSettings st;
  st.stream = s.name;
  st.format = s.format;
  st.timestamp = s.timestamp;
  st.syslog.timezone = s.timezone;
  st.syslog.year = static_cast<int>(s.year);
  st.extract = s.extract;
  st.max_delay = s.max_delay;
  return st;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

v1::Alert ToProto(const alerting::Alert& a) {
  v1::Alert p;
  p.set_id(a.id);
  p.set_rule_id(a.rule_id);
  p.set_severity(a.severity);
  p.set_time_unix_nano(a.time);
  p.set_detected_at_unix_nano(a.detected_at);
  p.set_key_json(a.key_json);
  p.set_summary(a.summary);
  p.set_json(a.json);
  return p;
}

}  // namespace

Daemon::Daemon(AppConfig config, DaemonOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : cep::SystemClock::Default()),
      dead_letters_(options_.log),
      queue_(options_.queue_limits),
      idle_(IdleTimes(config_)) {}

Daemon::~Daemon() {
  feed_.Close();
  if (admin_) admin_->Shutdown(std::chrono::seconds(2));
  http_.Stop();
  for (auto& s : sources_) s->Stop();
  if (outbox_) outbox_->Stop();
}

void Daemon::Log(ingest::LogLevel level, const std::string& message) const {
  if (options_.log) {
    options_.log(level, message);
  } else {
    ingest::LogToStderr(level, message);
  }
}

Result<std::unique_ptr<Daemon>> Daemon::Create(AppConfig config, DaemonOptions options) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(options)));
  if (vigil::Status st = d->Init(); !st.ok()) return st;
  return d;
}

vigil::Status Daemon::Init() {
  const std::string& file = config_.file;
  started_ = Now();
  ingest::Durability durability;
  if (!ingest::ParseDurability(config_.state.durability, &durability)) {
    return vigil::Status::InvalidArgument(file + ": state.durability: '" + config_.state.durability +
                                          "' is not sync, buffered or none");
  }
  // Sinks first: they are configuration, and the rules name them.
  alerting::SinkContext sink_ctx;
  sink_ctx.node_id = config_.node_id;
  sink_ctx.version = options_.version;
  sink_ctx.clock = clock_;
  sink_ctx.warn = [this](const std::string& m) { Log(ingest::LogLevel::kWarning, m); };
  auto alerting_config = alerting::LoadAlertingConfig(config_.sinks, config_.delivery_node, sink_ctx);
  if (!alerting_config.ok()) {
    return vigil::Status::InvalidArgument(InFile(file, alerting_config.status().message()));
  }
  router_ = std::make_unique<alerting::Router>(alerting::Router::FromConfig(*alerting_config));
  for (const auto& s : alerting_config->sinks) sinks_.emplace_back(s.name, s.common.type);
  if (sinks_.empty()) {
    Log(ingest::LogLevel::kWarning,
        "no sinks configured: alerts are only counted and shown by the admin API");
  }
  // Sources are checked before anything is opened, so a bad option is reported as such.
  for (const StreamConfig& s : config_.streams) {
    const std::string path = "streams." + s.name + ".source";
    if (vigil::Status st = ingest::CheckSource(s.source, path); !st.ok()) {
      return vigil::Status::InvalidArgument(InFile(file, st.message()));
    }
  }

  if (options_.store) {
    store_ = std::move(options_.store);
  } else {
    auto opened = cep::OpenRocksDbStore(config_.state.dir);
    if (!opened.ok()) return vigil::Status::IOError("state.dir: " + opened.status().message());
    store_ = std::move(opened).value();
  }

  fields_ = std::make_shared<cep::FieldRegistry>();
  auto loaded = LoadRules(fields_.get());
  if (!loaded.ok()) return loaded.status();
  rule_sinks_ = std::move(loaded->sinks);
  PublishRulesView(loaded->ruleset);
  PipelineOptions po;
  static_cast<StreamSettings&>(po) = SettingsOf(config_.streams[0]);
  for (size_t i = 1; i < config_.streams.size(); ++i) po.more_streams.push_back(SettingsOf(config_.streams[i]));
  po.clock = clock_;
  po.checkpoints = true;
  auto pipeline = Pipeline::Create(std::move(loaded->ruleset), fields_, po, this);
  if (!pipeline.ok()) return vigil::Status::InvalidArgument(file + ": " + pipeline.status().message());
  pipeline_ = std::move(pipeline).value();
  if (config_.state.max_memory > 0) {
    if (vigil::Status st = pipeline_->LimitMemory(config_.state.max_memory, store_.get()); !st.ok()) {
      return vigil::Status::InvalidArgument("state.max_memory: " + st.message());
    }
  }
  if (vigil::Status st = RestoreEngine(); !st.ok()) return st;

  alerting::OutboxOptions oo = alerting::OutboxOptionsFrom(alerting_config->delivery);
  oo.clock = clock_;
  oo.log = [this](const std::string& m) { Log(ingest::LogLevel::kWarning, m); };
  outbox_ = std::make_unique<alerting::Outbox>(store_.get(), alerting::TakeSinks(&*alerting_config), oo);
  if (vigil::Status st = outbox_->Recover(); !st.ok()) {
    return vigil::Status::IOError("outbox recovery from " + store_->Describe() + ": " + st.message());
  }

  for (size_t i = 0; i < config_.streams.size(); ++i) {
    const StreamConfig& s = config_.streams[i];
    ingest::SourceContext ctx;
    ctx.stream = s.name;
    ctx.store = store_.get();
    ctx.durability = durability;
    ctx.clock = clock_;
    ctx.log = options_.log;
    ctx.node_id = config_.node_id;
    ctx.dead_letters = &dead_letters_;
    auto source = ingest::CreateSource(s.source, "streams." + s.name + ".source", ctx);
    if (!source.ok()) return vigil::Status::InvalidArgument(InFile(file, source.status().message()));
    if (vigil::Status st = (*source)->Seek(*store_); !st.ok()) {
      return vigil::Status::IOError("stream " + s.name + ": positions: " + st.message());
    }
    pipeline_->SetMetadataFields(i, (*source)->MetadataFields());
    queue_.AddSource(s.name);
    sources_.push_back(std::move(source).value());
    stream_counters_.push_back(std::make_unique<StreamCounters>());
  }
  ended_.assign(sources_.size(), false);

  if (options_.serve_http && !config_.api.http_listen.empty()) {
    if (vigil::Status st = http_.Listen(config_.api.http_listen); !st.ok()) {
      // The embedded default is for trying things out: a busy port must not stop it.
      if (config_.file != DefaultConfig().file) return vigil::Status::IOError("api.http.listen: " + st.message());
      Log(ingest::LogLevel::kWarning, "api.http.listen: " + st.message() + "; /metrics is not served");
    }
  }
  RefreshSnapshot();
  return vigil::Status::Ok();
}

vigil::Status Daemon::Start() {
  outbox_->Start();
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (vigil::Status st = sources_[i]->Start(&queue_, static_cast<uint32_t>(i)); !st.ok()) {
      for (size_t j = 0; j < i; ++j) sources_[j]->Stop();
      return vigil::Status::InvalidArgument("stream " + config_.streams[i].name + ": " + st.message());
    }
  }
  if (http_.port() > 0) {
    http_.Start([this](const std::string&, const std::string& path) -> HttpResponse {
      HttpResponse r;
      if (path == "/metrics") {
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = RenderMetrics();
      } else if (path == "/healthz") {
        r.body = "ok\n";
      } else if (path == "/readyz") {
        bool ok = ready_.load();
        r.status = ok ? 200 : 503;
        r.body = ok ? "ready\n" : "not ready: recovering state or starting sources\n";
      } else {
        r.status = 404;
        r.body = "not found: " + path + " (GET /metrics, /healthz or /readyz)\n";
      }
      return r;
    });
  }
  if (options_.serve_grpc && !config_.api.grpc_listen.empty()) {
    auto admin = AdminServer::Start(this, AdminServerOptions::FromConfig(config_.api));
    if (admin.ok()) {
      admin_ = std::move(admin).value();
    } else if (config_.file == DefaultConfig().file && admin.status().code() == vigil::Status::Code::kUnavailable) {
      // As for HTTP: a busy port must not stop the embedded default.
      Log(ingest::LogLevel::kWarning, admin.status().message() + "; the admin API is not served");
    } else {
      for (auto& s : sources_) s->Stop();
      return admin.status();
    }
  }
  // Compiling the rules (Hyperscan) allocates and frees far more than it keeps: give the
  // freed pages back, which matters on a small gateway (docs/edge.md, footprint).
  malloc_trim(0);
  const uint64_t released_kb = ReleaseStartupPages();
  // Tasks posted from now on wait for Run's first round.
  pipeline_running_ = true;
  ready_ = true;
  if (options_.notify) {
    options_.notify("READY=1");
  } else {
    SdNotify("READY=1");
  }
  std::string grpc = admin_ ? ", admin API " + admin_->address() : "";
  std::string streams;
  for (const StreamConfig& s : config_.streams) streams += (streams.empty() ? "" : ", ") + s.name + " (" + s.source_type + ")";
  Log(ingest::LogLevel::kInfo, "running: node " + config_.node_id + ", streams " + streams + ", " +
                                   std::to_string(pipeline_->ruleset().rules.size()) + " rules, state " +
                                   store_->Describe() +
                                   (http_.port() > 0 ? ", http port " + std::to_string(http_.port()) : "") + grpc +
                                   ", " + std::to_string(released_kb / 1024) + " MB of startup code pages unmapped");
  return vigil::Status::Ok();
}

void Daemon::RequestStop() {
  stop_requested_ = true;
  queue_.WakeConsumer();
}

void Daemon::RequestReload() {
  reload_requested_ = true;
  queue_.WakeConsumer();
}

void Daemon::Wake() {
  queue_.WakeConsumer();
  if (outbox_) outbox_->Wake();
}

int Daemon::Run() {
  const cep::Duration interval = config_.state.checkpoint_interval;
  const cep::Duration watchdog = SdWatchdogInterval() / 2;
  cep::Timestamp next_checkpoint = Now() + interval;
  cep::Timestamp next_watchdog = watchdog > 0 ? Now() : INT64_MAX;
  cep::Timestamp next_snapshot = 0;
  std::vector<ingest::Record> batch;
  bool finished = false;  // every source ended
  while (!stop_requested_.load()) {
    RunTasks();
    if (reload_requested_.exchange(false)) Reload();
    cep::Timestamp now = Now();
    cep::Duration wait = std::min<cep::Duration>(
        {next_checkpoint - now, idle_.NextDeadline() - now, next_watchdog - now, 200 * cep::kMillisecond});
    batch.clear();
    queue_.Pop(&batch, 1024, std::max<cep::Duration>(wait, 0));
    for (ingest::Record& r : batch) Handle(r);
    EvictIfOverBudget();
    now = Now();
    CheckIdle(now);
    if (now >= next_checkpoint) {
      uint64_t bytes = 0;
      CheckpointNow(&bytes);  // a failure is logged and counted; the next one carries it
      next_checkpoint = now + interval;
    }
    if (now >= next_watchdog) {
      SdNotify("WATCHDOG=1");
      next_watchdog = now + watchdog;
    }
    if (now >= next_snapshot) {
      RefreshSnapshot();
      next_snapshot = now + 5 * cep::kSecond;
    }
    if (!sources_.empty() && ended_count_ == sources_.size()) {
      finished = true;
      break;
    }
  }
  if (options_.notify) {
    options_.notify("STOPPING=1");
  } else {
    SdNotify("STOPPING=1");
  }
  ready_ = false;
  // From here on admin calls that need the pipeline are refused at once (Status answers
  // from the last snapshot); those already queued are answered now.
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_closed_ = true;
  }
  RunTasks();
  if (finished) {
    Log(ingest::LogLevel::kInfo, "every source has ended: finishing");
    // The engine's state goes into the store as it is before the final watermark: a
    // later run on this state continues the streams (`cat more | vigil run`) instead of
    // finding its watermark at +infinity and every event late. What the final watermark
    // raises is delivered now; if a later run raises it again it carries the same id.
    uint64_t bytes = 0;
    CheckpointNow(&bytes);
    engine_finished_ = true;
    pipeline_->Finish();
    for (auto& s : sources_) s->Stop();
  } else {
    Log(ingest::LogLevel::kInfo, "stopping: intake stopped, draining the queue");
    for (auto& s : sources_) s->Stop();
    while (true) {
      batch.clear();
      if (queue_.Pop(&batch, 4096, 0) == 0) break;
      for (ingest::Record& r : batch) Handle(r);
    }
  }
  uint64_t bytes = 0;
  vigil::Status st = CheckpointNow(&bytes);
  FlushSinks(config_.shutdown_timeout);
  // The sinks' progress during the flush.
  vigil::Status last = CheckpointNow(&bytes);
  pipeline_running_ = false;
  RefreshSnapshot();
  const PipelineStats& ps = pipeline_->stats();
  alerting::OutboxStats os = outbox_->Stats();
  Log(ingest::LogLevel::kInfo,
      "stopped: " + std::to_string(ps.events) + " events, " + std::to_string(ps.alerts) + " alerts, " +
          std::to_string(ps.late) + " late, " + std::to_string(dead_letters_.count()) + " dead-lettered; " +
          std::to_string(os.held) + " alerts held in the outbox; checkpoint " + std::to_string(checkpoints_.load()));
  feed_.Close();  // open Alerts.Tail streams end
  if (admin_) admin_->Shutdown(std::chrono::seconds(2));
  http_.Stop();
  return st.ok() || last.ok() ? 0 : 1;
}

void Daemon::Handle(ingest::Record& r) {
  const uint32_t i = r.source;
  ingest::Source& source = *sources_[i];
  const StreamConfig& stream = config_.streams[i];
  switch (r.kind) {
    case ingest::RecordKind::kData: {
      StreamCounters& c = *stream_counters_[i];
      c.records.fetch_add(1, std::memory_order_relaxed);
      idle_.Seen(i, r.partition, Now());
      std::string error;
      uint64_t identity = ingest::RecordIdentity(stream.name, r);
      switch (pipeline_->ProcessRecord(i, r, identity, &error)) {
        case RecordOutcome::kProcessed: c.events.fetch_add(1, std::memory_order_relaxed); break;
        case RecordOutcome::kSkipped: break;
        case RecordOutcome::kMalformed:
          c.malformed.fetch_add(1, std::memory_order_relaxed);
          dead_letters_.Add(stream.name, source.DescribePosition(r), error, r.data);
          break;
        case RecordOutcome::kNoTime:
          c.no_time.fetch_add(1, std::memory_order_relaxed);
          dead_letters_.Add(stream.name, source.DescribePosition(r), error, r.data);
          break;
        case RecordOutcome::kLate:
          c.events.fetch_add(1, std::memory_order_relaxed);
          c.late.fetch_add(1, std::memory_order_relaxed);
          if (stream.late.rfind("sink:", 0) == 0) RouteLate(i, r, identity);
          break;
      }
      source.Processed(r);
      break;
    }
    case ingest::RecordKind::kEnd:
      source.Processed(r);
      if (!ended_[i]) {
        ended_[i] = true;
        ++ended_count_;
        Log(ingest::LogLevel::kInfo, "stream " + stream.name + ": its source has ended");
      }
      break;
    case ingest::RecordKind::kPartitionRevoked:
      pipeline_->RemovePartition(i, r.partition);
      idle_.Remove(i, r.partition);
      source.Processed(r);
      break;
    case ingest::RecordKind::kCheckpointRequest: {
      source.Processed(r);
      uint64_t bytes = 0;
      CheckpointNow(&bytes);
      break;
    }
  }
}

// `late: sink:<name>`: the late event goes to that sink, wrapped as an alert of the
// pseudo-rule `vigil.late-event` (sinks take alerts), its id derived from the record.
void Daemon::RouteLate(uint32_t stream_index, const ingest::Record& r, uint64_t identity) {
  const StreamConfig& stream = config_.streams[stream_index];
  const std::string sink = stream.late.substr(5);
  size_t index = 0;
  while (index < sinks_.size() && sinks_[index].first != sink) ++index;
  if (index == sinks_.size()) return;  // the config loader checked the name
  alerting::Alert a;
  char id[33];
  std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(identity),
                static_cast<unsigned long long>(cep::Hash64(stream.name, identity)));
  a.id = id;
  a.rule_id = "vigil.late-event";
  a.severity = "info";
  a.time = Now();
  a.detected_at = a.time;
  a.key_json = "{}";
  a.summary = "late event on stream " + stream.name + " (older than the watermark)";
  std::string& j = a.json;
  j = "{\"id\":\"" + a.id + "\",\"rule\":{\"id\":\"vigil.late-event\",\"title\":\"Late event\","
      "\"severity\":\"info\",\"tags\":[]},\"key\":{},\"time\":\"" + cep::FormatRfc3339Millis(a.time) +
      "\",\"detected_at\":\"" + cep::FormatRfc3339Millis(a.time) + "\",\"summary\":";
  AppendJsonString(&j, a.summary);
  j += ",\"matches\":[{\"step\":\"late\",\"event\":";
  if (alerting::IsValidJson(r.data) && !r.data.empty() && r.data.front() == '{') {
    j += r.data;
  } else {
    j += "{\"message\":";
    AppendJsonString(&j, r.data);
    j += "}";
  }
  j += "}]}";
  outbox_->Append(std::move(a), alerting::SinkSet{1} << index);
}

void Daemon::CheckIdle(cep::Timestamp now) {
  for (const auto& [stream, partition] : idle_.TakeNewlyIdle(now)) {
    pipeline_->SetPartitionIdle(stream, partition, true);
  }
}

vigil::Status Daemon::CheckpointNow(uint64_t* bytes, bool sync) {
  cep::StateBatch batch;
  AddEngineToCheckpoint(&batch);
  outbox_->AddToCheckpoint(&batch);
  for (auto& s : sources_) s->AddPositions(&batch);
  uint64_t number = checkpoints_.load() + 1;
  batch.Put(cep::StateFamily::kMeta, "edge.checkpoint", std::to_string(number));
  *bytes = batch.bytes();
  vigil::Status st = store_->Write(batch, sync);
  if (!st.ok()) {
    EngineCheckpointFailed();
    outbox_->CheckpointFailed();
    checkpoint_failures_.fetch_add(1);
    Log(ingest::LogLevel::kError, "checkpoint " + std::to_string(number) + " to " + store_->Describe() +
                                      " failed (the next one carries its changes): " + st.message());
    return st;
  }
  for (auto& s : sources_) s->OnCheckpointed();
  checkpoints_.store(number);
  checkpoint_bytes_.fetch_add(*bytes);
  last_checkpoint_.store(Now());
  return st;
}

void Daemon::FlushSinks(cep::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout);
  while (outbox_->Stats().held > 0 && std::chrono::steady_clock::now() < deadline) {
    // The outbox has no completion signal; a short poll bounds the added shutdown time.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  uint64_t held = outbox_->Stats().held;
  outbox_->Stop();
  if (held > 0) {
    Log(ingest::LogLevel::kWarning,
        std::to_string(held) + " alerts not delivered within shutdown.timeout (" +
            cep::FormatDuration(timeout) + ") stay in the outbox for the next start");
  }
}

void Daemon::RunTasks() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t();
}

vigil::Status Daemon::OnPipeline(const std::function<void()>& fn, int timeout_ms) {
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    if (tasks_closed_ || !pipeline_running_.load()) {
      return vigil::Status::Unavailable("the pipeline is not running (starting or stopping)");
    }
    // `fn` is captured by reference: the caller waits for it, or gives up and the task
    // is then skipped (done->done set by the caller under its lock).
    tasks_.push_back([done, &fn] {
      std::lock_guard<std::mutex> l(done->mu);
      if (done->done) return;  // the caller gave up
      fn();
      done->done = true;
      done->cv.notify_all();
    });
  }
  queue_.WakeConsumer();
  std::unique_lock<std::mutex> lock(done->mu);
  if (!done->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done->done; })) {
    done->done = true;  // skipped if it has not started
    return vigil::Status::Unavailable("the pipeline did not answer within " + std::to_string(timeout_ms) + " ms");
  }
  return vigil::Status::Ok();
}

void Daemon::RefreshSnapshot(bool if_stale) {
  // The engine's state figures (keys, partial matches, bytes) walk every key of every
  // rule: on request (scrapes, Status) they are taken again at most once a second, and
  // every 5 s by the loop; the counters are always fresh.
  auto real_now = std::chrono::steady_clock::now();
  bool take_state = !if_stale || real_now - last_refresh_ >= std::chrono::seconds(1);
  if (take_state) last_refresh_ = real_now;
  std::map<std::string, cep::RuleStateStats> old_state;
  if (!take_state) {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    for (const RuleSnapshot& r : snapshot_.rules) old_state[r.id] = r.state;
  }
  Snapshot s;
  s.taken = Now();
  const cep::Engine& engine = pipeline_->engine();
  s.watermark = engine.watermark();
  for (size_t i = 0; i < pipeline_->stream_count(); ++i) s.stream_max_time.push_back(pipeline_->max_event_time(i));
  s.memory = engine.memory_stats();
  std::map<std::string, const rules::Rule*> by_id;
  for (const rules::Rule& r : pipeline_->ruleset().rules) by_id[r.id] = &r;
  for (uint32_t i = 0; i < engine.rule_count(); ++i) {
    RuleSnapshot rs;
    rs.id = engine.rule(i).id;
    auto it = by_id.find(rs.id);
    rs.severity = it != by_id.end() ? rules::SeverityName(it->second->severity) : "";
    rs.stats = engine.rule_stats(i);
    rs.state = take_state ? engine.rule_state(i) : old_state[rs.id];
    s.rules.push_back(std::move(rs));
  }
  for (const rules::Rule& r : pipeline_->ruleset().rules) {
    if (r.enabled) continue;
    RuleSnapshot rs;
    rs.id = r.id;
    rs.severity = rules::SeverityName(r.severity);
    rs.enabled = false;
    s.rules.push_back(std::move(rs));
  }
  s.alerts_by_rule = alerts_by_rule_;
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(s);
}

void Daemon::OnAlert(const alerting::Alert& alert) {
  ++alerts_by_rule_[alert.rule_id];
  feed_.Add(ToProto(alert));
  auto it = rule_sinks_.find(alert.rule_id);
  alerting::SinkSet sinks = it != rule_sinks_.end() ? it->second : 0;
  sinks = router_->Route(sinks, alert.severity);
  if (sinks != 0) outbox_->Append(alert, sinks);
}

}  // namespace vigil::edge
