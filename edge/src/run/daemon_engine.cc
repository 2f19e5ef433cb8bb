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

void Daemon::EvictIfOverBudget() {
  if (config_.state.max_memory == 0 || engine_finished_) return;
  const vigil::Status& error = pipeline_->engine().memory_error();
  if (!error.ok() && !memory_error_logged_) {
    memory_error_logged_ = true;  // counted in vigil_state_load_errors_total from here on
    Log(ingest::LogLevel::kError, "evicted state in " + store_->Describe() +
                                      " could not be read back or its timers written (alerts of those keys "
                                      "may be missing): " + error.message());
  }
  if (evict_wait_ > 0) {
    --evict_wait_;
    return;
  }
  if (!pipeline_->OverMemoryLimit()) return;
  uint64_t bytes = 0;
  if (!CheckpointNow(&bytes, false).ok()) return;  // only written state may go
  evict_wait_ = pipeline_->Evict() > 0 ? 0 : 16;
}

Result<RulesChange> Daemon::ReplaceEngineRules(LoadedRules rules, std::shared_ptr<cep::FieldRegistry> fields) {
  RulesChange change;
  if (pipeline_->evicted_keys() > 0) {
    // Part of the state is only in the store: the new rules' engine restores from there,
    // so everything in memory goes there first.
    uint64_t bytes = 0;
    if (vigil::Status st = CheckpointNow(&bytes); !st.ok()) return st;
  }
  auto next = pipeline_->WithRules(std::move(rules.ruleset), std::move(fields), &change, store_.get());
  if (!next.ok()) return next.status();
  for (size_t i = 0; i < sources_.size(); ++i) next.value()->SetMetadataFields(i, sources_[i]->MetadataFields());
  pipeline_ = std::move(next).value();
  return change;
}

}  // namespace vigil::edge
