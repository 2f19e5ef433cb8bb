#include "single_event_rule.h"

namespace vigil::cep {

void SingleEventRule::OnEvent(const EventPtr& event, KeyHandle& key, RuntimeContext& ctx) {
  EvalContext eval{*event, nullptr};
  if (!spec().where->Eval(eval)) return;
  scratch_.rule = index();
  scratch_.key.assign(key.key);
  scratch_.time = event->time;
  scratch_.events.clear();
  scratch_.events.push_back(MatchedEvent{"match", event});
  scratch_.value.reset();
  ctx.Emit(scratch_);
  scratch_.events.clear();  // do not keep the event alive
}

}  // namespace vigil::cep
