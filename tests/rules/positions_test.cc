// Where errors point when the text of an expression is not where a naive count puts it:
// plain and quoted scalars folded over several lines, quotes doubled or escaped, output
// templates over several lines; and YAML mistakes yaml-cpp lets through (a quote left open
// at the end of the file, a second document).
#include <catch2/catch.hpp>
#include <string>

#include "loader_support.h"

namespace vigil::rules {
namespace {

using testing::LoadYaml;

// The errors of a file whose one rule has `where: <scalar>` starting at line 3, column 12.
std::string Where(const std::string& scalar) {
  return LoadYaml("rules:\n  - id: a\n    where: " + scalar)->Errors();
}

}  // namespace

TEST_CASE("positions: plain and quoted scalars folded over lines", "[rules][loader][positions]") {
  const std::string bad = "'=' is not an operator; use '==' to compare";
  // The '=' is on line 4, after 6 spaces and "y == 2 and z ".
  CHECK(Where("x == 1 and\n      y == 2 and z = 3\n") == "r.yaml:4:20: " + bad);
  CHECK(Where("'x == 1 and\n      y == 2 and z = 3'\n") == "r.yaml:4:20: " + bad);
  CHECK(Where("\"x == 1 and\n      y == 2 and z = 3\"\n") == "r.yaml:4:20: " + bad);
  // A blank line inside folds to a newline, not a space: the '=' is on line 5.
  CHECK(Where("\"x == 1 and\n\n      y == 2 and z = 3\"\n") == "r.yaml:5:20: " + bad);
  // Trailing blanks before the break are dropped, not counted.
  CHECK(Where("'x == 1 and   \n      z = 3'\n") == "r.yaml:4:9: " + bad);
}

TEST_CASE("positions: doubled and escaped quotes shift the columns", "[rules][loader][positions]") {
  // Each '' is one character of the text and two of the file.
  CHECK(Where("'user.name == ''root'' and lowr(x)'\n") ==
        "r.yaml:3:39: unknown function 'lowr'; did you mean 'lower'?");
  // \" is one character, \t one, \x41 one, \u00e9 two bytes of UTF-8 from six characters.
  CHECK(Where("\"a == \\\"\\t\\x41\\u00e9\\\" and lowr(x)\"\n") ==
        "r.yaml:3:39: unknown function 'lowr'; did you mean 'lower'?");
  // An escaped line break joins the lines without a space.
  CHECK(Where("\"a == 1 and \\\n      lowr(x)\"\n") ==
        "r.yaml:4:7: unknown function 'lowr'; did you mean 'lower'?");
}

TEST_CASE("positions: flow mappings and steps", "[rules][loader][positions]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: p\n"
      "    pattern:\n"
      "      - {step: a, where: 'x ==\n"
      "           1 and y in nope'}\n");
  CHECK(l->Errors() == "r.yaml:5:23: no list named 'nope'");
}

TEST_CASE("positions: placeholders of a template over several lines",
          "[rules][loader][positions]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "    output: '{{ x }} and\n"
      "      {{ lowr(y) }}'\n");
  CHECK(l->Errors() == "r.yaml:5:10: unknown function 'lowr'; did you mean 'lower'?");
  auto quoted = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "    output: 'it''s {{ steps.a.count }}'\n");
  CHECK(quoted->Errors() == "r.yaml:4:23: no step named 'a'");
}

TEST_CASE("positions: a quote left open at the end of the file is a syntax error",
          "[rules][loader][positions]") {
  // yaml-cpp reads these to the end of the file without complaint.
  auto open = LoadYaml("rules:\n  - id: a\n    where: 'x == 1'\n    title: 'abc\n");
  CHECK(open->Errors() == "r.yaml:4:12: YAML syntax error: this quoted string has no closing quote");
  CHECK(open->ruleset.rules.empty());
  auto swallowed = LoadYaml("rules:\n  - id: a\n    title: \"abc\n    where: 'x == 1'\n");
  CHECK(swallowed->Errors() ==
        "r.yaml:3:12: YAML syntax error: this quoted string has no closing quote");
  // Closed ones, also ones that end the file, are fine.
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 'x == 1'")->Errors() == "");
  CHECK(LoadYaml("rules:\n  - id: a\n    where: \"x == \\\"a\\\"\"\n")->Errors() == "");
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 'y == ''b'''")->Errors() == "");
}

TEST_CASE("positions: a second YAML document is an error, not ignored",
          "[rules][loader][positions]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "---\n"
      "rules:\n"
      "  - id: b\n"
      "    where: 'x == 2'\n");
  CHECK(l->Errors() ==
        "r.yaml:5:1: a rule file holds one YAML document; this is a second one (put it in a "
        "file of its own)");
  CHECK(l->ruleset.rules.empty());
  // A '---' before the document or after it, with nothing after, is fine.
  CHECK(LoadYaml("---\nrules:\n  - id: a\n    where: 'x == 1'\n---\n")->Errors() == "");
}

TEST_CASE("positions: a stray comma outside brackets is a syntax error, not a hang",
          "[rules][loader][positions][fuzz]") {
  // Found by rules_loader_fuzz (a timeout): yaml-cpp's parser does not move past the ','
  // and hands out empty documents for ever; yaml-cpp's Load takes the file as empty.
  CHECK(LoadYaml("\"\",\n")->Errors() == "r.yaml:1:3: YAML syntax error: unexpected ','");
  CHECK(LoadYaml("# a comment\n,   .followedBy(\"c\")\n")->Errors() ==
        "r.yaml:2:1: YAML syntax error: unexpected ','");
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 'x == 1'\n,\n")->Errors() ==
        "r.yaml:4:1: YAML syntax error: end of map not found");
  // Empty documents are not stuck ones.
  CHECK(LoadYaml("---\n---\n---\n")->Errors() == "");
}

TEST_CASE("positions: errors come in file order, by line and column", "[rules][loader][positions]") {
  // Found in three passes (keys, then the rule, then the step); reported in reading order.
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    pattern:\n"
      "      - {step: s, where: 'x in nope', wher: 1}\n"
      "    threshold: {count: 1, window: 1m}\n"
      "    titel: x\n");
  CHECK(l->Errors() ==
        "r.yaml:4:32: no list named 'nope'\n"
        "r.yaml:4:39: unknown key 'wher' in pattern step; did you mean 'where'?\n"
        "r.yaml:5:5: rule a: 'pattern' and 'threshold' do not go together\n"
        "r.yaml:6:5: unknown key 'titel' in rule; did you mean 'title'?");
}

}  // namespace vigil::rules
