// The rule loader: pattern steps, skip strategies, thresholds, `tests:`, and where errors
// inside expressions point.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "loader_support.h"

namespace vigil::rules {
namespace {

using testing::LoadYaml;

// A rule file with one pattern rule "p": `steps` is the indented list under `pattern:`
// (starting at line 4), `extra` more rule keys after it.
std::string PatternRule(const std::string& steps, const std::string& extra = "") {
  return "rules:\n"
         "  - id: p\n"
         "    pattern:\n" +
         steps + extra;
}

}  // namespace

TEST_CASE("pattern: steps and rule options load into the spec", "[rules][loader][pattern]") {
  auto l =
      LoadYaml(PatternRule("      - step: fail\n"
                           "        where: 'outcome == \"failure\"'\n"
                           "        count: {min: 5}\n"
                           "        greedy: true\n"
                           "      - step: no_reset\n"
                           "        where: 'action == \"reset\"'\n"
                           "        absent: true\n"
                           "      - step: success\n"
                           "        where: 'outcome == \"success\" and steps.fail.count >= 5'\n"
                           "        contiguity: strict\n",
                           "    key: [source.ip]\n"
                           "    within: 5m\n"
                           "    reset_on: 'action == \"password_reset\"'\n"
                           "    skip: to_first:fail\n"
                           "    max_partial_matches: 50\n"));
  REQUIRE(l->Errors() == "");
  const cep::RuleSpec& spec = l->rule("p").spec;
  CHECK(spec.kind == cep::RuleKind::kPattern);
  REQUIRE(spec.steps.size() == 3);
  const cep::StepSpec& fail = spec.steps[0];
  CHECK(fail.name == "fail");
  CHECK(fail.min_count == 5);
  CHECK(fail.max_count == cep::StepSpec::kUnbounded);
  CHECK(fail.greedy);
  CHECK(fail.contiguity == cep::Contiguity::kRelaxed);
  REQUIRE(fail.where);
  CHECK_FALSE(fail.where->UsesSteps());
  CHECK(spec.steps[1].absent);
  const cep::StepSpec& success = spec.steps[2];
  CHECK(success.contiguity == cep::Contiguity::kStrict);
  CHECK(success.min_count == 1);
  CHECK(success.max_count == 1);
  REQUIRE(success.where);
  CHECK(success.where->UsesSteps());
  CHECK(spec.within == 5 * cep::kMinute);
  CHECK(spec.reset_on != nullptr);
  CHECK(spec.skip == cep::SkipStrategy::kToFirst);
  CHECK(spec.skip_step == "fail");
  CHECK(spec.max_partial_matches == 50);
  CHECK(spec.where == nullptr);
}

TEST_CASE("pattern: count forms", "[rules][loader][pattern]") {
  auto step = [](const std::string& opts) {
    auto l = LoadYaml(PatternRule("      - step: s\n        where: 'x == 1'\n" + opts +
                                  "      - step: t\n        where: 'x == 2'\n"));
    INFO(l->Errors());
    REQUIRE(l->Errors() == "");
    return l->rule("p").spec.steps[0];
  };
  cep::StepSpec three = step("        count: 3\n");
  CHECK(three.min_count == 3);
  CHECK(three.max_count == 3);
  cep::StepSpec range = step("        count: {min: 2, max: 4}\n        consecutive: true\n");
  CHECK(range.min_count == 2);
  CHECK(range.max_count == 4);
  CHECK(range.consecutive);
  // min 0 makes the step optional.
  cep::StepSpec zero = step("        count: {min: 0, max: 2}\n        combinations: true\n");
  CHECK(zero.optional);
  CHECK(zero.min_count == 1);
  CHECK(zero.max_count == 2);
  CHECK(zero.combinations);
  cep::StepSpec optional = step("        optional: true\n");
  CHECK(optional.optional);
  auto any = LoadYaml(PatternRule("      - step: s\n        where: 'x == 1'\n"
                                  "      - step: t\n        where: 'x == 2'\n        contiguity: any\n"
                                  "        optional: true\n"
                                  "      - step: u\n        where: 'x == 3'\n"));
  REQUIRE(any->Errors() == "");
  CHECK(any->rule("p").spec.steps[1].contiguity == cep::Contiguity::kAny);
}

TEST_CASE("pattern: contiguity on the first step is an error", "[rules][loader][pattern]") {
  auto l = LoadYaml(PatternRule("      - step: s\n        where: 'x == 1'\n        contiguity: strict\n"
                                "      - step: t\n        where: 'x == 2'\n"));
  CHECK(l->Errors() ==
        "r.yaml:6:9: step s: the first step has no step before it; 'contiguity' says how a step "
        "follows the one before, so it belongs on later steps");
}

TEST_CASE("pattern: step errors are all reported", "[rules][loader][pattern]") {
  auto l =
      LoadYaml(PatternRule("      - where: 'x == 1'\n"          // 4
                           "      - step: a\n"                  // 5
                           "        where: 'x == 2'\n"          // 6
                           "        contiguity: strct\n"        // 7
                           "        greedy: true\n"             // 8
                           "      - step: a\n"                  // 9
                           "        count: 0\n"                 // 10
                           "      - step: b c\n"                // 11
                           "        where: 'x == 3'\n"          // 12
                           "        count: {min: 3, max: 2}\n"  // 13
                           "      - step: d\n"                  // 14
                           "        where: 'x == 4'\n"          // 15
                           "        count: {max: 3}\n"          // 16
                           "        optional: maybe\n"));       // 17
  CHECK(l->Errors() ==
        "r.yaml:4:9: step has no name ('step: <name>')\n"
        "r.yaml:7:21: contiguity 'strct' must be strict, relaxed or any; did you mean 'strict'?\n"
        "r.yaml:8:9: step a: 'greedy' applies to looping steps (count above 1)\n"
        "r.yaml:9:9: step a has no 'where'\n"
        "r.yaml:9:15: step name 'a' is used twice\n"
        "r.yaml:10:16: count must be a whole number >= 1\n"
        "r.yaml:11:15: step name 'b c' must use only letters, digits, '_' and '-'\n"
        "r.yaml:13:30: count.max must not be below count.min\n"
        "r.yaml:16:16: count needs 'min' (and optionally 'max'), e.g. {min: 5}\n"
        "r.yaml:17:19: optional must be true or false");
  CHECK(l->ruleset.rules.empty());

  CHECK(LoadYaml(PatternRule("      []\n"))->Errors() ==
        "r.yaml:4:7: rule p: 'pattern' must be a non-empty list of steps");
  CHECK(LoadYaml("rules:\n  - id: p\n    pattern: x\n")->Errors() ==
        "r.yaml:3:14: rule p: 'pattern' must be a non-empty list of steps");
}

TEST_CASE("pattern: absent steps", "[rules][loader][pattern]") {
  const std::string door =
      "      - step: opened\n"
      "        where: 'action == \"open\"'\n"
      "      - step: closed\n"
      "        where: 'action == \"close\"'\n"
      "        absent: true\n";
  auto ok = LoadYaml(PatternRule(door, "    within: 5m\n"));
  REQUIRE(ok->Errors() == "");
  CHECK(ok->rule("p").spec.steps.back().absent);
  // As the last step it needs a deadline.
  CHECK(LoadYaml(PatternRule(door))->Errors() ==
        "r.yaml:8:9: rule p: a pattern that ends with an absent step needs 'within' (the "
        "deadline)");
  CHECK(LoadYaml(PatternRule("      - step: a\n"
                             "        where: 'x == 1'\n"
                             "        absent: true\n"
                             "      - step: b\n"
                             "        where: 'x == 2'\n"))
            ->Errors() == "r.yaml:6:9: step a: a pattern cannot start with an absent step");
  CHECK(LoadYaml(PatternRule(door + "        count: 2\n", "    within: 5m\n"))->Errors() ==
        "r.yaml:9:9: step closed: an absent step cannot take 'count'");
}

TEST_CASE("pattern: skip strategies", "[rules][loader][pattern]") {
  const std::string steps =
      "      - step: fail\n"
      "        where: 'x == 1'\n"
      "      - step: success\n"
      "        where: 'x == 2'\n";
  auto skip = [&](const std::string& value) {
    return LoadYaml(PatternRule(steps, "    skip: " + value + "\n"));
  };
  const std::pair<const char*, cep::SkipStrategy> kinds[] = {
      {"no_skip", cep::SkipStrategy::kNoSkip},
      {"to_next", cep::SkipStrategy::kToNext},
      {"past_last_event", cep::SkipStrategy::kPastLastEvent},
      {"to_first:fail", cep::SkipStrategy::kToFirst},
      {"'to_last: success'", cep::SkipStrategy::kToLast},
      {"{to_last: success}", cep::SkipStrategy::kToLast}};
  for (const auto& [text, want] : kinds) {
    auto l = skip(text);
    INFO(text);
    REQUIRE(l->Errors() == "");
    CHECK(l->rule("p").spec.skip == want);
  }
  CHECK(skip("{to_last: success}")->rule("p").spec.skip_step == "success");
  auto dflt = LoadYaml(PatternRule(steps));
  CHECK(dflt->rule("p").spec.skip == cep::SkipStrategy::kPastLastEvent);

  CHECK(skip("to_first:nope")->Errors() == "r.yaml:8:20: skip to_first: no step named 'nope'");
  CHECK(skip("to_first:fial")->Errors() ==
        "r.yaml:8:20: skip to_first: no step named 'fial'; did you mean 'fail'?");
  CHECK(skip("to_last")->Errors() == "r.yaml:8:11: skip to_last needs a step: to_last:<step>");
  CHECK(skip("to_frist:fail")->Errors() ==
        "r.yaml:8:11: skip 'to_frist' must be no_skip, to_next, past_last_event, "
        "to_first:<step> or to_last:<step>; did you mean 'to_first'?");
  CHECK(skip("no_skip:fail")->Errors() == "r.yaml:8:19: skip no_skip takes no step");
  CHECK(skip("[no_skip]")->Errors() ==
        "r.yaml:8:11: skip must be no_skip, to_next, past_last_event, to_first:<step> or "
        "to_last:<step>");
}

TEST_CASE("pattern: steps.* references are checked against the pattern",
          "[rules][loader][pattern]") {
  auto l =
      LoadYaml(PatternRule("      - step: fail\n"
                           "        where: 'steps.success.count > 0'\n"
                           "      - step: success\n"
                           "        where: 'steps.fial.count > 0'\n",
                           "    reset_on: 'steps.fail.count > 3'\n"));
  CHECK(l->Errors() ==
        "r.yaml:5:17: step 'success' comes later in the pattern; a condition can only read "
        "earlier steps and its own\n"
        "r.yaml:7:17: no step named 'fial'; did you mean 'fail'?\n"
        "r.yaml:8:16: 'steps.fail.count': steps.* can only be used in pattern steps and "
        "templates (use field(\"steps.fail.count\") for a field of that name)");
  // A step may read its own events taken so far.
  auto own = LoadYaml(
      PatternRule("      - step: grow\n"
                  "        where: 'bytes > steps.grow.last.bytes or steps.grow.count == 0'\n"
                  "        count: {min: 3}\n"
                  "        until: 'sum(steps.grow.bytes) > 100'\n",
                  "    within: 1h\n"));
  REQUIRE(own->Errors() == "");
  CHECK(own->rule("p").spec.steps[0].until != nullptr);
}

TEST_CASE("threshold: count, distinct and sum", "[rules][loader][threshold]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: count\n"
      "    key: [source.ip]\n"
      "    where: 'event.category == \"network\"'\n"
      "    threshold: {count: 100, window: 1m}\n"
      "  - id: distinct\n"
      "    where: 'event.category == \"network\"'\n"
      "    threshold: {distinct: destination.port, count: 50, window: 30s}\n"
      "  - id: sum\n"
      "    threshold: {sum: network.bytes, value: 1e9, window: 10m}\n");
  REQUIRE(l->Errors() == "");
  const cep::RuleSpec& count = l->rule("count").spec;
  CHECK(count.kind == cep::RuleKind::kThreshold);
  CHECK(count.threshold.aggregate == cep::ThresholdSpec::Aggregate::kCount);
  CHECK(count.threshold.bound == 100);
  CHECK(count.threshold.window == cep::kMinute);
  CHECK(count.where != nullptr);
  const cep::RuleSpec& distinct = l->rule("distinct").spec;
  CHECK(distinct.threshold.aggregate == cep::ThresholdSpec::Aggregate::kDistinct);
  CHECK(distinct.threshold.field == *l->fields->Find("destination.port"));
  CHECK(distinct.threshold.bound == 50);
  CHECK(distinct.threshold.window == 30 * cep::kSecond);
  const cep::RuleSpec& sum = l->rule("sum").spec;
  CHECK(sum.threshold.aggregate == cep::ThresholdSpec::Aggregate::kSum);
  CHECK(sum.threshold.field == *l->fields->Find("network.bytes"));
  CHECK(sum.threshold.bound == 1e9);
  // Without `where` every event counts.
  REQUIRE(sum.where != nullptr);
  cep::Event e;
  CHECK(sum.where->Eval(cep::EvalContext{e, nullptr}));
}

TEST_CASE("threshold: errors", "[rules][loader][threshold]") {
  auto threshold = [](const std::string& value) {
    return LoadYaml("rules:\n  - id: t\n    where: 'x == 1'\n    threshold: " + value + "\n")
        ->Errors();
  };
  CHECK(threshold("{count: 10}") ==
        "r.yaml:4:16: threshold needs 'window', e.g. {count: 10, window: 1m}");
  CHECK(threshold("{window: 1m}") == "r.yaml:4:16: threshold needs 'count' (or 'sum' and 'value')");
  CHECK(threshold("{count: 0, window: 1m}") ==
        "r.yaml:4:24: threshold.count must be a whole number >= 1");
  CHECK(threshold("{count: 2.5, window: 1m}") ==
        "r.yaml:4:24: threshold.count must be a whole number >= 1");
  CHECK(threshold("{count: 5, window: 1x}") ==
        "r.yaml:4:35: threshold.window: invalid duration '1x': unit must be one of ms, s, m, h, "
        "d");
  CHECK(threshold("{sum: bytes, window: 1m}") ==
        "r.yaml:4:16: threshold with 'sum' needs 'value' (the bound the sum must reach)");
  CHECK(threshold("{sum: bytes, value: lots, window: 1m}") ==
        "r.yaml:4:36: threshold.value must be a number");
  CHECK(threshold("{sum: bytes, count: 3, value: 5, window: 1m}") ==
        "r.yaml:4:16: threshold with 'sum' takes 'value', not 'count' or 'distinct'");
  CHECK(threshold("{count: 3, value: 5, window: 1m}") ==
        "r.yaml:4:27: 'value' goes with 'sum'; use 'count'");
  CHECK(threshold("{distinct: a..b, count: 3, window: 1m}") ==
        "r.yaml:4:27: 'a..b' is not a field path");
  CHECK(threshold("{count: 3, window: 1m, every: 5}") ==
        "r.yaml:4:39: unknown key 'every' in threshold");
  CHECK(threshold("100") == "r.yaml:4:16: threshold must be a mapping");
}

TEST_CASE("tests: expect as a number and as a list of alerts", "[rules][loader][tests]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    key: [k]\n"
      "    where: 'x == 1'\n"
      "    tests:\n"
      "      - name: counts\n"
      "        events:\n"
      "          - {x: 1}\n"
      "          - {x: 2, y: \"s\", z: [1, null]}\n"
      "        expect: 1\n"
      "      - name: alerts\n"
      "        events: [{x: 1, k: a}, {x: 1, k: 7}]\n"
      "        expect:\n"
      "          - {key: {k: \"a\"}, events: [1]}\n"
      "          - {events: [2]}\n"
      "          - {key: {k: 7}}\n"
      "      - events: []\n"
      "        expect: 0\n");
  REQUIRE(l->Errors() == "");
  const std::vector<RuleTest>& tests = l->rule("a").tests;
  REQUIRE(tests.size() == 3);
  CHECK(tests[0].name == "counts");
  CHECK(tests[0].pos.line == 6);
  CHECK(tests[0].events ==
        std::vector<std::string>{"{\"x\":1}", "{\"x\":2,\"y\":\"s\",\"z\":[1,null]}"});
  CHECK(tests[0].expect_count == 1u);
  CHECK(tests[0].expect_alerts.empty());

  const RuleTest& alerts = tests[1];
  CHECK(alerts.events.size() == 2);
  REQUIRE(alerts.expect_alerts.size() == 3);
  CHECK(alerts.expect_count == 3u);
  using Key = std::vector<std::pair<std::string, std::string>>;
  CHECK(alerts.expect_alerts[0].key == Key{{"k", "\"a\""}});
  CHECK(alerts.expect_alerts[0].events == std::vector<size_t>{1});
  CHECK(alerts.expect_alerts[1].key.empty());
  CHECK(alerts.expect_alerts[1].events == std::vector<size_t>{2});
  CHECK(alerts.expect_alerts[2].key == Key{{"k", "7"}});
  CHECK(alerts.expect_alerts[2].events.empty());

  CHECK(tests[2].name == "test 3");
  CHECK(tests[2].expect_count == 0u);
}

TEST_CASE("tests: errors", "[rules][loader][tests]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: a\n"                              // 2
      "    where: 'x == 1'\n"                    // 3
      "    tests:\n"                             // 4
      "      - name: out of range\n"             // 5
      "        events: [{x: 1}, {x: 1}]\n"       // 6
      "        expect: [{events: [1, 3, 0]}]\n"  // 7
      "      - name: no expect\n"                // 8
      "        events: [{x: 1}]\n"               // 9
      "      - name: no events\n"                // 10
      "        expect: 1\n"                      // 11
      "      - name: bad expect\n"               // 12
      "        events: [5]\n"                    // 13
      "        expect: -1\n"                     // 14
      "      - name: odd\n"                      // 15
      "        events: []\n"                     // 16
      "        expected: 1\n");                  // 17
  CHECK(l->Errors() ==
        "r.yaml:7:31: event position 3 is past the test's 2 events\n"
        "r.yaml:7:34: event position must be a whole number >= 1\n"
        "r.yaml:8:9: test 'no expect' needs 'expect': a number of alerts or a list\n"
        "r.yaml:10:9: test 'no events' needs 'events', a list of events\n"
        "r.yaml:13:18: test events must be objects\n"
        "r.yaml:14:17: expect must be a whole number >= 0\n"
        "r.yaml:15:9: test 'odd' needs 'expect': a number of alerts or a list\n"
        "r.yaml:17:9: unknown key 'expected' in test; did you mean 'expect'?");
  CHECK(l->ruleset.rules.empty());
  CHECK(LoadYaml("rules:\n  - id: a\n    where: 'x == 1'\n    tests: {a: 1}\n")->Errors() ==
        "r.yaml:4:12: 'tests' must be a list of tests");
  CHECK(LoadYaml("rules:\n"
                 "  - id: a\n"
                 "    where: 'x == 1'\n"
                 "    tests:\n"
                 "      - events: []\n"
                 "        expect: {n: 1}\n")
            ->Errors() == "r.yaml:6:17: 'expect' must be a number of alerts or a list of alerts");
}

TEST_CASE("positions: errors inside expression scalars", "[rules][loader][positions]") {
  auto where = [](const std::string& scalar) {
    return LoadYaml("rules:\n  - id: a\n    where: " + scalar + "\n")->Errors();
  };
  // The scalar starts at column 12; in a quoted one offset k is at column 12 + 1 + k.
  CHECK(where("'x in nope'") == "r.yaml:3:18: no list named 'nope'");
  CHECK(where("\"x in nope\"") == "r.yaml:3:18: no list named 'nope'");
  CHECK(where("x in nope") == "r.yaml:3:17: no list named 'nope'");
  CHECK(where("'a == 1 and b = 2'") == "r.yaml:3:26: '=' is not an operator; use '==' to compare");
  CHECK(where("'(a == 1'") == "r.yaml:3:20: expected ')', found end of expression");
  CHECK_THAT(where("'s matches /(a)\\1/'"),
             Catch::StartsWith("r.yaml:3:23: regex /(a)\\1/ does not compile: "));
  // Deeper in a pattern step.
  auto step = LoadYaml(PatternRule("      - step: s\n        where: 'steps.t.count > 1'\n"));
  CHECK(step->Errors() == "r.yaml:5:17: no step named 't'");
}

TEST_CASE("positions: errors inside block scalars", "[rules][loader][positions]") {
  auto where = [](const std::string& block) {
    return LoadYaml("rules:\n  - id: a\n    where: " + block)->Errors();
  };
  // The text starts on the line after the indicator, at its indentation.
  CHECK(where("|\n      x in nope\n") == "r.yaml:4:12: no list named 'nope'");
  CHECK(where("|\n      x == 1 and\n      y in nope\n") == "r.yaml:5:12: no list named 'nope'");
  CHECK(where("|-\n      x == 1 and\n        y = 2\n") ==
        "r.yaml:5:11: '=' is not an operator; use '==' to compare");
  CHECK(where(">\n      x == 1 and\n      y in nope\n") == "r.yaml:5:12: no list named 'nope'");
  CHECK(where(">\n     x == 1 and\n\n     lowr(y)\n") ==
        "r.yaml:6:6: unknown function 'lowr'; did you mean 'lower'?");
  CHECK(where("|\n      x == 1 and\n\n      y in nope\n") == "r.yaml:6:12: no list named 'nope'");
  // A macro written as a block scalar.
  auto macro = LoadYaml(
      "macros:\n"
      "  m: >-\n"
      "    x == 1 and\n"
      "    user in nope\n"
      "rules:\n"
      "  - id: a\n"
      "    where: m\n");
  CHECK(macro->Errors() == "r.yaml:4:13: no list named 'nope' (in macro m)");
}

TEST_CASE("positions: an error in a macro points into its definition",
          "[rules][loader][positions]") {
  auto l = LoadYaml(
      "macros:\n"
      "  bad: 'user in nope'\n"
      "  outer: 'x == 1 and bad'\n"
      "rules:\n"
      "  - id: a\n"
      "    where: 'outer'\n"
      "  - id: b\n"
      "    where: 'bad or lowr(y)'\n");
  // Reported once although two rules reach it; the rule's own error is at the rule.
  CHECK(l->Errors() ==
        "r.yaml:2:17: no list named 'nope' (in macro bad)\n"
        "r.yaml:8:20: unknown function 'lowr'; did you mean 'lower'?");
  CHECK(l->ruleset.rules.empty());
}

}  // namespace vigil::rules
