// Test support: the real rule loader, JSON decoder and engine, without the CLI, so tests
// can feed events one at a time, watch the watermark, and inspect the engine's state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/engine.h"
#include "vigil/cep/state_store.h"
#include "vigil/ingest/decoder.h"
#include "vigil/rules/ruleset.h"

namespace vigil::testing {

class EngineHarness final : public cep::MatchSink {
 public:
  // Loads `yaml` (must be valid) and builds an engine with one stream "default". Events
  // carry their time in "ts" (epoch milliseconds) and an "id" used to name matches.
  explicit EngineHarness(const std::string& yaml, cep::Duration max_delay = 0);
  // Checkpoints: an engine that tracks changes and first restores what `store` holds
  // (REQUIREs that the restore works).
  EngineHarness(const std::string& yaml, cep::Duration max_delay, const cep::StateStore& store);
  // Bounded memory: as above, with Engine::LimitMemory(max_memory, store) before the
  // restore (the store outlives the harness).
  EngineHarness(const std::string& yaml, cep::Duration max_delay, cep::StateStore* store,
                size_t max_memory);
  // Writes a checkpoint of the engine into `store`. REQUIRES: built with a store.
  cep::CheckpointStats Checkpoint(cep::StateStore* store);
  // A checkpoint whose write failed: the batch is dropped, CheckpointFailed called.
  void FailedCheckpoint();
  cep::RestoreStats restored;
  ~EngineHarness() override;

  cep::ProcessResult Feed(const std::string& json, uint32_t partition = 0);
  void Finish() { engine_->Finish(); }

  // Every match so far: "<rule> <key json> [id,id,...] @<time ms>".
  std::vector<std::string> matches;
  // Thresholds: the value of each match, in order.
  std::vector<double> values;

  cep::Engine& engine() { return *engine_; }
  uint32_t rule_index(const std::string& id) const;
  // How many of the events fed so far are still alive (held by the engine's state).
  size_t live_events() const;

  void OnMatch(const cep::Match& m) override;

 private:
  std::shared_ptr<cep::FieldRegistry> fields_;
  rules::Ruleset rules_;
  std::unique_ptr<cep::Engine> engine_;
  std::unique_ptr<ingest::Decoder> decoder_;
  cep::FieldId id_field_ = 0;
  std::vector<std::weak_ptr<const cep::Event>> fed_;
};

}  // namespace vigil::testing
