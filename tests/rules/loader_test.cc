// The rule loader: YAML structure, keys, types, ids, and rulesets made of several files.
// Errors are compared as "file:line:column: message" lines.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "loader_support.h"
#include "support/temp_dir.h"

namespace vigil::rules {
namespace {

using testing::LoadPaths;
using testing::LoadYaml;
using Ids = std::vector<std::string>;

// Evaluates a loaded condition on an event with string fields.
bool Fires(const testing::Loaded& l, const cep::Condition& cond,
           const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [path, v] : values)
    l.fields->Intern(path);
  cep::Event e;
  e.ResetFields(l.fields->size());
  for (const auto& [path, v] : values) {
    e.SetField(*l.fields->Find(path), cep::Value::String(e.CopyString(v)));
  }
  l.ruleset.predicates->Scan(&e);
  return cond.Eval(cep::EvalContext{e, nullptr});
}

}  // namespace

TEST_CASE("loader: a single-event rule with every metadata field", "[rules][loader]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: ssh-login.accepted_1\n"
      "    title: SSH login\n"
      "    description: A login.\n"
      "    severity: high\n"
      "    tags: [attack.t1078, initial]\n"
      "    stream: auth\n"
      "    key: [source.ip, user.name]\n"
      "    where: 'event.action == \"ssh_login\"'\n"
      "    sinks: soc-webhook\n");
  REQUIRE(l->Errors() == "");
  const Rule& r = l->rule("ssh-login.accepted_1");
  CHECK(r.title == "SSH login");
  CHECK(r.description == "A login.");
  CHECK(r.severity == Severity::kHigh);
  CHECK(r.tags == Ids{"attack.t1078", "initial"});
  CHECK(r.stream == "auth");
  CHECK(r.sinks == Ids{"soc-webhook"});
  CHECK(r.file == "r.yaml");
  CHECK(r.pos.line == 2);
  CHECK(r.pos.column == 9);
  CHECK(r.spec.id == "ssh-login.accepted_1");
  CHECK(r.spec.kind == cep::RuleKind::kSingleEvent);
  CHECK(r.spec.key_names == Ids{"source.ip", "user.name"});
  REQUIRE(r.spec.key_fields.size() == 2);
  CHECK(r.spec.key_fields[0] == *l->fields->Find("source.ip"));
  CHECK(r.spec.key_fields[1] == *l->fields->Find("user.name"));
  REQUIRE(r.spec.where);
  CHECK(Fires(*l, *r.spec.where, {{"event.action", "ssh_login"}}));
  CHECK_FALSE(Fires(*l, *r.spec.where, {{"event.action", "logout"}}));
  CHECK(r.output == nullptr);
  CHECK(r.RenderSummary(cep::Match{}) == "SSH login");
  CHECK(l->ruleset.files == Ids{"r.yaml"});
}

TEST_CASE("loader: defaults for title and severity", "[rules][loader]") {
  auto l = LoadYaml("rules:\n  - id: bare\n    where: 'x == 1'\n");
  REQUIRE(l->Errors() == "");
  const Rule& r = l->rule("bare");
  CHECK(r.title == "bare");
  CHECK(r.severity == Severity::kMedium);
  CHECK(r.tags.empty());
  CHECK(r.stream.empty());
  CHECK(r.spec.key_fields.empty());
}

TEST_CASE("loader: severities", "[rules][loader]") {
  Severity s = Severity::kMedium;
  for (const char* name : {"info", "low", "medium", "high", "critical"}) {
    REQUIRE(ParseSeverity(name, &s));
    CHECK(std::string(SeverityName(s)) == name);
  }
  CHECK_FALSE(ParseSeverity("High", &s));
  auto l = LoadYaml("rules:\n  - id: a\n    severity: hgih\n    where: 'x == 1'\n");
  CHECK(l->Errors() ==
        "r.yaml:3:15: severity 'hgih' must be one of info, low, medium, high, critical; did you "
        "mean 'high'?");
  CHECK(l->ruleset.rules.empty());
}

TEST_CASE("loader: unknown keys get a did-you-mean at their exact position", "[rules][loader]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    wher: 'x == 1'\n"
      "    severty: high\n"
      "    zzzzzzzz: 1\n");
  // 'where' is not reported missing too: 'wher' was taken for it.
  CHECK(l->Errors() ==
        "r.yaml:3:5: unknown key 'wher' in rule; did you mean 'where'?\n"
        "r.yaml:4:5: unknown key 'severty' in rule; did you mean 'severity'?\n"
        "r.yaml:5:5: unknown key 'zzzzzzzz' in rule");
  CHECK(l->ruleset.rules.empty());

  auto top = LoadYaml("rule:\n  - id: a\nmacro:\n  m: 'x'\n");
  CHECK(top->Errors() ==
        "r.yaml:1:1: unknown key 'rule' in rule file; did you mean 'rules'?\n"
        "r.yaml:3:1: unknown key 'macro' in rule file; did you mean 'macros'?");

  auto step = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    pattern:\n"
      "      - step: s\n"
      "        where: 'x == 1'\n"
      "        contiguty: strict\n");
  CHECK(step->Errors() ==
        "r.yaml:6:9: unknown key 'contiguty' in pattern step; did you mean 'contiguity'?");
}

TEST_CASE("loader: values of the wrong type", "[rules][loader]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    title: [x, y]\n"
      "    tags: {a: 1}\n"
      "    where: [a]\n"
      "    enabled: maybe\n"
      "  - just a string\n"
      "  - id: b\n"
      "    where: 'x == 1'\n"
      "    max_partial_matches: 10\n");
  CHECK(l->Errors() ==
        "r.yaml:3:12: title must be a string\n"
        "r.yaml:4:11: tags must be a list of strings\n"
        "r.yaml:5:12: where must be an expression string\n"
        "r.yaml:6:14: enabled must be true or false\n"
        "r.yaml:7:5: rule must be a mapping\n"
        "r.yaml:10:5: rule b: 'max_partial_matches' applies to pattern rules only");
  CHECK(l->ruleset.rules.empty());

  CHECK(LoadYaml("rules: 5\n")->Errors() == "r.yaml:1:8: 'rules' must be a list of rules");
  CHECK(LoadYaml("- a\n- b\n")->Errors() ==
        "r.yaml:1:1: a rule file must be a mapping with lists, macros or rules");
  CHECK(LoadYaml("lists: [a]\n")->Errors() ==
        "r.yaml:1:8: 'lists' must map names to lists of values");
  CHECK(LoadYaml("macros: x\n")->Errors() == "r.yaml:1:9: 'macros' must map names to expressions");
  CHECK(LoadYaml("rules:\n  - id: a\n    where: ~\n")->Errors() ==
        "r.yaml:3:12: where must be an expression string");
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 5\n")->Errors() ==
        "r.yaml:3:12: expected a condition (true or false), found a number");
}

TEST_CASE("loader: rule ids", "[rules][loader]") {
  CHECK(LoadYaml("rules:\n  - title: no id\n    where: 'x == 1'\n")->Errors() ==
        "r.yaml:2:5: rule has no 'id'");
  CHECK(LoadYaml("rules:\n  - id: SSH Brute\n    where: 'x == 1'\n")->Errors() ==
        "r.yaml:2:9: id 'SSH Brute' must use only a-z, 0-9, '_', '.' and '-'");
  CHECK(LoadYaml("rules:\n  - id: a/b\n    where: 'x == 1'\n")->Errors() ==
        "r.yaml:2:9: id 'a/b' must use only a-z, 0-9, '_', '.' and '-'");
  CHECK(LoadYaml("rules:\n  - id: [a]\n    where: 'x == 1'\n")->Errors() ==
        "r.yaml:2:9: id must be a string");
  auto dup = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "  - id: a\n"
      "    where: 'x == 2'\n");
  CHECK(dup->Errors() == "r.yaml:4:9: duplicate rule id 'a' (first defined at r.yaml:2:9)");
  CHECK(dup->ruleset.rules.empty());
}

TEST_CASE("loader: durations", "[rules][loader]") {
  auto within = [](const std::string& d) {
    return LoadYaml(
        "rules:\n"
        "  - id: a\n"
        "    pattern:\n"
        "      - step: s\n"
        "        where: 'x == 1'\n"
        "    within: " +
        d + "\n");
  };
  const std::pair<const char*, cep::Duration> good[] = {{"250ms", 250 * cep::kMillisecond},
                                                        {"30s", 30 * cep::kSecond},
                                                        {"5m", 5 * cep::kMinute},
                                                        {"2h", 2 * cep::kHour},
                                                        {"1d", cep::kDay}};
  for (const auto& [text, want] : good) {
    auto l = within(text);
    INFO(text);
    REQUIRE(l->Errors() == "");
    CHECK(l->rule("a").spec.within == want);
  }
  CHECK(within("5x")->Errors() ==
        "r.yaml:6:13: within: invalid duration '5x': unit must be one of ms, s, m, h, d");
  CHECK(within("abc")->Errors() ==
        "r.yaml:6:13: within: invalid duration 'abc': expected a number followed by ms, s, m, h "
        "or d");
  CHECK(within("-5m")->Errors() ==
        "r.yaml:6:13: within: invalid duration '-5m': expected a number followed by ms, s, m, h "
        "or d");
  CHECK(within("0s")->Errors() == "r.yaml:6:13: within must be longer than 0");
  CHECK(within("[5m]")->Errors() == "r.yaml:6:13: within must be a duration such as 30s, 5m or 1h");

  auto suppress = LoadYaml("rules:\n  - id: a\n    where: 'x == 1'\n    suppress: 10m\n");
  REQUIRE(suppress->Errors() == "");
  CHECK(suppress->rule("a").spec.suppress == 10 * cep::kMinute);
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 'x == 1'\n    suppress: 10\n")->Errors() ==
        "r.yaml:4:15: suppress: invalid duration '10': unit must be one of ms, s, m, h, d");
}

TEST_CASE("loader: rule kinds exclude each other", "[rules][loader]") {
  CHECK(LoadYaml("rules:\n"
                 "  - id: a\n"
                 "    where: 'x == 1'\n"
                 "    pattern:\n"
                 "      - step: s\n"
                 "        where: 'x == 2'\n")
            ->Errors() ==
        "r.yaml:3:5: rule a: 'where' and 'pattern' do not go together; put the condition in the "
        "steps");
  CHECK(LoadYaml("rules:\n"
                 "  - id: a\n"
                 "    pattern:\n"
                 "      - step: s\n"
                 "        where: 'x == 2'\n"
                 "    threshold: {count: 2, window: 1m}\n")
            ->Errors() == "r.yaml:6:5: rule a: 'pattern' and 'threshold' do not go together");
  CHECK(LoadYaml("rules:\n"
                 "  - id: a\n"
                 "    where: 'x == 1'\n"
                 "    within: 5m\n"
                 "    reset_on: 'x == 2'\n"
                 "    skip: no_skip\n")
            ->Errors() ==
        "r.yaml:4:5: rule a: 'within' applies to pattern rules only\n"
        "r.yaml:5:5: rule a: 'reset_on' applies to pattern rules only\n"
        "r.yaml:6:5: rule a: 'skip' applies to pattern rules only");
}

TEST_CASE("loader: named lists and macros", "[rules][loader]") {
  auto l = LoadYaml(
      "lists:\n"
      "  admins: [root, admin]\n"
      "  ports: [22, 3389]\n"
      "macros:\n"
      "  is_admin: 'user in admins'\n"
      "rules:\n"
      "  - id: a\n"
      "    where: 'is_admin and user not in [\"admin\"]'\n");
  REQUIRE(l->Errors() == "");
  const cep::Condition& where = *l->rule("a").spec.where;
  CHECK(Fires(*l, where, {{"user", "root"}}));
  CHECK_FALSE(Fires(*l, where, {{"user", "admin"}}));
  CHECK_FALSE(Fires(*l, where, {{"user", "guest"}}));

  CHECK(LoadYaml("lists:\n  bad-name: [a]\n")->Errors() ==
        "r.yaml:2:3: list name 'bad-name' must be letters, digits and '_' (not starting with a "
        "digit)");
  CHECK(LoadYaml("macros:\n  1m: 'x'\n")->Errors() ==
        "r.yaml:2:3: macro name '1m' must be letters, digits and '_' (not starting with a digit)");
  CHECK(LoadYaml("lists:\n  l: {a: 1}\n")->Errors() ==
        "r.yaml:2:6: list 'l' must be a sequence of values");
  CHECK(LoadYaml("lists:\n  l: [a, [b]]\n")->Errors() ==
        "r.yaml:2:10: list 'l' items must be plain values");
  CHECK(LoadYaml("macros:\n  m: [x]\n")->Errors() ==
        "r.yaml:2:6: macro 'm' must be an expression string");
  CHECK(LoadYaml("lists:\n  x: [a]\nmacros:\n  x: 'y == 1'\n")->Errors() ==
        "r.yaml:4:3: 'x' is already defined as a list");
  // A macro that does not parse is an error where it is defined, used or not.
  CHECK(LoadYaml("macros:\n  m: 'x = 1'\n")->Errors() ==
        "r.yaml:2:9: '=' is not an operator; use '==' to compare");
}

TEST_CASE("loader: every error of a file, each as file:line:column: message", "[rules][loader]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: good\n"
      "    where: 'x == 1'\n"
      "  - id: Bad\n"
      "    where: 'x in nope'\n"
      "  - id: c\n"
      "    severity: urgent\n"
      "    where: 'lowr(x) == \"a\"'\n");
  CHECK(l->Errors() ==
        "r.yaml:4:9: id 'Bad' must use only a-z, 0-9, '_', '.' and '-'\n"
        "r.yaml:5:18: no list named 'nope'\n"
        "r.yaml:7:15: severity 'urgent' must be one of info, low, medium, high, critical\n"
        "r.yaml:8:13: unknown function 'lowr'; did you mean 'lower'?");
  REQUIRE(l->diags.size() == 4);
  for (const Diagnostic& d : l->diags) {
    CHECK(d.pos.file == "r.yaml");
    CHECK(d.pos.line > 0);
    CHECK(d.pos.column > 0);
  }
  // Nothing of a file with errors is loaded, not even its valid rules.
  CHECK(l->ruleset.rules.empty());
}

TEST_CASE("loader: YAML syntax errors and empty files", "[rules][loader]") {
  auto bad = LoadYaml("rules:\n  - id: a\n    where: [x == 1\n");
  REQUIRE(bad->diags.size() == 1);
  CHECK_THAT(bad->Errors(), Catch::StartsWith("r.yaml:4:1: YAML syntax error: "));
  CHECK(bad->ruleset.rules.empty());
  CHECK(LoadYaml("a: b: c\n")->Errors() == "r.yaml:1:5: YAML syntax error: illegal map value");

  auto empty = LoadYaml("");
  CHECK(empty->Errors() == "");
  CHECK(empty->ruleset.rules.empty());
  CHECK(LoadYaml("# only a comment\n")->Errors() == "");
  CHECK(LoadYaml("rules:\n")->Errors() == "");
}

TEST_CASE("loader: a folder is one ruleset, its lists and macros shared", "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("a_defs.yaml",
            "lists:\n"
            "  admins: [root, admin]\n"
            "macros:\n"
            "  is_admin: 'user in admins'\n");
  dir.Write("b_rules.yml",
            "rules:\n"
            "  - id: admin-login\n"
            "    where: 'is_admin and action == \"login\"'\n");
  dir.Write("sub/c.yaml", "rules:\n  - id: nested\n    where: 'user in admins'\n");
  dir.Write("notes.txt", "rules: [not, yaml, rules]\n");
  auto l = LoadPaths({dir.path()});
  REQUIRE(l->Errors() == "");
  CHECK(l->ids() == Ids{"admin-login", "nested"});
  CHECK(l->ruleset.files ==
        Ids{dir.path() + "/a_defs.yaml", dir.path() + "/b_rules.yml", dir.path() + "/sub/c.yaml"});
  const cep::Condition& where = *l->rule("admin-login").spec.where;
  CHECK(Fires(*l, where, {{"user", "root"}, {"action", "login"}}));
  CHECK_FALSE(Fires(*l, where, {{"user", "bob"}, {"action", "login"}}));

  // Files given one by one form one ruleset too.
  auto files = LoadPaths({dir.path() + "/b_rules.yml", dir.path() + "/a_defs.yaml"});
  CHECK(files->Errors() == "");
  CHECK(files->ids() == Ids{"admin-login"});
}

TEST_CASE("loader: a path that does not exist", "[rules][loader]") {
  vigil::testing::TempDir dir;
  const std::string missing = dir.path() + "/nope.yaml";
  auto l = LoadPaths({missing});
  CHECK(l->Errors() == missing + ": no such file or directory");
  CHECK(l->ruleset.rules.empty());
}

TEST_CASE("loader: duplicate ids across files of a folder", "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("a.yaml", "rules:\n  - id: dup\n    where: 'x == 1'\n");
  dir.Write("b.yaml",
            "rules:\n"
            "  - id: other\n"
            "    where: 'x == 2'\n"
            "  - id: dup\n"
            "    where: 'x == 3'\n");
  auto l = LoadPaths({dir.path()});
  CHECK(l->Errors() == dir.path() + "/b.yaml:4:9: duplicate rule id 'dup' (first defined at " +
                           dir.path() + "/a.yaml:2:9)");
  // The file with the second definition has the error, so none of its rules load.
  CHECK(l->ids() == Ids{"dup"});
  CHECK(l->rule("dup").file == dir.path() + "/a.yaml");
}

TEST_CASE("loader: a macro or list defined twice in a ruleset", "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("a.yaml",
            "macros:\n"
            "  m: 'x == 1'\n"
            "lists:\n"
            "  l: [a]\n"
            "rules:\n"
            "  - id: a\n"
            "    where: 'm'\n");
  dir.Write("b.yaml",
            "macros:\n"
            "  m: 'x == 2'\n"
            "lists:\n"
            "  l: [b]\n"
            "rules:\n"
            "  - id: b\n"
            "    where: 'x in l'\n");
  auto l = LoadPaths({dir.path()});
  CHECK(l->Errors() == dir.path() + "/b.yaml:2:3: macro 'm' is already defined at " +
                           dir.path() + "/a.yaml:2\n" + dir.path() +
                           "/b.yaml:4:3: list 'l' is already defined at " + dir.path() +
                           "/a.yaml:4");
  CHECK(l->ids() == Ids{"a"});

  auto same_file = LoadYaml("macros:\n  m: 'x == 1'\n  m: 'x == 2'\n");
  CHECK(same_file->Errors() == "r.yaml:3:3: macro 'm' is already defined at r.yaml:2");
}

TEST_CASE("loader: a file with errors loads nothing, its valid sibling loads", "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("bad.yaml",
            "rules:\n"
            "  - id: bad-valid\n"
            "    where: 'x == 1'\n"
            "  - id: bad-broken\n"
            "    where: 'x === 1'\n");
  dir.Write("good.yaml",
            "rules:\n"
            "  - id: good-1\n"
            "    where: 'x == 1'\n"
            "  - id: good-2\n"
            "    where: 'x == 2'\n");
  auto l = LoadPaths({dir.path()});
  CHECK(l->Errors() == dir.path() + "/bad.yaml:5:17: '=' is not an operator; use '==' to compare");
  CHECK(l->ids() == Ids{"good-1", "good-2"});
  CHECK(l->ruleset.files.size() == 2);
}

TEST_CASE("loader: a rule using a broken macro from another file is not loaded",
          "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("a.yaml", "macros:\n  broken: 'x = 1'\n");
  dir.Write("b.yaml",
            "rules:\n"
            "  - id: uses-broken\n"
            "    where: 'broken or y == 2'\n"
            "  - id: fine\n"
            "    where: 'y == 2'\n");
  auto l = LoadPaths({dir.path()});
  CHECK(l->Errors() == dir.path() + "/a.yaml:2:14: '=' is not an operator; use '==' to compare\n" +
                           dir.path() + "/b.yaml:3:13: macro 'broken' has errors (see " +
                           dir.path() + "/a.yaml:2)");
  // Never a rule with a missing condition.
  for (const Rule& r : l->ruleset.rules)
    CHECK(r.spec.where != nullptr);
  CHECK(l->ruleset.rules.empty());
}

TEST_CASE("loader: an error inside a shared macro belongs to the macro's file", "[rules][loader]") {
  vigil::testing::TempDir dir;
  dir.Write("a.yaml",
            "macros:\n"
            "  bad: 'user in nope'\n"
            "rules:\n"
            "  - id: a1\n"
            "    where: 'x == 1'\n");
  dir.Write("b.yaml",
            "rules:\n"
            "  - id: b1\n"
            "    where: 'bad'\n"
            "  - id: b2\n"
            "    where: 'y == 1'\n");
  auto l = LoadPaths({dir.path()});
  CHECK(l->Errors() == dir.path() + "/a.yaml:2:17: no list named 'nope' (in macro bad)");
  // a.yaml has the error; b1 cannot compile without the macro; b2 is fine.
  CHECK(l->ids() == Ids{"b2"});
}

TEST_CASE("loader: the semantics hash follows what a rule matches", "[rules][loader]") {
  auto hash = [](const std::string& rule_body) {
    auto l = LoadYaml("macros:\n  m: 'x == 1'\nrules:\n  - id: a\n" + rule_body);
    INFO(l->Errors());
    REQUIRE(l->Errors() == "");
    return l->rule("a").semantics_hash;
  };
  const uint64_t base = hash("    where: 'x == 1'\n");
  CHECK(base != 0);
  CHECK(hash("    title: renamed\n    tags: [t]\n    where: 'x == 1'\n") == base);
  CHECK(hash("    where: 'x    ==   1'\n") == base);
  CHECK(hash("    where: m\n") == base);  // macros are expanded
  CHECK(hash("    where: 'x == 2'\n") != base);
  CHECK(hash("    key: [k]\n    where: 'x == 1'\n") != base);
  CHECK(hash("    where: 'x == 1'\n    suppress: 1m\n") != base);
  // A named list is part of what a rule matches.
  auto with_list = [](const std::string& items) {
    auto l = LoadYaml("lists:\n  l: " + items + "\nrules:\n  - id: a\n    where: 'x in l'\n");
    REQUIRE(l->Errors() == "");
    return l->rule("a").semantics_hash;
  };
  CHECK(with_list("[a, b]") == with_list("[a, b]"));
  CHECK(with_list("[a, b]") != with_list("[a, c]"));
  CHECK(with_list("[1]") != with_list("['1']"));
}

}  // namespace vigil::rules
