#include "harness.h"

#include <catch2/catch.hpp>

#include "vigil/cep/key.h"
#include "vigil/ingest/json_decoder.h"

namespace vigil::testing {

EngineHarness::EngineHarness(const std::string& yaml, cep::Duration max_delay)
    : fields_(std::make_shared<cep::FieldRegistry>()) {
  rules::Diagnostics diags;
  rules_ = rules::LoadRulesetFromString(yaml, "test.yaml", fields_.get(), &diags);
  for (const auto& d : diags) FAIL(d.ToString());
  REQUIRE(!rules_.rules.empty());
  id_field_ = fields_->Intern("id");
  ingest::TimestampOptions ts;
  ts.fields = {"ts"};
  ts.format = ingest::TimeFormat::kEpochMs;
  decoder_ = ingest::NewJsonDecoder(fields_.get(), ts);
  engine_ = std::make_unique<cep::Engine>(this);
  engine_->AddStream("default", cep::StreamOptions{max_delay});
  for (const rules::Rule& r : rules_.rules) REQUIRE(engine_->AddRule(r.spec).ok());
}

EngineHarness::EngineHarness(const std::string& yaml, cep::Duration max_delay,
                             const cep::StateStore& store)
    : EngineHarness(yaml, max_delay) {
  engine_->TrackChanges(true);
  auto r = engine_->Restore(store, *fields_, [this](cep::Event* e) { rules_.predicates->Scan(e); });
  INFO((r.ok() ? std::string() : r.status().message()));
  REQUIRE(r.ok());
  restored = *r;
}

EngineHarness::EngineHarness(const std::string& yaml, cep::Duration max_delay, cep::StateStore* store,
                             size_t max_memory)
    : EngineHarness(yaml, max_delay) {
  engine_->TrackChanges(true);
  auto prepare = [this](cep::Event* e) { rules_.predicates->Scan(e); };
  auto limited = engine_->LimitMemory(max_memory, store, fields_.get(), prepare);
  INFO(limited.message());
  REQUIRE(limited.ok());
  auto r = engine_->Restore(*store, *fields_, prepare);
  INFO((r.ok() ? std::string() : r.status().message()));
  REQUIRE(r.ok());
  restored = *r;
}

cep::CheckpointStats EngineHarness::Checkpoint(cep::StateStore* store) {
  cep::StateBatch batch;
  cep::CheckpointStats st = engine_->AddToCheckpoint(&batch, *fields_);
  REQUIRE(store->Write(batch, false).ok());
  return st;
}

void EngineHarness::FailedCheckpoint() {
  cep::StateBatch lost;
  engine_->AddToCheckpoint(&lost, *fields_);
  engine_->CheckpointFailed();
}

EngineHarness::~EngineHarness() = default;

cep::ProcessResult EngineHarness::Feed(const std::string& json, uint32_t partition) {
  auto e = std::make_shared<cep::Event>();
  std::string error;
  INFO(json);
  REQUIRE(decoder_->Decode(json, e.get(), &error) == ingest::DecodeResult::kOk);
  rules_.predicates->Scan(e.get());
  e->partition = partition;
  fed_.push_back(e);
  return engine_->Process(std::move(e));
}

uint32_t EngineHarness::rule_index(const std::string& id) const {
  for (uint32_t i = 0; i < rules_.rules.size(); ++i) {
    if (rules_.rules[i].id == id) return i;
  }
  FAIL("no rule " << id);
  return 0;
}

size_t EngineHarness::live_events() const {
  size_t n = 0;
  for (const auto& w : fed_) n += !w.expired();
  return n;
}

void EngineHarness::OnMatch(const cep::Match& m) {
  const rules::Rule& r = rules_.rules[m.rule];
  std::string s = r.id + " ";
  cep::AppendKeyJson(m.key, r.spec.key_names, &s);
  s += " [";
  for (size_t i = 0; i < m.events.size(); ++i) {
    if (i) s += ",";
    cep::AppendText(m.events[i].event->field(id_field_), &s);
  }
  s += "] @" + std::to_string(m.time / cep::kMillisecond);
  matches.push_back(s);
  if (m.value) values.push_back(*m.value);
}

}  // namespace vigil::testing
