// libFuzzer target: any bytes as one rule file (LoadRulesetFromString, as the admin API's
// Validate/Apply will call it). The loader must never crash, hang or trip a sanitizer; every
// problem comes back as a diagnostic that names the document and a position inside it. What
// loads is then exercised the way the engine and alerts would: conditions are evaluated and
// output templates rendered over events holding awkward values.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_events.h"
#include "vigil/cep/event.h"
#include "vigil/cep/match.h"
#include "vigil/rules/ruleset.h"

namespace {

constexpr const char kName[] = "fuzz.yaml";

[[noreturn]] void Broken(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "invariant broken: %s\n  %s\n", what.c_str(), detail.c_str());
  std::abort();
}

void CheckDiagnostics(const std::string& yaml, const vigil::rules::Ruleset& rs,
                      const vigil::rules::Diagnostics& diags) {
  int lines = 1;
  for (char c : yaml) lines += c == '\n';
  for (const vigil::rules::Diagnostic& d : diags) {
    const std::string text = d.ToString();
    if (d.pos.file != kName) Broken("a diagnostic names another file", text);
    if (d.message.empty()) Broken("a diagnostic without a message", text);
    // yaml-cpp may mark the end of the document one line past the last.
    if (d.pos.line < 0 || d.pos.line > lines + 1) Broken("a diagnostic's line is outside the file", text);
    if (d.pos.line > 0 && d.pos.column <= 0) Broken("a diagnostic with a line but no column", text);
  }
  if (!diags.empty() && !rs.rules.empty()) {
    Broken("a document with errors loaded rules", diags.front().ToString());
  }
}

// Evaluates every condition of `rule` on `event` (with `steps` for iterative conditions)
// and renders its summary over a match of those events.
void Exercise(const vigil::rules::Rule& rule, const vigil::cep::FieldRegistry& fields) {
  using vigil::cep::EvalContext;
  vigil::fuzz::FuzzSteps steps(fields, rule.spec.steps.size(), 2);
  for (uint64_t salt = 0; salt < 3; ++salt) {
    auto event = vigil::fuzz::MakeEvent(fields, salt);
    EvalContext plain{*event, nullptr};
    EvalContext with_steps{*event, &steps};
    auto eval = [&](const std::shared_ptr<const vigil::cep::Condition>& c) {
      if (!c) return;
      (void)c->Eval(c->UsesSteps() ? with_steps : plain);
      (void)c->Index();
    };
    eval(rule.spec.where);
    eval(rule.spec.reset_on);
    for (const vigil::cep::StepSpec& s : rule.spec.steps) {
      eval(s.where);
      eval(s.until);
    }
    vigil::cep::Match match;
    match.time = static_cast<vigil::cep::Timestamp>(salt);
    if (rule.spec.steps.empty()) {
      match.events.push_back({"match", event});
    } else {
      for (const vigil::cep::StepSpec& s : rule.spec.steps) match.events.push_back({s.name, event});
    }
    if (rule.spec.kind == vigil::cep::RuleKind::kThreshold) match.value = 3;
    (void)rule.RenderSummary(match);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  vigil::cep::FieldRegistry fields;
  vigil::rules::Diagnostics diags;
  vigil::rules::Ruleset rs = vigil::rules::LoadRulesetFromString(yaml, kName, &fields, &diags);
  CheckDiagnostics(yaml, rs, diags);
  for (const vigil::rules::Rule& rule : rs.rules) {
    if (rule.id.empty()) Broken("a loaded rule without an id", rule.pos.file);
    Exercise(rule, fields);
  }
  return 0;
}
