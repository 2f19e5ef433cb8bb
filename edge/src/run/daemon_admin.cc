// The daemon as the admin API and /metrics see it: status, checkpoints on request, health,
// alerts, pushes into `grpc` streams, and the Prometheus exposition.
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "daemon.h"
#include "vigil/ingest/push_source.h"

namespace vigil::edge {

namespace {

uint64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// A label value with Prometheus' escapes (backslash, double quote, newline).
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  // Starts a metric family.
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  void Sample(const std::vector<std::pair<std::string, std::string>>& labels, double value,
              const std::string& suffix = "") {
    out_ += name_ + suffix;
    if (!labels.empty()) {
      out_ += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ += (i ? "," : "") + labels[i].first + "=\"" + Label(labels[i].second) + "\"";
      }
      out_ += "}";
    }
    char buf[64];
    if (std::isnan(value)) {
      std::snprintf(buf, sizeof buf, " NaN\n");
    } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
      std::snprintf(buf, sizeof buf, " %.0f\n", value);
    } else {
      std::snprintf(buf, sizeof buf, " %.9g\n", value);
    }
    out_ += buf;
  }
  void Sample(double value) { Sample({}, value); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

}  // namespace

v1::StatusResponse Daemon::Status() {
  // Fresh figures when the pipeline answers quickly; the last snapshot otherwise.
  OnPipeline([this] { RefreshSnapshot(true); }, 2000);
  Snapshot snap;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snap = snapshot_;
  }
  v1::StatusResponse out;
  out.set_node_id(config_.node_id);
  out.set_version(options_.version);
  out.set_started_unix_nano(started_);
  const cep::Timestamp now = Now();
  for (size_t i = 0; i < config_.streams.size(); ++i) {
    const StreamConfig& s = config_.streams[i];
    const StreamCounters& c = *stream_counters_[i];
    v1::StreamStatus* p = out.add_streams();
    p->set_name(s.name);
    p->set_source_type(s.source_type);
    cep::Timestamp max_time = i < snap.stream_max_time.size() ? snap.stream_max_time[i] : INT64_MIN;
    cep::Timestamp wm = max_time == INT64_MIN ? INT64_MIN : max_time - s.max_delay;
    p->set_watermark_unix_nano(wm);
    p->set_lag_nanos(wm == INT64_MIN ? 0 : now - wm);
    p->set_events(c.events.load());
    p->set_late(c.late.load());
    p->set_dead_lettered(dead_letters_.count(s.name));
    ingest::SourceStatus st = sources_[i]->status();
    std::string state = ingest::SourceStateName(st.state);
    if (!st.message.empty()) state += ": " + st.message;
    p->set_state(state);
  }
  for (const RuleSnapshot& r : snap.rules) {
    v1::RuleStatus* p = out.add_rules();
    p->set_id(r.id);
    p->set_enabled(r.enabled);
    p->set_keys(r.state.keys);
    p->set_partial_matches(r.state.partial_matches);
    p->set_state_bytes(r.state.bytes);
    p->set_alerts(r.stats.matches);
    p->set_suppressed(r.stats.suppressed);
    p->set_partial_matches_dropped(r.stats.partial_matches_dropped);
  }
  alerting::OutboxStats os = outbox_->Stats();
  for (size_t i = 0; i < os.sinks.size(); ++i) {
    const alerting::SinkStats& s = os.sinks[i];
    v1::SinkStatus* p = out.add_sinks();
    p->set_name(s.name);
    p->set_type(i < sinks_.size() ? sinks_[i].second : "");
    p->set_outbox_depth(s.backlog);
    p->set_delivered(s.delivered);
    p->set_failures(s.failures);
    uint64_t done = s.delivered + s.dead_letters;
    p->set_retries(s.attempts > done ? s.attempts - done : 0);
    p->set_dead_lettered(s.dead_letters);
    p->set_last_error(s.last_error);
    p->set_circuit(s.circuit_open ? "open" : "closed");
  }
  out.set_checkpoints(checkpoints_.load());
  out.set_last_checkpoint_unix_nano(last_checkpoint_.load());
  out.set_rss_bytes(RssBytes());
  return out;
}

Result<v1::CheckpointResponse> Daemon::Checkpoint() {
  vigil::Status result = vigil::Status::Ok();
  uint64_t bytes = 0;
  vigil::Status ran = OnPipeline([&] { result = CheckpointNow(&bytes); });
  if (!ran.ok()) return ran;
  if (!result.ok()) return result;
  v1::CheckpointResponse out;
  out.set_checkpoint(checkpoints_.load());
  out.set_bytes(bytes);
  return out;
}

v1::HealthResponse Daemon::Health() {
  v1::HealthResponse out;
  out.set_live(true);
  out.set_ready(ready_.load());
  std::string detail;
  for (size_t i = 0; i < sources_.size(); ++i) {
    ingest::SourceStatus st = sources_[i]->status();
    if (st.state == ingest::SourceState::kError || st.state == ingest::SourceState::kReconnecting) {
      detail += (detail.empty() ? "" : "; ") + std::string("stream ") + config_.streams[i].name + ": " +
                ingest::SourceStateName(st.state) + (st.message.empty() ? "" : ": " + st.message);
    }
  }
  if (!ready_.load()) detail = "not ready: " + std::string(pipeline_running_ ? "stopping" : "starting") +
                               (detail.empty() ? "" : "; " + detail);
  out.set_detail(detail.empty() ? "ok" : detail);
  return out;
}

std::vector<v1::Alert> Daemon::RecentAlerts(const v1::AlertFilter& filter, uint32_t limit) {
  return feed_.Recent(filter, limit == 0 ? 100 : limit);
}

std::unique_ptr<AlertSubscription> Daemon::SubscribeAlerts(const v1::AlertFilter& filter, uint32_t backlog) {
  return feed_.Subscribe(filter, backlog);
}

Result<uint64_t> Daemon::Publish(const std::string& stream, std::vector<std::string> records) {
  for (size_t i = 0; i < config_.streams.size(); ++i) {
    if (config_.streams[i].name != stream) continue;
    ingest::PushSource* push = ingest::AsPushSource(sources_[i].get());
    if (push == nullptr) {
      return vigil::Status::InvalidArgument("stream '" + stream + "' has a " + config_.streams[i].source_type +
                                            " source; only streams with `source: {type: grpc}` take pushed events");
    }
    return push->Publish(std::move(records));
  }
  std::string names;
  for (const StreamConfig& s : config_.streams) names += (names.empty() ? "" : ", ") + s.name;
  return vigil::Status::NotFound("no stream '" + stream + "' (streams: " + names + ")");
}

std::string Daemon::RenderMetrics() {
  OnPipeline([this] { RefreshSnapshot(true); }, 1000);  // else the last snapshot
  Snapshot snap;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snap = snapshot_;
  }
  const cep::Timestamp now = Now();
  Exposition e;
  auto per_stream = [&](const std::string& name, const std::string& help,
                        const std::function<double(size_t)>& value) {
    e.Family(name, "counter", help);
    for (size_t i = 0; i < config_.streams.size(); ++i) e.Sample({{"stream", config_.streams[i].name}}, value(i));
  };
  per_stream("vigil_records_total", "Records taken from the stream's source.",
             [&](size_t i) { return double(stream_counters_[i]->records.load()); });
  per_stream("vigil_events_total", "Events decoded and given to the engine.",
             [&](size_t i) { return double(stream_counters_[i]->events.load()); });
  per_stream("vigil_events_late_total", "Events older than the watermark (not matched).",
             [&](size_t i) { return double(stream_counters_[i]->late.load()); });
  per_stream("vigil_events_dead_lettered_total",
             "Records that could not become events (malformed, no time, too long).",
             [&](size_t i) { return double(dead_letters_.count(config_.streams[i].name)); });
  e.Family("vigil_watermark_lag_seconds", "gauge",
           "Processing time minus the stream's watermark (newest event time minus max_delay); NaN before its first event.");
  for (size_t i = 0; i < config_.streams.size(); ++i) {
    cep::Timestamp max_time = i < snap.stream_max_time.size() ? snap.stream_max_time[i] : INT64_MIN;
    double lag = max_time == INT64_MIN ? NAN : double(now - (max_time - config_.streams[i].max_delay)) / 1e9;
    e.Sample({{"stream", config_.streams[i].name}}, lag);
  }
  e.Family("vigil_source_up", "gauge", "1 while the stream's source is running (connected, reading).");
  for (size_t i = 0; i < sources_.size(); ++i) {
    ingest::SourceStatus st = sources_[i]->status();
    e.Sample({{"stream", config_.streams[i].name}, {"state", ingest::SourceStateName(st.state)}},
             st.state == ingest::SourceState::kRunning ? 1 : 0);
  }

  e.Family("vigil_alerts_total", "counter", "Alerts raised, per rule and severity.");
  for (const RuleSnapshot& r : snap.rules) {
    auto it = snap.alerts_by_rule.find(r.id);
    e.Sample({{"rule", r.id}, {"severity", r.severity}}, it == snap.alerts_by_rule.end() ? 0 : double(it->second));
  }
  e.Family("vigil_rule_state_bytes", "gauge", "Approximate heap bytes of a rule's keyed state.");
  for (const RuleSnapshot& r : snap.rules) e.Sample({{"rule", r.id}}, double(r.state.bytes));
  e.Family("vigil_rule_keys", "gauge", "Keys a rule holds state for.");
  for (const RuleSnapshot& r : snap.rules) e.Sample({{"rule", r.id}}, double(r.state.keys));
  e.Family("vigil_rule_partial_matches", "gauge", "Partial matches a pattern rule holds.");
  for (const RuleSnapshot& r : snap.rules) e.Sample({{"rule", r.id}}, double(r.state.partial_matches));
  e.Family("vigil_rule_evicted_keys", "gauge", "Keys whose state for the rule is only in the store (state.max_memory).");
  for (const RuleSnapshot& r : snap.rules) e.Sample({{"rule", r.id}}, double(r.state.evicted_keys));
  e.Family("vigil_state_memory_bytes", "gauge",
           "Keyed state accounted against state.max_memory (with its events and indexes).");
  e.Sample(double(snap.memory.bytes));
  e.Family("vigil_state_memory_limit_bytes", "gauge", "state.max_memory.");
  e.Sample(double(snap.memory.limit));
  e.Family("vigil_state_evictions_total", "counter", "Rule-and-key states evicted to the store.");
  e.Sample(double(snap.memory.evictions));
  e.Family("vigil_state_loads_total", "counter", "Evicted states loaded back.");
  e.Sample(double(snap.memory.loads));
  e.Family("vigil_state_load_errors_total", "counter",
           "Evicted states the store could not give back, or timers it could not take.");
  e.Sample(double(snap.memory.load_errors));
  e.Family("vigil_rule_suppressed_total", "counter", "Matches dropped by the rule's suppress window.");
  for (const RuleSnapshot& r : snap.rules) e.Sample({{"rule", r.id}}, double(r.stats.suppressed));

  alerting::OutboxStats os = outbox_->Stats();
  auto per_sink = [&](const std::string& name, const char* type, const std::string& help,
                      const std::function<double(const alerting::SinkStats&)>& value) {
    e.Family(name, type, help);
    for (const alerting::SinkStats& s : os.sinks) e.Sample({{"sink", s.name}}, value(s));
  };
  per_sink("vigil_sink_deliveries_total", "counter", "Alerts delivered.",
           [](const alerting::SinkStats& s) { return double(s.delivered); });
  per_sink("vigil_sink_failures_total", "counter", "Failed delivery attempts.",
           [](const alerting::SinkStats& s) { return double(s.failures); });
  per_sink("vigil_sink_retries_total", "counter", "Delivery attempts beyond each alert's first.",
           [](const alerting::SinkStats& s) {
             uint64_t done = s.delivered + s.dead_letters;
             return double(s.attempts > done ? s.attempts - done : 0);
           });
  per_sink("vigil_sink_dead_letters_total", "counter", "Alerts given up on (rejected, or past give_up_after).",
           [](const alerting::SinkStats& s) { return double(s.dead_letters); });
  per_sink("vigil_sink_overflow_total", "counter", "Alerts not kept for the sink because the outbox was full.",
           [](const alerting::SinkStats& s) { return double(s.overflow); });
  per_sink("vigil_outbox_depth", "gauge", "Alerts waiting in the outbox for the sink.",
           [](const alerting::SinkStats& s) { return double(s.backlog); });
  per_sink("vigil_sink_circuit_open", "gauge", "1 while the sink's circuit breaker is open.",
           [](const alerting::SinkStats& s) { return s.circuit_open ? 1.0 : 0.0; });
  e.Family("vigil_outbox_bytes", "gauge", "Bytes of alerts held in the outbox.");
  e.Sample(double(os.held_bytes));

  e.Family("vigil_checkpoints_total", "counter", "Checkpoints written.");
  e.Sample(double(checkpoints_.load()));
  e.Family("vigil_checkpoint_failures_total", "counter", "Checkpoints that could not be written.");
  e.Sample(double(checkpoint_failures_.load()));
  e.Family("vigil_checkpoint_bytes_total", "counter", "Bytes written by checkpoints.");
  e.Sample(double(checkpoint_bytes_.load()));
  e.Family("vigil_last_checkpoint_timestamp_seconds", "gauge", "When the last checkpoint was written (0: none yet).");
  e.Sample(double(last_checkpoint_.load()) / 1e9);
  e.Family("vigil_rule_reloads_total", "counter", "Rule reloads (SIGHUP) by result.");
  e.Sample({{"result", "ok"}}, double(reloads_.load()));
  e.Sample({{"result", "failed"}}, double(reload_failures_.load()));
  e.Family("vigil_queue_records", "gauge", "Records waiting between the sources and the engine.");
  e.Sample(double(queue_.size()));
  e.Family("vigil_process_resident_memory_bytes", "gauge", "Resident set size of the process.");
  e.Sample(double(RssBytes()));
  e.Family("vigil_ready", "gauge", "1 once state is recovered and sources are started.");
  e.Sample(ready_.load() ? 1 : 0);
  return e.Take();
}

}  // namespace vigil::edge
