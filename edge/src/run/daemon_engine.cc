// The engine's part of checkpoints, restore and rule replacement: the one place where the
// daemon reaches into engine state. The engine's checkpoint and hot rule replacement are
// being added to cep/ and edge's Pipeline; until they land, checkpoints hold source
// positions and the outbox only (keyed state restarts empty), and rule changes are
// refused with a message that says so.
#include "daemon.h"

namespace vigil::edge {

vigil::Status Daemon::RestoreEngine() { return vigil::Status::Ok(); }

void Daemon::AddEngineToCheckpoint(cep::StateBatch* /*batch*/) {}

void Daemon::EngineCheckpointFailed() {}

Result<Daemon::RulesChange> Daemon::ReplaceEngineRules(LoadedRules /*rules*/) {
  return vigil::Status::Unavailable(
      "changing rules while running is not available yet in this build (the engine cannot "
      "replace its rules in place); restart vigil to load changed rule files");
}

}  // namespace vigil::edge
