// Deeply nested expressions: the parser and the compiler recurse, so nesting is bounded and
// going past the bound is a diagnostic with a position, never a stack overflow. Regressions
// of the rules_expr_fuzz / rules_loader_fuzz targets (fuzz/): each input here crashed with
// "AddressSanitizer: stack-overflow" before the bounds existed.
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

TEST_CASE("nesting: parentheses, not, minus, lists and calls stop at 100 levels",
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

TEST_CASE("nesting: arithmetic chains nest to the left and are bounded too",
          "[rules][parser][fuzz]") {
  // `1 + 1 + ...` is ((1 + 1) + 1) ...: 5,000 terms were 5,000 levels of tree.
  std::string sum = "1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  CHECK(Parse(sum + " > 0") == "error@398: " + kTooDeep);
  std::string short_sum = "1";
  for (int i = 0; i < 98; ++i) short_sum += " * 1";
  CHECK(Parse(short_sum + " > 0") == "ok");
}

TEST_CASE("nesting: chains of and and or are one node, however long", "[rules][parser][fuzz]") {
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

TEST_CASE("nesting: macros expanded inside one another are bounded", "[rules][compile][fuzz]") {
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

TEST_CASE("nesting: the loader reports a too deep expression at its position",
          "[rules][loader][fuzz]") {
  auto l = testing::LoadYaml("rules:\n  - id: deep\n    where: '" + Repeat("(", 3000) + "x == 1" +
                             Repeat(")", 3000) + "'\n");
  CHECK(l->Errors() == "r.yaml:3:113: " + kTooDeep);
  CHECK(l->ruleset.rules.empty());
}

}  // namespace vigil::rules
