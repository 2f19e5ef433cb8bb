// Rule files → checked rules, ready for the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/match.h"
#include "vigil/cep/rule.h"
#include "vigil/rules/diagnostic.h"
#include "vigil/rules/predicates.h"

namespace vigil::rules {

enum class Severity { kInfo, kLow, kMedium, kHigh, kCritical };
const char* SeverityName(Severity s);
// Parses "info" .. "critical"; false if it is none of them.
bool ParseSeverity(const std::string& text, Severity* out);

// One entry of a rule's `tests:`.
struct RuleTest {
  std::string name;
  SourcePos pos;
  std::vector<std::string> events;  // each a JSON object, in arrival order
  // `expect: N`
  std::optional<size_t> expect_count;
  // `expect: [{key: {...}, events: [..]}, ...]`
  struct ExpectedAlert {
    // Expected key fields: path and value as compact JSON. Empty: any key.
    std::vector<std::pair<std::string, std::string>> key;
    // 1-based positions in `events` of the matched events, in match order. Empty: any.
    std::vector<size_t> events;
  };
  std::vector<ExpectedAlert> expect_alerts;
};

class Template;

// A loaded rule: what it is (for alerts and operators) and how to match it (for cep/).
struct Rule {
  std::string id;
  std::string title;
  std::string description;
  Severity severity = Severity::kMedium;
  std::vector<std::string> tags;
  std::string stream;              // empty: every stream
  std::vector<std::string> sinks;  // empty: the default sinks
  // `enabled: false`: loaded and checked (and its tests run), but not matched.
  bool enabled = true;
  std::vector<RuleTest> tests;
  std::string file;
  SourcePos pos;
  // A hash of everything that decides what the rule matches (not its title, tags or
  // sinks): state kept for a rule is valid only for the same hash.
  uint64_t semantics_hash = 0;

  // spec.stream is unset: whoever runs the rule binds `stream` to a stream index.
  cep::RuleSpec spec;
  std::shared_ptr<const Template> output;  // null: the summary is the title

  // The alert summary for `match` (output: rendered, or the title).
  std::string RenderSummary(const cep::Match& match) const;
};

struct Ruleset {
  std::vector<Rule> rules;
  std::vector<std::string> files;  // every file read, valid or not
  // The rules' string predicates on plain fields, matched once per event: whoever
  // evaluates the rules' conditions on an event calls predicates->Scan(event) first (the
  // conditions read the bits it sets). Never null.
  std::shared_ptr<const PredicateScanner> predicates = std::make_shared<PredicateScanner>();
};

// Loads rule files and folders. A folder contributes every *.yaml / *.yml file below it
// (sorted by path); all paths given together form one ruleset: lists and macros are
// shared and rule ids must be unique across it. Field paths that rules read are interned
// in `fields`. Every error is added to `diags`; a file with any error contributes no
// rules.
Ruleset LoadRuleset(const std::vector<std::string>& paths, cep::FieldRegistry* fields,
                    Diagnostics* diags);

// Loads one document held in memory (the admin API's Validate/Apply); `name` stands for
// the file name in diagnostics.
Ruleset LoadRulesetFromString(const std::string& yaml, const std::string& name,
                              cep::FieldRegistry* fields, Diagnostics* diags);

}  // namespace vigil::rules
