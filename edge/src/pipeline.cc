#include "vigil/edge/pipeline.h"

#include <map>

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

Result<std::unique_ptr<Pipeline>> Pipeline::Create(rules::Ruleset rules,
                                                   std::shared_ptr<cep::FieldRegistry> fields,
                                                   const PipelineOptions& options,
                                                   AlertHandler* handler) {
  std::unique_ptr<Pipeline> p(new Pipeline(std::move(rules), std::move(fields), options, handler));
  // The extractor interns the fields it searches, so it comes before the decoders.
  if (!options.extract.empty()) {
    auto ex = ingest::Extractor::Create(options.extract, p->fields_.get());
    if (!ex.ok()) return ex.status();
    p->extractor_ = std::move(ex).value();
  }
  if (options.format == "json") {
    p->decoder_ = ingest::NewJsonDecoder(p->fields_.get(), options.timestamp);
  } else if (options.format == "syslog") {
    ingest::SyslogOptions so = options.syslog;
    if (so.clock == nullptr) so.clock = options.clock;
    auto d = ingest::NewSyslogDecoder(p->fields_.get(), so);
    if (!d.ok()) return d.status();
    p->decoder_ = std::move(d).value();
  } else if (options.format == "raw") {
    p->decoder_ = ingest::NewRawDecoder(p->fields_.get(), options.clock);
  } else {
    return Status::InvalidArgument("format '" + options.format +
                                   "' is not supported (json, syslog or raw)");
  }
  cep::StreamOptions so;
  so.max_delay = options.max_delay;
  p->stream_index_ = p->engine_->AddStream(options.stream, so);
  // Rules bound to other streams are loaded but see no events from this pipeline's stream.
  std::map<std::string, uint32_t> streams{{options.stream, p->stream_index_}};
  for (const rules::Rule& r : p->rules_.rules) {
    if (!r.stream.empty() && !streams.count(r.stream)) {
      streams[r.stream] = p->engine_->AddStream(r.stream, so);
    }
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

RecordOutcome Pipeline::Process(std::string_view record, std::string_view source,
                                uint64_t position, std::string* error) {
  ++stats_.records;
  auto event = std::make_shared<cep::Event>();
  switch (decoder_->Decode(record, event.get(), error)) {
    case ingest::DecodeResult::kSkip: return RecordOutcome::kSkipped;
    case ingest::DecodeResult::kMalformed: ++stats_.malformed; return RecordOutcome::kMalformed;
    case ingest::DecodeResult::kNoTime: ++stats_.no_time; return RecordOutcome::kNoTime;
    case ingest::DecodeResult::kOk: break;
  }
  if (extractor_) extractor_->Apply(event.get());
  event->stream = stream_index_;
  event->identity = ingest::EventIdentity(source, position);
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

void Pipeline::OnMatch(const cep::Match& match) {
  const rules::Rule& rule = *by_index_[match.rule];
  alerting::Alert alert = builder_.Build(match, infos_[match.rule], rule.RenderSummary(match));
  ++stats_.alerts;
  handler_->OnAlert(alert);
}

}  // namespace vigil::edge
