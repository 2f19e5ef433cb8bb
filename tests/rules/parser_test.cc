// The expression parser: text → syntax tree, compared through DebugString so that a
// failure reads like a diff of two expressions.
#include <catch2/catch.hpp>
#include <string>

#include "expr_ast.h"

namespace vigil::rules {
namespace {

// The canonical form of `text`, or "error@<offset>: <message>" when it does not parse.
std::string Parse(const std::string& text) {
  ParseError err;
  std::unique_ptr<Node> ast = ParseExpression(text, &err);
  if (!ast) return "error@" + std::to_string(err.offset) + ": " + err.message;
  return DebugString(*ast);
}

// The root node of `text`, which must parse.
std::unique_ptr<Node> Root(const std::string& text) {
  ParseError err;
  std::unique_ptr<Node> ast = ParseExpression(text, &err);
  INFO(text << " -> " << err.message);
  REQUIRE(ast != nullptr);
  return ast;
}

}  // namespace

TEST_CASE("parser: or binds looser than and, and looser than not", "[rules][parser]") {
  CHECK(Parse("a or b and c") == "(a or (b and c))");
  CHECK(Parse("a and b or c") == "((a and b) or c)");
  CHECK(Parse("not a and b") == "((not a) and b)");
  CHECK(Parse("not a or not b and c") == "((not a) or ((not b) and c))");
  CHECK(Parse("not not a") == "(not (not a))");
  CHECK(Parse("a or b or c") == "((a or b) or c)");
  CHECK(Parse("a and b and c") == "((a and b) and c)");
}

TEST_CASE("parser: not binds looser than comparison", "[rules][parser]") {
  CHECK(Parse("not a == 1") == "(not (a == 1))");
  CHECK(Parse("not x in [1, 2]") == "(not (x in [1, 2]))");
  CHECK(Parse("not s contains \"a\"") == "(not (s contains \"a\"))");
  CHECK(Parse("a == 1 and b != 2 or c < 3") == "(((a == 1) and (b != 2)) or (c < 3))");
}

TEST_CASE("parser: parentheses override precedence", "[rules][parser]") {
  CHECK(Parse("(a or b) and c") == "((a or b) and c)");
  CHECK(Parse("a and (b or c)") == "(a and (b or c))");
  CHECK(Parse("not (a and b)") == "(not (a and b))");
  CHECK(Parse("((a))") == "a");
  CHECK(Parse("(a + b) * c") == "((a + b) * c)");
}

TEST_CASE("parser: every comparison operator", "[rules][parser]") {
  CHECK(Parse("a == 1") == "(a == 1)");
  CHECK(Parse("a != 1") == "(a != 1)");
  CHECK(Parse("a < 1") == "(a < 1)");
  CHECK(Parse("a <= 1") == "(a <= 1)");
  CHECK(Parse("a > 1") == "(a > 1)");
  CHECK(Parse("a >= 1") == "(a >= 1)");
  CHECK(Parse("a>=1") == "(a >= 1)");
  CHECK(Parse("  a\t==\n1  ") == "(a == 1)");
}

TEST_CASE("parser: string literals in both quotes, with escapes", "[rules][parser]") {
  CHECK(Parse("a == \"x\"") == "(a == \"x\")");
  CHECK(Parse("a == 'x'") == "(a == \"x\")");
  CHECK(Parse("a == ''") == "(a == \"\")");
  CHECK(Parse(R"(a == 'it\'s')") == R"((a == "it's"))");
  CHECK(Parse(R"(a == "say \"hi\"")") == R"((a == "say \"hi\""))");
  CHECK(Parse(R"(a == "it's")") == R"((a == "it's"))");
  CHECK(Parse(R"(a == 'say "hi"')") == R"((a == "say \"hi\""))");

  auto s = Root(R"("tab\tnl\ncr\rbs\\")");
  REQUIRE(s->kind == NodeKind::kString);
  CHECK(s->text == "tab\tnl\ncr\rbs\\");
  // Unknown escapes are kept as written, so Windows paths read naturally.
  auto path = Root(R"("C:\Windows\system32")");
  CHECK(path->text == "C:\\Windows\\system32");
}

TEST_CASE("parser: numbers, booleans and null", "[rules][parser]") {
  auto i = Root("42");
  CHECK(i->kind == NodeKind::kNumber);
  CHECK(i->is_integer);
  CHECK(i->integer == 42);

  auto d = Root("1.5");
  CHECK(d->kind == NodeKind::kNumber);
  CHECK_FALSE(d->is_integer);
  CHECK(d->number == 1.5);

  auto e = Root("2e3");
  CHECK_FALSE(e->is_integer);
  CHECK(e->number == 2000.0);
  CHECK(Parse("1.5e-3") == "0.0015");
  CHECK(Parse(".5") == "0.5");

  CHECK(Parse("x == true") == "(x == true)");
  CHECK(Parse("x == false") == "(x == false)");
  CHECK(Parse("x == null") == "(x == null)");
  CHECK(Root("true")->kind == NodeKind::kBool);
  CHECK(Root("true")->flag);
  CHECK_FALSE(Root("false")->flag);
  CHECK(Root("null")->kind == NodeKind::kNull);
  // A literal too large for int64 stays a number, as a double.
  auto big = Root("9223372036854775808");
  CHECK_FALSE(big->is_integer);
  CHECK(big->number == 9223372036854775808.0);
}

TEST_CASE("parser: lists", "[rules][parser]") {
  CHECK(Parse("x in []") == "(x in [])");
  CHECK(Parse("x in [1, 2.5, \"a\", 'b', true, null, -3]") ==
        "(x in [1, 2.5, \"a\", \"b\", true, null, -3])");
  auto in = Root("x in [1, 2]");
  REQUIRE(in->kind == NodeKind::kIn);
  CHECK_FALSE(in->flag);
  REQUIRE(in->children.size() == 2);
  CHECK(in->children[1]->kind == NodeKind::kList);
  CHECK(in->children[1]->children.size() == 2);
}

TEST_CASE("parser: dotted paths and field()", "[rules][parser]") {
  auto p = Root("source.ip");
  CHECK(p->kind == NodeKind::kPath);
  CHECK(p->text == "source.ip");
  CHECK(Parse("a.b.c.d == 1") == "(a.b.c.d == 1)");
  CHECK(Parse("@timestamp > 0") == "(@timestamp > 0)");
  CHECK(Parse("event.code_2 == 1") == "(event.code_2 == 1)");
  CHECK(Parse("steps.fail.count >= 5") == "(steps.fail.count >= 5)");

  auto f = Root("field(\"odd name.with dots\")");
  CHECK(f->kind == NodeKind::kField);
  CHECK(f->text == "odd name.with dots");
  CHECK(Parse("field('a b') == 1") == "(field(\"a b\") == 1)");
}

TEST_CASE("parser: in, not in, and named lists", "[rules][parser]") {
  CHECK(Parse("user.name in admin_users") == "(user.name in admin_users)");
  CHECK(Parse("user.name not in admin_users") == "(user.name not in admin_users)");
  CHECK(Parse("x not in [1]") == "(x not in [1])");
  auto n = Root("x not in admins");
  REQUIRE(n->kind == NodeKind::kIn);
  CHECK(n->flag);
  CHECK(n->children[1]->kind == NodeKind::kPath);
  CHECK(n->children[1]->text == "admins");
}

TEST_CASE("parser: string operators and their case-insensitive forms", "[rules][parser]") {
  CHECK(Parse("s contains \"a\"") == "(s contains \"a\")");
  CHECK(Parse("s startswith \"a\"") == "(s startswith \"a\")");
  CHECK(Parse("s endswith \"a\"") == "(s endswith \"a\")");
  CHECK(Parse("s icontains \"a\"") == "(s icontains \"a\")");
  CHECK(Parse("s istartswith \"a\"") == "(s istartswith \"a\")");
  CHECK(Parse("s iendswith \"a\"") == "(s iendswith \"a\")");
  CHECK(Parse("s contains [\"a\", \"b\"]") == "(s contains [\"a\", \"b\"])");

  auto ci = Root("s icontains 'x'");
  REQUIRE(ci->kind == NodeKind::kStringOp);
  CHECK(ci->text == "contains");
  CHECK(ci->flag);
  auto cs = Root("s endswith 'x'");
  CHECK(cs->text == "endswith");
  CHECK_FALSE(cs->flag);
}

TEST_CASE("parser: regex literals after matches, with flags", "[rules][parser]") {
  CHECK(Parse("s matches /ab+c/") == "(s matches /ab+c/)");
  CHECK(Parse("s matches /a/i") == "(s matches /a/i)");
  CHECK(Parse("s matches /a/ims") == "(s matches /a/ims)");
  CHECK(Parse("s matches /a/ii") == "(s matches /a/i)");
  CHECK(Parse("s matches /^\\d+$/ and t") == "((s matches /^\\d+$/) and t)");

  auto m = Root("s matches /x.y/si");
  REQUIRE(m->kind == NodeKind::kMatches);
  const Node& re = *m->children[1];
  CHECK(re.kind == NodeKind::kRegex);
  CHECK(re.text == "x.y");
  CHECK(re.regex_flags == "si");

  // An escaped '/' is part of the pattern.
  auto slash = Root("p matches /usr\\/bin/");
  CHECK(slash->children[1]->text == "usr/bin");
  // Other escapes stay for the regex engine.
  auto dot = Root("p matches /a\\.b/");
  CHECK(dot->children[1]->text == "a\\.b");
}

TEST_CASE("parser: arithmetic and unary minus", "[rules][parser]") {
  CHECK(Parse("a + b * c") == "(a + (b * c))");
  CHECK(Parse("a * b + c") == "((a * b) + c)");
  CHECK(Parse("a - b - c") == "((a - b) - c)");
  CHECK(Parse("a / b / c") == "((a / b) / c)");
  CHECK(Parse("a + b > c * 2") == "((a + b) > (c * 2))");
  CHECK(Parse("-a") == "(-a)");
  CHECK(Parse("-a * b") == "((-a) * b)");
  CHECK(Parse("2 * -3") == "(2 * -3)");
  CHECK(Parse("- -a") == "(-(-a))");
  CHECK(Parse("1-2") == "(1 - 2)");
  // A negated literal is folded into the literal, at the minus sign's offset.
  auto neg = Root("-5");
  CHECK(neg->kind == NodeKind::kNumber);
  CHECK(neg->integer == -5);
  CHECK(neg->number == -5.0);
  CHECK(neg->offset == 0);
  CHECK(Parse("x > -1.5") == "(x > -1.5)");
}

TEST_CASE("parser: function calls", "[rules][parser]") {
  CHECK(Parse("exists(a.b)") == "exists(a.b)");
  CHECK(Parse("lower(s) == \"x\"") == "(lower(s) == \"x\")");
  CHECK(Parse("cidr_match(ip, \"10.0.0.0/8\", \"::1\")") ==
        "cidr_match(ip, \"10.0.0.0/8\", \"::1\")");
  CHECK(Parse("f()") == "f()");
  CHECK(Parse("sum(steps.a.bytes) > 10") == "(sum(steps.a.bytes) > 10)");
  CHECK(Parse("len(upper(s)) + 1") == "(len(upper(s)) + 1)");
}

TEST_CASE("parser: node offsets point at the operator or token", "[rules][parser]") {
  auto n = Root("abc == 'x'");
  CHECK(n->offset == 4);
  CHECK(n->children[0]->offset == 0);
  CHECK(n->children[1]->offset == 7);
  auto o = Root("a or b");
  CHECK(o->offset == 2);
  CHECK(o->children[1]->offset == 5);
}

TEST_CASE("parser: errors have the right offset and a clear message", "[rules][parser]") {
  // Operators from other languages.
  CHECK(Parse("a = 1") == "error@2: '=' is not an operator; use '==' to compare");
  CHECK(Parse("a && b") == "error@2: '&' is not an operator; use 'and'");
  CHECK(Parse("a || b") == "error@2: '|' is not an operator; use 'or'");
  CHECK(Parse("!a") == "error@0: '!' is not an operator; use 'not' or '!='");
  // Strings and parentheses that do not end.
  CHECK(Parse("a == \"abc") == "error@5: unterminated string");
  CHECK(Parse("a == 'abc\\'") == "error@5: unterminated string");
  CHECK(Parse("(a == 1") == "error@7: expected ')', found end of expression");
  CHECK(Parse("(a == 1 b") == "error@8: expected ')', found 'b'");
  CHECK(Parse("f(a, b") == "error@6: expected ',' or ')' in call to f, found end of expression");
  CHECK(Parse("a == 1)") == "error@6: unexpected ')'");
  // Missing operands.
  CHECK(Parse("a ==") == "error@4: expression ends where a value was expected");
  CHECK(Parse("") == "error@0: expression ends where a value was expected");
  CHECK(Parse("a and") == "error@5: expression ends where a value was expected");
  CHECK(Parse("and b") == "error@0: expected a value before 'and'");
  CHECK(Parse("a == contains") == "error@5: expected a value before 'contains'");
  CHECK(Parse("a b") == "error@2: unexpected 'b'");
  CHECK(Parse("a == 1 == 2") == "error@7: unexpected operator");
  // Lists, in, not.
  CHECK(Parse("x in [1 2]") == "error@8: expected ',' or ']' in list, found number 2");
  CHECK(Parse("x in [1,") == "error@8: expression ends where a value was expected");
  CHECK(Parse("x in 5") == "error@5: expected a list [..] or a list name after 'in'");
  CHECK(Parse("x not y") == "error@6: expected 'in' after 'not'");
  // Numbers and odd characters.
  CHECK(Parse("x == 12ab") == "error@5: invalid number '12ab'");
  CHECK(Parse("x == 1.2.3") == "error@5: invalid number '1.2.3'");
  CHECK(Parse("x == #") == "error@5: unexpected character '#'");
  // Regexes.
  CHECK(Parse("s matches \"x\"") == "error@10: expected a regex /.../ after 'matches'");
  CHECK(Parse("s matches /abc") == "error@10: unterminated regex: expected a closing '/'");
  CHECK(Parse("s matches /abc/x") == "error@15: unknown regex flag 'x' (flags are i, m, s)");
  CHECK(Parse("s matches /abc/ix") == "error@16: unknown regex flag 'x' (flags are i, m, s)");
  // field() takes one quoted name.
  CHECK(Parse("field(a)") == "error@6: field(...) takes one quoted field name");
  CHECK(Parse("field('a', 'b')") == "error@9: expected ')' after field name");
}

TEST_CASE("parser: an error deep in the text points at the offending byte", "[rules][parser]") {
  const std::string text = "event.action == \"login\" and (user.name = \"root\")";
  ParseError err;
  REQUIRE(ParseExpression(text, &err) == nullptr);
  CHECK(err.offset == text.find(" = ") + 1);
  CHECK(err.message == "'=' is not an operator; use '==' to compare");
  // The same inside a list and a call: the lexer's message, not "expected ..., found ...".
  CHECK(Parse("x in [1 = 2]") == "error@8: '=' is not an operator; use '==' to compare");
  CHECK(Parse("lower(a = 1)") == "error@8: '=' is not an operator; use '==' to compare");
  CHECK(Parse("(a && b)") == "error@3: '&' is not an operator; use 'and'");
}

TEST_CASE("parser: Clone copies the whole tree", "[rules][parser]") {
  auto ast = Root("not (a in [1, 'x']) or s matches /q/i and -b > 2.5");
  std::unique_ptr<Node> copy = ast->Clone();
  CHECK(DebugString(*copy) == DebugString(*ast));
  CHECK(DebugString(*copy) == "((not (a in [1, \"x\"])) or ((s matches /q/i) and ((-b) > 2.5)))");
}

}  // namespace vigil::rules
