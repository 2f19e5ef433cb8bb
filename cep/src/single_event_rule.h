// Internal: `where:` alone — every event for which the condition holds is a match.
#pragma once

#include "rule_runtime.h"

namespace vigil::cep {

class SingleEventRule final : public RuleRuntime {
 public:
  using RuleRuntime::RuleRuntime;
  void OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) override;
  void FinishKey(KeyHandle&, RuntimeContext&) override {}  // holds no state

 private:
  Match scratch_;  // reused so emitting allocates little
};

}  // namespace vigil::cep
