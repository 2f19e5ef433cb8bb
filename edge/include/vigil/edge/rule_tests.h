// Running the `tests:` inside rule files with the production pipeline.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/rules/ruleset.h"

namespace vigil::edge {

struct RuleTestResult {
  bool passed = false;
  // When failed: what was expected and what happened, several lines, no trailing newline.
  std::string detail;
};

// Runs one test of `rule`: a pipeline holding only that rule, on the stream the rule reads,
// fed the test's events in order and then the final watermark. `fields` is the registry
// and `ruleset` the ruleset the rule was compiled in (its shared string predicates).
RuleTestResult RunRuleTest(const rules::Rule& rule, const rules::RuleTest& test,
                           const rules::Ruleset& ruleset,
                           const std::shared_ptr<cep::FieldRegistry>& fields);

}  // namespace vigil::edge
