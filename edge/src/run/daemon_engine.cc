// The engine's part of checkpoints, restore and rule replacement: the one place where the
// daemon reaches into engine state (through Pipeline, which owns the engine).
#include "daemon.h"

namespace vigil::edge {

vigil::Status Daemon::RestoreEngine() {
  auto restored = pipeline_->Restore(*store_);
  if (!restored.ok()) {
    return vigil::Status::Corruption("engine state in " + store_->Describe() + ": " + restored.status().message() +
                                     " (move the state directory away to start fresh)");
  }
  if (restored->keys > 0 || restored->buffered_events > 0 || restored->stale_keys > 0) {
    Log(ingest::LogLevel::kInfo, "engine state restored: " + std::to_string(restored->keys) + " keys, " +
                                     std::to_string(restored->buffered_events) + " buffered events" +
                                     (restored->stale_keys > 0 ? ", " + std::to_string(restored->stale_keys) +
                                                                     " keys of changed or removed rules dropped"
                                                               : ""));
  }
  return vigil::Status::Ok();
}

// After Finish the engine's state is not written (see Run): the store keeps it as it was
// before the final watermark.
void Daemon::AddEngineToCheckpoint(cep::StateBatch* batch) {
  if (!engine_finished_) pipeline_->AddToCheckpoint(batch);
}

void Daemon::EngineCheckpointFailed() {
  if (!engine_finished_) pipeline_->CheckpointFailed();
}

Result<RulesChange> Daemon::ReplaceEngineRules(LoadedRules rules, std::shared_ptr<cep::FieldRegistry> fields) {
  RulesChange change;
  auto next = pipeline_->WithRules(std::move(rules.ruleset), std::move(fields), &change);
  if (!next.ok()) return next.status();
  for (size_t i = 0; i < sources_.size(); ++i) next.value()->SetMetadataFields(i, sources_[i]->MetadataFields());
  pipeline_ = std::move(next).value();
  return change;
}

}  // namespace vigil::edge
