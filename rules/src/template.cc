#include "vigil/rules/template.h"

#include "expr_eval.h"

namespace vigil::rules {

namespace {

// The events of a match grouped by step, as iterative conditions see a partial match.
class MatchStepView final : public cep::StepEvents {
 public:
  MatchStepView(const cep::Match& match, const std::vector<std::string>& names)
      : by_step_(names.size()) {
    for (const cep::MatchedEvent& m : match.events) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == m.step) {
          by_step_[i].push_back(m.event.get());
          break;
        }
      }
    }
  }
  size_t Count(uint32_t step) const override {
    return step < by_step_.size() ? by_step_[step].size() : 0;
  }
  const cep::Event& Get(uint32_t step, size_t i) const override { return *by_step_[step][i]; }

 private:
  std::vector<std::vector<const cep::Event*>> by_step_;
};

}  // namespace

Template::Template(std::vector<Part> parts, std::vector<std::string> step_names)
    : parts_(std::move(parts)), step_names_(std::move(step_names)) {}

Template::~Template() = default;

void Template::Render(const cep::Match& match, std::string* out) const {
  if (match.events.empty()) {
    for (const Part& p : parts_) out->append(p.literal);
    return;
  }
  MatchStepView view(match, step_names_);
  cep::EvalContext ctx{*match.events.back().event, &view};
  cep::StringArena scratch;
  for (const Part& p : parts_) {
    out->append(p.literal);
    if (p.value) cep::AppendText(EvaluateValue(*p.value, ctx, &scratch), out);
  }
}

}  // namespace vigil::rules
