// `output:` templates: rendering a hand-built match, and errors found at load time.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "loader_support.h"

namespace vigil::rules {
namespace {

using testing::LoadYaml;
using Values = std::vector<std::pair<std::string, cep::Value>>;

// Builds events over a loaded ruleset's field registry and collects them into a match.
class MatchBuilder {
 public:
  explicit MatchBuilder(cep::FieldRegistry* fields) : fields_(fields) {}

  // Adds an event taken by `step` (a string literal: the match keeps a view of it).
  MatchBuilder& Add(const char* step, const Values& values) {
    for (const auto& [path, v] : values)
      fields_->Intern(path);
    auto e = std::make_shared<cep::Event>();
    e->ResetFields(fields_->size());
    for (const auto& [path, v] : values) {
      cep::Value copy = v;
      if (copy.kind == cep::ValueKind::kString) copy.s = e->CopyString(v.s);
      e->SetField(*fields_->Find(path), copy);
    }
    match_.events.push_back(cep::MatchedEvent{step, std::move(e)});
    return *this;
  }
  const cep::Match& match() const { return match_; }

 private:
  cep::FieldRegistry* fields_;
  cep::Match match_;
};

cep::Value S(const char* s) {
  return cep::Value::String(s);
}
cep::Value I(int64_t i) {
  return cep::Value::Int(i);
}

const char kPatternRule[] =
    "rules:\n"
    "  - id: brute\n"
    "    title: Brute force\n"
    "    key: [source.ip]\n"
    "    pattern:\n"
    "      - step: fail\n"
    "        where: 'outcome == \"failure\"'\n"
    "        count: {min: 2}\n"
    "      - step: success\n"
    "        where: 'outcome == \"success\"'\n"
    "      - step: logout\n"
    "        where: 'action == \"logout\"'\n"
    "        optional: true\n"
    "    output: ";

}  // namespace

TEST_CASE("template: fields come from the match's last event", "[rules][template]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: login\n"
      "    key: [source.ip]\n"
      "    where: 'action == \"login\"'\n"
      "    output: 'login as {{ user.name }} from {{source.ip}} ({{ key.source.ip }})'\n");
  REQUIRE(l->Errors() == "");
  const Rule& r = l->rule("login");
  REQUIRE(r.output != nullptr);
  MatchBuilder m(l->fields.get());
  m.Add("match", {{"user.name", S("bob")}, {"source.ip", S("10.0.0.9")}});
  CHECK(r.RenderSummary(m.match()) == "login as bob from 10.0.0.9 (10.0.0.9)");
}

TEST_CASE("template: steps.<name>.first/last/count, aggregates and key", "[rules][template]") {
  auto l = LoadYaml(std::string(kPatternRule) +
                    "'{{ steps.fail.count }} failures from {{ key.source.ip }}: first "
                    "{{ steps.fail.first.user }}, last {{ steps.fail.last.user }}, then "
                    "{{ user }} ({{ sum(steps.fail.bytes) }} bytes, at most "
                    "{{ max(steps.fail.bytes) }})'\n");
  REQUIRE(l->Errors() == "");
  MatchBuilder m(l->fields.get());
  m.Add("fail", {{"user", S("a")}, {"bytes", I(10)}, {"source.ip", S("10.0.0.9")}})
      .Add("fail", {{"user", S("b")}, {"bytes", I(20)}, {"source.ip", S("10.0.0.9")}})
      .Add("fail", {{"user", S("c")}, {"bytes", I(30)}, {"source.ip", S("10.0.0.9")}})
      .Add("success", {{"user", S("d")}, {"source.ip", S("10.0.0.9")}});
  CHECK(l->rule("brute").RenderSummary(m.match()) ==
        "3 failures from 10.0.0.9: first a, last c, then d (60 bytes, at most 30)");
}

TEST_CASE("template: missing values render as nothing", "[rules][template]") {
  auto l = LoadYaml(std::string(kPatternRule) +
                    "'[{{ nope }}][{{ steps.logout.first.user }}][{{ steps.logout.count }}]"
                    "[{{ avg(steps.logout.bytes) }}][{{ steps.fail.last.nope }}]"
                    "[{{ steps.fail.first.bytes / 0 }}]'\n");
  REQUIRE(l->Errors() == "");
  MatchBuilder m(l->fields.get());
  m.Add("fail", {{"bytes", I(1)}}).Add("fail", {{"bytes", I(2)}}).Add("success", {});
  CHECK(l->rule("brute").RenderSummary(m.match()) == "[][][0][][][]");
}

TEST_CASE("template: values render as text", "[rules][template]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: t\n"
      "    where: 'x == 1'\n"
      "    output: '{{ s }}|{{ i }}|{{ d }}|{{ b }}|{{ upper(s) }}|{{ len(s) }}|{{ i * 2 }}'\n");
  REQUIRE(l->Errors() == "");
  MatchBuilder m(l->fields.get());
  m.Add("match", {{"s", S("say \"hi\"")},
                  {"i", I(-7)},
                  {"d", cep::Value::Double(1.5)},
                  {"b", cep::Value::Bool(true)}});
  CHECK(l->rule("t").RenderSummary(m.match()) == "say \"hi\"|-7|1.5|true|SAY \"HI\"|8|-14");
}

TEST_CASE("template: literal text without placeholders", "[rules][template]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: t\n"
      "    title: The title\n"
      "    where: 'x == 1'\n"
      "    output: 'Plain text: { not a placeholder } and a } brace'\n"
      "  - id: no-output\n"
      "    title: Only a title\n"
      "    where: 'x == 1'\n");
  REQUIRE(l->Errors() == "");
  MatchBuilder m(l->fields.get());
  m.Add("match", {{"x", I(1)}});
  CHECK(l->rule("t").RenderSummary(m.match()) == "Plain text: { not a placeholder } and a } brace");
  CHECK(l->rule("no-output").RenderSummary(m.match()) == "Only a title");
}

TEST_CASE("template: a match without events renders only the literal text", "[rules][template]") {
  auto l =
      LoadYaml(std::string(kPatternRule) + "'from {{ key.source.ip }}: {{ steps.fail.count }}.'\n");
  REQUIRE(l->Errors() == "");
  CHECK(l->rule("brute").RenderSummary(cep::Match{}) == "from : .");
}

TEST_CASE("template: errors are load errors with positions", "[rules][template]") {
  auto output = [](const std::string& text) {
    return LoadYaml(
               "rules:\n"
               "  - id: t\n"
               "    key: [source.ip]\n"
               "    where: 'x == 1'\n"
               "    output: " +
               text + "\n")
        ->Errors();
  };
  // The scalar starts at column 13; "'a {{ " puts the placeholder's text at column 19.
  CHECK(output("'a {{ key.nope }}'") == "r.yaml:5:19: the rule's key has no field 'nope'");
  CHECK(output("'a {{ key.source.ipp }}'") ==
        "r.yaml:5:19: the rule's key has no field 'source.ipp'; did you mean key.source.ip?");
  CHECK(output("'a {{ steps.x.count }}'") == "r.yaml:5:19: no step named 'x'");
  CHECK(output("'a {{ x = 1 }}'") == "r.yaml:5:21: '=' is not an operator; use '==' to compare");
  CHECK(output("'a {{ }}'") == "r.yaml:5:19: expression ends where a value was expected");
  CHECK(output("'a {{ lowr(x) }} and {{ y in nope }}'") ==
        "r.yaml:5:19: unknown function 'lowr'; did you mean 'lower'?\n"
        "r.yaml:5:42: no list named 'nope'");
  CHECK(output("'a {{ x'") == "r.yaml:5:16: '{{' without a closing '}}' in output");
  CHECK(output("[a]") == "r.yaml:5:13: output must be a string");
  // key.* only exists in templates; in a condition it is a field like any other.
  CHECK(LoadYaml("rules:\n  - id: t\n    where: 'key.x == 1'\n")->Errors() == "");
}

}  // namespace vigil::rules
