#include "vigil/edge/pipeline.h"

#include <map>

#include "vigil/cep/state_store.h"
#include "vigil/ingest/json_decoder.h"
#include "vigil/ingest/syslog_decoder.h"

namespace vigil::edge {

Pipeline::Pipeline(rules::Ruleset rules, std::shared_ptr<cep::FieldRegistry> fields,
                   const PipelineOptions& options, AlertHandler* handler)
    : rules_(std::move(rules)),
      fields_(std::move(fields)),
      options_(options),
      handler_(handler),
      engine_(std::make_unique<cep::Engine>(this)),
      builder_(options.clock ? options.clock : cep::SystemClock::Default()) {}

Pipeline::~Pipeline() = default;

Status Pipeline::AddStream(const StreamSettings& st) {
  Stream out;
  // The extractor interns the fields it searches, so it comes before the decoder.
  if (!st.extract.empty()) {
    auto ex = ingest::Extractor::Create(st.extract, fields_.get());
    if (!ex.ok()) return Status::InvalidArgument("stream " + st.stream + ": " + ex.status().message());
    out.extractor = std::move(ex).value();
  }
  if (st.format == "json") {
    out.decoder = ingest::NewJsonDecoder(fields_.get(), st.timestamp);
  } else if (st.format == "syslog") {
    ingest::SyslogOptions so = st.syslog;
    if (so.clock == nullptr) so.clock = options_.clock;
    auto d = ingest::NewSyslogDecoder(fields_.get(), so);
    if (!d.ok()) return Status::InvalidArgument("stream " + st.stream + ": " + d.status().message());
    out.decoder = std::move(d).value();
  } else if (st.format == "raw") {
    out.decoder = ingest::NewRawDecoder(fields_.get(), options_.clock);
  } else {
    return Status::InvalidArgument("format '" + st.format + "' is not supported (json, syslog or raw)");
  }
  cep::StreamOptions so;
  so.max_delay = st.max_delay;
  if (engine_->FindStream(st.stream) >= 0) {
    return Status::InvalidArgument("stream '" + st.stream + "' is declared twice");
  }
  out.index = engine_->AddStream(st.stream, so);
  streams_.push_back(std::move(out));
  return Status::Ok();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Create(rules::Ruleset rules,
                                                   std::shared_ptr<cep::FieldRegistry> fields,
                                                   const PipelineOptions& options,
                                                   AlertHandler* handler) {
  std::unique_ptr<Pipeline> p(new Pipeline(std::move(rules), std::move(fields), options, handler));
  p->engine_->TrackChanges(options.checkpoints);
  Status st = p->AddStream(options);
  for (const StreamSettings& more : options.more_streams) {
    if (st.ok()) st = p->AddStream(more);
  }
  if (!st.ok()) return st;
  // Rules bound to streams the pipeline does not read are loaded but see no events.
  std::map<std::string, uint32_t> streams;
  for (const rules::Rule& r : p->rules_.rules) {
    if (r.stream.empty() || streams.count(r.stream)) continue;
    int found = p->engine_->FindStream(r.stream);
    streams[r.stream] = found >= 0 ? static_cast<uint32_t>(found)
                                   : p->engine_->AddStream(r.stream, cep::StreamOptions{});
  }
  for (const rules::Rule& r : p->rules_.rules) {
    if (!r.enabled) continue;  // `enabled: false`: loaded and checked, not matched
    cep::RuleSpec spec = r.spec;
    if (!r.stream.empty()) spec.stream = streams[r.stream];
    auto index = p->engine_->AddRule(std::move(spec));
    if (!index.ok()) return index.status();
    alerting::RuleInfo info;
    info.id = r.id;
    info.title = r.title;
    info.severity = rules::SeverityName(r.severity);
    info.tags = r.tags;
    info.key_names = r.spec.key_names;
    p->infos_.push_back(std::move(info));
    p->by_index_.push_back(&r);
  }
  return p;
}

RecordOutcome Pipeline::ProcessStream(size_t stream, std::string_view record, uint64_t identity,
                                      uint32_t partition, std::string* error) {
  return Run(stream, record, nullptr, identity, partition, error);
}

RecordOutcome Pipeline::ProcessRecord(size_t stream, const ingest::Record& record,
                                      uint64_t identity, std::string* error) {
  return Run(stream, record.data, &record, identity, record.partition, error);
}

void Pipeline::SetMetadataFields(size_t stream, const std::vector<std::string>& fields) {
  auto binder = std::make_unique<ingest::MetadataBinder>(fields, *fields_);
  streams_[stream].metadata = binder->empty() ? nullptr : std::move(binder);
}

RecordOutcome Pipeline::Run(size_t stream, std::string_view data, const ingest::Record* record,
                            uint64_t identity, uint32_t partition, std::string* error) {
  ++stats_.records;
  Stream& s = streams_[stream];
  auto event = std::make_shared<cep::Event>();
  switch (s.decoder->Decode(data, event.get(), error)) {
    case ingest::DecodeResult::kSkip: return RecordOutcome::kSkipped;
    case ingest::DecodeResult::kMalformed: ++stats_.malformed; return RecordOutcome::kMalformed;
    case ingest::DecodeResult::kNoTime: ++stats_.no_time; return RecordOutcome::kNoTime;
    case ingest::DecodeResult::kOk: break;
  }
  if (record != nullptr && s.metadata) s.metadata->Apply(*record, event.get());
  if (s.extractor) s.extractor->Apply(event.get());
  if (event->time > s.max_time) s.max_time = event->time;
  event->stream = s.index;
  event->partition = partition;
  event->identity = identity;
  // Every string predicate of every rule, one Hyperscan scan per field (decision 1); the
  // engine's index and the rules' conditions read the bits.
  rules_.predicates->Scan(event.get(), &stats_.predicates);
  ++stats_.events;
  if (engine_->Process(std::move(event)) == cep::ProcessResult::kLate) {
    ++stats_.late;
    return RecordOutcome::kLate;
  }
  return RecordOutcome::kProcessed;
}

void Pipeline::Finish() { engine_->Finish(); }

Result<cep::RestoreStats> Pipeline::Restore(const cep::StateStore& store) {
  return engine_->Restore(store, *fields_, [this](cep::Event* e) { rules_.predicates->Scan(e); });
}

Status Pipeline::LimitMemory(size_t max_bytes, cep::StateStore* store) {
  max_memory_ = max_bytes;
  return engine_->LimitMemory(max_bytes, store, fields_.get(),
                              [this](cep::Event* e) { rules_.predicates->Scan(e); });
}

Result<std::unique_ptr<Pipeline>> Pipeline::WithRules(rules::Ruleset rules,
                                                      std::shared_ptr<cep::FieldRegistry> fields,
                                                      RulesChange* change, cep::StateStore* store) {
  RulesChange diff;
  std::map<std::string, uint64_t> before;  // enabled rules: id -> semantics hash
  for (const rules::Rule& r : rules_.rules) {
    if (r.enabled) before[r.id] = r.semantics_hash;
  }
  for (const rules::Rule& r : rules.rules) {
    if (!r.enabled) continue;
    auto it = before.find(r.id);
    if (it == before.end()) {
      diff.added.push_back(r.id);
    } else {
      (it->second == r.semantics_hash ? diff.unchanged : diff.changed).push_back(r.id);
      before.erase(it);
    }
  }
  for (const auto& [id, hash] : before) diff.removed.push_back(id);

  auto next = Create(std::move(rules), std::move(fields), options_, handler_);
  if (!next.ok()) return next.status();
  std::unique_ptr<Pipeline> p = std::move(next).value();
  if (max_memory_ != 0) {
    if (store == nullptr) return Status::InvalidArgument("a reload with bounded memory needs the state store");
    Status st = p->LimitMemory(max_memory_, store);
    if (!st.ok()) return st;
  }
  if (evicted_keys() > 0) {
    // Part of the state is only in the store, which holds all of it after the checkpoint
    // the caller just wrote: the new pipeline restores from there.
    auto restored = p->Restore(*store);
    if (!restored.ok()) return restored.status();
    p->stats_ = stats_;
    for (size_t i = 0; i < streams_.size() && i < p->streams_.size(); ++i) p->streams_[i].max_time = streams_[i].max_time;
    if (change != nullptr) *change = std::move(diff);
    return p;
  }
  // The state moves through a checkpoint in memory: the same encoding as on disk, by
  // field name, so the new rule set's field numbering does not matter.
  auto memory = cep::NewMemoryStore();
  cep::StateBatch batch;
  engine_->CheckpointFailed();  // everything, not only what changed
  engine_->AddToCheckpoint(&batch, *fields_);
  engine_->CheckpointFailed();  // the durable store did not get this batch
  Status st = memory->Write(batch, false);
  if (!st.ok()) return st;
  auto restored = p->Restore(*memory);
  if (!restored.ok()) return restored.status();
  p->engine_->CheckpointFailed();  // its next durable checkpoint writes everything
  p->stats_ = stats_;
  for (size_t i = 0; i < streams_.size() && i < p->streams_.size(); ++i) p->streams_[i].max_time = streams_[i].max_time;
  if (change != nullptr) *change = std::move(diff);
  return p;
}

void Pipeline::OnMatch(const cep::Match& match) {
  const rules::Rule& rule = *by_index_[match.rule];
  alerting::Alert alert = builder_.Build(match, infos_[match.rule], rule.RenderSummary(match));
  ++stats_.alerts;
  handler_->OnAlert(alert);
}

}  // namespace vigil::edge
