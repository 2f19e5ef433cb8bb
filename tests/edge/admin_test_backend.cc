#include "admin_test_backend.h"

#include <algorithm>

#include "vigil/cep/event.h"
#include "vigil/cep/time.h"
#include "vigil/rules/ruleset.h"

namespace vigil::edge::testing {

namespace {

int SeverityRank(const std::string& s) {
  static const char* kNames[] = {"info", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; ++i) {
    if (s == kNames[i]) return i;
  }
  return -1;
}

const char* KindName(cep::RuleKind k) {
  switch (k) {
    case cep::RuleKind::kSingleEvent:
      return "single_event";
    case cep::RuleKind::kPattern:
      return "pattern";
    case cep::RuleKind::kThreshold:
      return "threshold";
  }
  return "?";
}

v1::Rule ToProto(const rules::Rule& r, const std::string& document, const std::string& yaml) {
  v1::Rule p;
  p.set_id(r.id);
  p.set_title(r.title);
  p.set_description(r.description);
  p.set_severity(rules::SeverityName(r.severity));
  for (const std::string& t : r.tags)
    p.add_tags(t);
  p.set_kind(KindName(r.spec.kind));
  p.set_stream(r.stream);
  for (const std::string& k : r.spec.key_names)
    p.add_key(k);
  for (const std::string& s : r.sinks)
    p.add_sinks(s);
  p.set_enabled(r.enabled);
  p.set_source_file("api:" + document);
  p.set_semantics_hash(r.semantics_hash);
  p.set_yaml(yaml);
  return p;
}

struct Loaded {
  rules::Ruleset ruleset;
  rules::Diagnostics diags;
};

Loaded Load(const std::string& yaml, const std::string& name) {
  Loaded l;
  cep::FieldRegistry fields;
  l.ruleset = rules::LoadRulesetFromString(yaml, name, &fields, &l.diags);
  return l;
}

}  // namespace

class TestBackend::Subscription final : public AlertSubscription {
 public:
  Subscription(TestBackend* owner, v1::AlertFilter filter)
      : owner_(owner), filter_(std::move(filter)) {}
  ~Subscription() override { owner_->Unsubscribe(this); }

  bool Next(v1::Alert* alert, int timeout_ms, bool* stopping) override {
    std::unique_lock<std::mutex> lock(owner_->mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return !queue_.empty() || owner_->alerts_stopped_; });
    if (!queue_.empty()) {
      *alert = std::move(queue_.front());
      queue_.pop_front();
      return true;
    }
    *stopping = owner_->alerts_stopped_;
    return false;
  }
  uint64_t dropped() const override { return 0; }

  // Called with owner_->mu_ held.
  void Push(const v1::Alert& a) {
    queue_.push_back(a);
    cv_.notify_one();
  }
  void Wake() { cv_.notify_one(); }
  const v1::AlertFilter& filter() const { return filter_; }

 private:
  TestBackend* owner_;
  v1::AlertFilter filter_;
  std::deque<v1::Alert> queue_;
  std::condition_variable cv_;
};

TestBackend::TestBackend() = default;
TestBackend::~TestBackend() = default;

v1::StatusResponse TestBackend::Status() {
  std::lock_guard<std::mutex> lock(mu_);
  v1::StatusResponse s;
  s.set_node_id("test-node");
  s.set_version("0.0-test");
  s.set_started_unix_nano(1'795'000'000'000'000'000);
  v1::StreamStatus* st = s.add_streams();
  st->set_name("events");
  st->set_source_type("grpc");
  st->set_watermark_unix_nano(INT64_MIN);
  st->set_lag_nanos(-1);
  st->set_events(published_.size());
  st->set_state("running");
  for (const auto& [id, r] : rules_) {
    v1::RuleStatus* rs = s.add_rules();
    rs->set_id(id);
    rs->set_enabled(r.rule.enabled());
  }
  v1::SinkStatus* sink = s.add_sinks();
  sink->set_name("console");
  sink->set_type("stdout");
  sink->set_circuit("closed");
  sink->set_delivered(ring_.size());
  s.set_checkpoints(checkpoints_);
  return s;
}

Result<v1::CheckpointResponse> TestBackend::Checkpoint() {
  std::lock_guard<std::mutex> lock(mu_);
  v1::CheckpointResponse r;
  r.set_checkpoint(++checkpoints_);
  r.set_bytes(64 * published_.size());
  return r;
}

v1::HealthResponse TestBackend::Health() {
  std::lock_guard<std::mutex> lock(mu_);
  v1::HealthResponse h;
  h.set_live(true);
  h.set_ready(ready_);
  h.set_detail(ready_ ? "" : "recovering state");
  return h;
}

std::vector<v1::Rule> TestBackend::ListRules() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Rule> out;
  for (const auto& [id, r] : rules_) {
    out.push_back(r.rule);
    out.back().clear_yaml();  // Get only
  }
  return out;
}

Result<v1::Rule> TestBackend::GetRule(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(id);
  if (it == rules_.end()) return vigil::Status::NotFound("no rule '" + id + "'");
  return it->second.rule;
}

v1::ValidateRulesResponse TestBackend::ValidateRules(const std::string& yaml,
                                                     const std::string& name) {
  Loaded l = Load(yaml, name);
  v1::ValidateRulesResponse r;
  r.set_valid(l.diags.empty());
  for (const rules::Diagnostic& d : l.diags) {
    v1::Diagnostic* p = r.add_errors();
    p->mutable_position()->set_file(d.pos.file);
    p->mutable_position()->set_line(d.pos.line);
    p->mutable_position()->set_column(d.pos.column);
    p->set_message(d.message);
    p->set_text(d.ToString());
  }
  if (l.diags.empty()) {
    for (const rules::Rule& rule : l.ruleset.rules)
      r.add_rule_ids(rule.id);
  }
  return r;
}

Result<v1::ApplyRulesResponse> TestBackend::ApplyRules(const std::string& yaml,
                                                       const std::string& name) {
  Loaded l = Load(yaml, name);
  if (!l.diags.empty()) {
    std::string text;
    for (const rules::Diagnostic& d : l.diags)
      text += d.ToString() + "\n";
    return vigil::Status::InvalidArgument(text);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const rules::Rule& r : l.ruleset.rules) {
    auto it = rules_.find(r.id);
    if (it != rules_.end() && it->second.document != name) {
      return vigil::Status::InvalidArgument("rule '" + r.id + "' is already defined by document '" +
                                            it->second.document + "'");
    }
  }
  v1::ApplyRulesResponse reply;
  std::set<std::string> now;
  for (const rules::Rule& r : l.ruleset.rules) {
    now.insert(r.id);
    auto it = rules_.find(r.id);
    if (it == rules_.end()) {
      reply.add_added(r.id);
    } else if (it->second.rule.semantics_hash() == r.semantics_hash) {
      reply.add_unchanged(r.id);
    } else {
      reply.add_changed(r.id);
    }
    rules_[r.id] = StoredRule{ToProto(r, name, yaml), name};
  }
  for (const std::string& old : documents_[name]) {
    if (!now.count(old) && rules_.erase(old)) reply.add_removed(old);
  }
  documents_[name].assign(now.begin(), now.end());
  return reply;
}

vigil::Status TestBackend::DeleteRule(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(id);
  if (it == rules_.end()) return vigil::Status::NotFound("no rule '" + id + "'");
  auto& ids = documents_[it->second.document];
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  rules_.erase(it);
  return vigil::Status::Ok();
}

vigil::Status TestBackend::SetRuleEnabled(const std::string& id, bool enabled) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(id);
  if (it == rules_.end()) return vigil::Status::NotFound("no rule '" + id + "'");
  it->second.rule.set_enabled(enabled);
  return vigil::Status::Ok();
}

bool TestBackend::Passes(const v1::AlertFilter& filter, const v1::Alert& alert) {
  if (filter.rule_ids_size() > 0 && std::find(filter.rule_ids().begin(), filter.rule_ids().end(),
                                              alert.rule_id()) == filter.rule_ids().end()) {
    return false;
  }
  return filter.min_severity().empty() ||
         SeverityRank(alert.severity()) >= SeverityRank(filter.min_severity());
}

std::vector<v1::Alert> TestBackend::RecentAlerts(const v1::AlertFilter& filter, uint32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Alert> out;
  for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < limit; ++it) {
    if (Passes(filter, *it)) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());  // oldest first
  return out;
}

std::unique_ptr<AlertSubscription> TestBackend::SubscribeAlerts(const v1::AlertFilter& filter,
                                                                uint32_t backlog) {
  std::vector<v1::Alert> recent = RecentAlerts(filter, backlog);
  auto sub = std::make_unique<Subscription>(this, filter);
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::Alert& a : recent)
    sub->Push(a);
  subs_.insert(sub.get());
  subscribers_changed_.notify_all();
  return sub;
}

void TestBackend::Unsubscribe(Subscription* sub) {
  std::lock_guard<std::mutex> lock(mu_);
  subs_.erase(sub);
  subscribers_changed_.notify_all();
}

Result<uint64_t> TestBackend::Publish(const std::string& stream, std::vector<std::string> records) {
  std::lock_guard<std::mutex> lock(mu_);
  ++publish_calls_;
  if (stream == "files") {
    return vigil::Status::InvalidArgument("stream 'files' has source type file, not grpc");
  }
  if (stream != "events") return vigil::Status::NotFound("no stream '" + stream + "'");
  if (published_.size() + records.size() > publish_limit_) {
    return vigil::Status::Unavailable("the ingest log cannot be written");
  }
  uint64_t first = published_.size();
  for (std::string& r : records)
    published_.push_back(std::move(r));
  return first;
}

void TestBackend::Raise(v1::Alert alert) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Subscription* s : subs_) {
    if (Passes(s->filter(), alert)) s->Push(alert);
  }
  ring_.push_back(std::move(alert));
  if (ring_.size() > 1000) ring_.pop_front();
}

void TestBackend::StopAlerts() {
  std::lock_guard<std::mutex> lock(mu_);
  alerts_stopped_ = true;
  for (Subscription* s : subs_)
    s->Wake();
}

size_t TestBackend::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

bool TestBackend::WaitForSubscribers(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return subscribers_changed_.wait_for(lock, timeout, [&] { return subs_.size() == n; });
}

void TestBackend::FailPublishAfter(uint64_t records) {
  std::lock_guard<std::mutex> lock(mu_);
  publish_limit_ = records;
}

std::vector<std::string> TestBackend::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

uint64_t TestBackend::publish_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return publish_calls_;
}

void TestBackend::set_ready(bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  ready_ = ready;
}

v1::Alert MakeAlert(const std::string& rule_id, const std::string& severity, int second,
                    const std::string& ip) {
  v1::Alert a;
  std::string ss = (second < 10 ? "0" : "") + std::to_string(second);
  std::string time = "2026-11-21T10:15:" + ss + ".000Z";
  cep::Timestamp t = 0;
  cep::ParseRfc3339(time, &t);
  a.set_id(rule_id + "-" + ss);
  a.set_rule_id(rule_id);
  a.set_severity(severity);
  a.set_time_unix_nano(t);
  a.set_detected_at_unix_nano(t);
  a.set_key_json("{\"source.ip\":\"" + ip + "\"}");
  a.set_summary("alert from " + ip);
  a.set_json("{\"id\":\"" + a.id() + "\",\"rule\":{\"id\":\"" + rule_id + "\",\"severity\":\"" +
             severity + "\"},\"key\":" + a.key_json() + ",\"time\":\"" + time +
             "\",\"summary\":\"" + a.summary() + "\"}");
  return a;
}

}  // namespace vigil::edge::testing
