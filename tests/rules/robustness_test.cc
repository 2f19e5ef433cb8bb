// Inputs that crashed, hung or exhausted the loader and the expression parser, found while
// fuzzing them (fuzz/): deep nesting (the parser and the compiler recurse, so nesting is
// bounded and going past the bound is a diagnostic with a position), YAML aliases that
// expand without end, and very long names. Each crashed with "AddressSanitizer:
// stack-overflow", or ran for seconds, before its fix.
#include <catch2/catch.hpp>
#include <string>

#include "eval_support.h"
#include "expr_ast.h"
#include "loader_support.h"

namespace vigil::rules {
namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// "ok" or "error@<offset>: <message>".
std::string Parse(const std::string& text) {
  ParseError err;
  std::unique_ptr<Node> ast = ParseExpression(text, &err);
  if (!ast) return "error@" + std::to_string(err.offset) + ": " + err.message;
  return "ok";
}

const std::string kTooDeep = "expression nests too deeply (more than 100 levels)";

}  // namespace

TEST_CASE("robustness: parentheses, not, minus, lists and calls stop at 100 levels",
          "[rules][parser][fuzz]") {
  // 5,000 levels of each overflowed the stack.
  CHECK(Parse(Repeat("(", 5000) + "x" + Repeat(")", 5000)) == "error@100: " + kTooDeep);
  CHECK(Parse(Repeat("not ", 5000) + "x") == "error@400: " + kTooDeep);
  CHECK(Parse(Repeat("- ", 5000) + "1 > 0") == "error@200: " + kTooDeep);
  CHECK(Parse("x in " + Repeat("[", 5000)) == "error@106: " + kTooDeep);
  CHECK(Parse(Repeat("lower(", 5000) + "x" + Repeat(")", 5000)) == "error@600: " + kTooDeep);
  // The error points at the first token too deep. Just inside the bound:
  CHECK(Parse(Repeat("(", 99) + "x" + Repeat(")", 99)) == "ok");
  CHECK(Parse(Repeat("not ", 99) + "x") == "ok");
  CHECK(Parse(Repeat("not ", 100) + "x") == "error@400: " + kTooDeep);
}

TEST_CASE("robustness: arithmetic chains nest to the left and are bounded too",
          "[rules][parser][fuzz]") {
  // `1 + 1 + ...` is ((1 + 1) + 1) ...: 5,000 terms were 5,000 levels of tree.
  std::string sum = "1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  CHECK(Parse(sum + " > 0") == "error@398: " + kTooDeep);
  std::string short_sum = "1";
  for (int i = 0; i < 98; ++i) short_sum += " * 1";
  CHECK(Parse(short_sum + " > 0") == "ok");
}

TEST_CASE("robustness: chains of and and or are one node, however long", "[rules][parser][fuzz]") {
  std::string any = "x == 0";
  for (int i = 1; i < 20000; ++i) any += " or x == " + std::to_string(i);
  ParseError err;
  std::unique_ptr<Node> ast = ParseExpression(any, &err);
  REQUIRE(ast != nullptr);
  CHECK(ast->kind == NodeKind::kOr);
  CHECK(ast->children.size() == 20000);
  CHECK(ast->height == 3);  // or → == → x
  // It compiles and evaluates: the last term matches.
  testing::ExprFixture fx;
  auto cond = fx.Condition(any);
  REQUIRE(cond != nullptr);
  auto hit = fx.MakeEvent({{"x", testing::I(19999)}});
  auto miss = fx.MakeEvent({{"x", testing::I(20000)}});
  CHECK(cond->Eval(cep::EvalContext{*hit, nullptr}));
  CHECK_FALSE(cond->Eval(cep::EvalContext{*miss, nullptr}));
  // Printed as the binary form always was.
  CHECK(DebugString(*ParseExpression("a and b and c and d", &err)) == "(((a and b) and c) and d)");
  CHECK(DebugString(*ParseExpression("a or (b or c) or d", &err)) == "((a or (b or c)) or d)");
}

TEST_CASE("robustness: macros expanded inside one another are bounded", "[rules][compile][fuzz]") {
  // m0 uses m1, which uses m2 ...: each is shallow, together they are 600 levels deep.
  testing::ExprFixture fx;
  for (int i = 0; i < 300; ++i) {
    fx.AddMacro("m" + std::to_string(i), "m" + std::to_string(i + 1) + " and x == " + std::to_string(i));
  }
  fx.AddMacro("m300", "y == 1");
  CHECK(fx.Condition("m0") == nullptr);
  INFO(fx.DiagText());
  REQUIRE(fx.diags.size() == 1);
  CHECK(fx.diags[0].message ==
        "expression nests too deeply with its macros expanded (more than 400 levels) (in macro m199)");
  // A shorter chain is fine.
  fx.diags.clear();
  CHECK(fx.Condition("m150") != nullptr);
  CHECK(fx.diags.empty());
}

TEST_CASE("robustness: the loader reports a too deep expression at its position",
          "[rules][loader][fuzz]") {
  auto l = testing::LoadYaml("rules:\n  - id: deep\n    where: '" + Repeat("(", 3000) + "x == 1" +
                             Repeat(")", 3000) + "'\n");
  CHECK(l->Errors() == "r.yaml:3:113: " + kTooDeep);
  CHECK(l->ruleset.rules.empty());
}

}  // namespace vigil::rules

namespace vigil::rules {

TEST_CASE("robustness: a YAML alias inside the node it names is an error, not a crash",
          "[rules][loader][fuzz]") {
  // Expanding the alias for the test event recursed until the stack ran out (SIGSEGV).
  auto l = testing::LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "    tests:\n"
      "      - events: [&e {x: [*e]}]\n"
      "        expect: 0\n");
  CHECK(l->Errors() ==
        "r.yaml:5:18: test event nests deeper than 100 levels (is there an alias inside the "
        "node it names?)");
  // At the very end of the file (where unclosed quotes are looked for) too.
  CHECK(testing::LoadYaml("rules: &r [*r]\n")->Errors() == "r.yaml:1:8: rule must be a mapping");
}

TEST_CASE("robustness: aliases that multiply a test event are bounded", "[rules][loader][fuzz]") {
  // Each line repeats the one before ten times: 10^7 copies of {x: 1} from 800 bytes took
  // 25 s and 270 MB to turn into JSON. Budget: 1 MiB, or 8 bytes per byte of the file; the
  // line with 10^6 copies passes it.
  std::string yaml =
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "    tests:\n"
      "      - events:\n"
      "        - &a {x: 1}\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    yaml += "        - &" + std::string(1, c) + " {x: [";
    for (int i = 0; i < 10; ++i) yaml += (i ? ",*" : "*") + prev;
    yaml += "]}\n";
  }
  yaml += "        expect: 0\n";
  auto l = testing::LoadYaml(yaml);
  CHECK(l->Errors() ==
        "r.yaml:12:11: test event is too large as JSON (are YAML aliases repeating a large "
        "value?)");
  // An alias used as written is fine: the same event twice.
  auto twice = testing::LoadYaml(
      "rules:\n"
      "  - id: a\n"
      "    where: 'x == 1'\n"
      "    tests:\n"
      "      - events: [&e {x: 1}, *e]\n"
      "        expect: 2\n");
  REQUIRE(twice->Errors() == "");
  CHECK(twice->rule("a").tests[0].events == std::vector<std::string>{"{\"x\":1}", "{\"x\":1}"});
}

}  // namespace vigil::rules

namespace vigil::rules {

TEST_CASE("robustness: very long ids and names are checked without recursion",
          "[rules][loader][fuzz]") {
  // std::regex_match recursed once per character: a 30,000-character id overflowed the
  // stack under ASan, 300,000 without.
  const std::string id(300000, 'a');
  auto ok = testing::LoadYaml("rules:\n  - id: " + id + "\n    where: 'x == 1'\n");
  CHECK(ok->Errors() == "");
  CHECK(ok->ids() == std::vector<std::string>{id});
  // Names that are keys (macros) are at most 1024 characters in YAML; ids and steps are values.
  const std::string bad = std::string(300000, 'a') + "!";
  const std::string bad_key = std::string(1000, 'a') + "!";
  auto l = testing::LoadYaml("macros:\n  " + bad_key + ": 'x == 1'\nrules:\n  - id: " + bad +
                             "\n    pattern:\n      - step: " + bad + "\n        where: 'x == 1'\n");
  auto diags = l->diags;
  REQUIRE(diags.size() == 3);
  CHECK(diags[0].pos.line == 2);
  CHECK(diags[0].message.rfind("macro name 'aaa", 0) == 0);
  CHECK(diags[1].pos.line == 4);
  CHECK(diags[1].message.rfind("id 'aaa", 0) == 0);
  CHECK(diags[2].pos.line == 6);
  CHECK(diags[2].message.rfind("step name 'aaa", 0) == 0);
}

}  // namespace vigil::rules
