// Test support for the rule loader: load YAML text or files and read the outcome as text.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/rules/ruleset.h"

namespace vigil::rules::testing {

// A loaded ruleset with its field registry and every diagnostic.
struct Loaded {
  std::unique_ptr<cep::FieldRegistry> fields = std::make_unique<cep::FieldRegistry>();
  Ruleset ruleset;
  Diagnostics diags;

  // Every diagnostic as "file:line:column: message", one per line.
  std::string Errors() const {
    std::string out;
    for (const Diagnostic& d : diags) {
      if (!out.empty()) out += "\n";
      out += d.ToString();
    }
    return out;
  }

  // The rule with `id`. REQUIRES (checked): it was loaded.
  const Rule& rule(const std::string& id) const {
    for (const Rule& r : ruleset.rules) {
      if (r.id == id) return r;
    }
    FAIL("no rule '" << id << "' was loaded; errors:\n" << Errors());
    return ruleset.rules.front();  // not reached
  }

  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const Rule& r : ruleset.rules)
      out.push_back(r.id);
    return out;
  }
};

// Loads `yaml` as a document named "r.yaml".
inline std::unique_ptr<Loaded> LoadYaml(const std::string& yaml) {
  auto l = std::make_unique<Loaded>();
  l->ruleset = LoadRulesetFromString(yaml, "r.yaml", l->fields.get(), &l->diags);
  return l;
}

inline std::unique_ptr<Loaded> LoadPaths(const std::vector<std::string>& paths) {
  auto l = std::make_unique<Loaded>();
  l->ruleset = LoadRuleset(paths, l->fields.get(), &l->diags);
  return l;
}

}  // namespace vigil::rules::testing
