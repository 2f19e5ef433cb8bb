// Errors an expression gets at load time: names that do not exist, type errors the
// compiler can see, misuse of steps, macro cycles and regexes Hyperscan rejects.
#include <catch2/catch.hpp>
#include <string>

#include "eval_support.h"

namespace vigil::rules {
namespace {

using testing::ExprFixture;

// Every diagnostic for compiling `text` as a condition, one per line; "ok" if it compiles.
std::string Errors(ExprFixture& fx, const std::string& text) {
  fx.diags.clear();
  auto cond = fx.Condition(text);
  if (cond) {
    // A condition that compiles reports nothing.
    CHECK(fx.diags.empty());
    return "ok";
  }
  CHECK_FALSE(fx.diags.empty());
  std::string out;
  for (const Diagnostic& d : fx.diags) {
    if (!out.empty()) out += "\n";
    out += d.ToString();
  }
  return out;
}

}  // namespace

TEST_CASE("compile: an undefined list, with a did-you-mean", "[rules][compile]") {
  ExprFixture fx;
  fx.AddList("admin_users", {testing::S("root")});
  CHECK(Errors(fx, "user in admin_users") == "ok");
  CHECK(Errors(fx, "user in admin_user") ==
        "<input>: no list named 'admin_user'; did you mean 'admin_users'?");
  CHECK(Errors(fx, "user not in admn_users") ==
        "<input>: no list named 'admn_users'; did you mean 'admin_users'?");
  CHECK(Errors(fx, "user in zzz") == "<input>: no list named 'zzz'");
  // A list is not a value.
  CHECK(Errors(fx, "admin_users == 'x'") ==
        "<input>: 'admin_users' is a list; use it as 'x in admin_users'");
}

TEST_CASE("compile: an unknown function, with a did-you-mean", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "lowr(user) == 'x'") ==
        "<input>: unknown function 'lowr'; did you mean 'lower'?");
  CHECK(Errors(fx, "exist(user)") == "<input>: unknown function 'exist'; did you mean 'exists'?");
  CHECK(Errors(fx, "frobnicate(user)") == "<input>: unknown function 'frobnicate'");
}

TEST_CASE("compile: comparisons the compiler knows are always false", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "\"a\" == 1") == "<input>: comparing a string with a number is always false");
  CHECK(Errors(fx, "1 != 'a'") == "<input>: comparing a number with a string is always false");
  CHECK(Errors(fx, "true == 'a'") == "<input>: comparing a boolean with a string is always false");
  CHECK(Errors(fx, "len(s) == 'a'") == "<input>: comparing a number with a string is always false");
  CHECK(Errors(fx, "lower(s) > 3") == "<input>: comparing a string with a number is always false");
  CHECK(Errors(fx, "x < null") == "<input>: '<' with null is always false; use == null or != null");
  CHECK(Errors(fx, "null >= 1") ==
        "<input>: '>=' with null is always false; use == null or != null");
  CHECK(Errors(fx, "b < true") == "<input>: '<' does not order booleans");
  // Fields have no static type: these are checked per event.
  CHECK(Errors(fx, "x == 1") == "ok");
  CHECK(Errors(fx, "x == 'a' or x == 1") == "ok");
}

TEST_CASE("compile: arithmetic and string functions need the right types", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "\"a\" + 1 > 2") == "<input>: arithmetic needs numbers, found a string");
  CHECK(Errors(fx, "x * true > 2") == "<input>: arithmetic needs numbers, found a boolean");
  CHECK(Errors(fx, "-'a' == 1") == "<input>: arithmetic needs numbers, found a string");
  CHECK(Errors(fx, "x + 1 > 2") == "ok");
  CHECK(Errors(fx, "x contains 5") == "<input>: 'contains' needs a string, found a number");
  CHECK(Errors(fx, "x endswith ['a', 1]") == "<input>: 'endswith' needs a string, found a number");
  CHECK(Errors(fx, "5 startswith 'a'") ==
        "<input>: 'startswith' needs a string on its left, found a number");
  CHECK(Errors(fx, "5 matches /a/") ==
        "<input>: 'matches' needs a string on its left, found a number");
  CHECK(Errors(fx, "lower(5) == 'a'") == "<input>: lower() needs a string, found a number");
  CHECK(Errors(fx, "len(x, y) == 1") == "<input>: len() takes 1 argument, got 2");
  CHECK(Errors(fx, "exists('a')") == "<input>: exists() takes a field");
  CHECK(Errors(fx, "exists()") == "<input>: exists() takes 1 argument, got 0");
}

TEST_CASE("compile: cidr_match networks are checked at load time", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "cidr_match(ip)") ==
        "<input>: cidr_match() takes an address and at least one network, e.g. "
        "cidr_match(source.ip, \"10.0.0.0/8\")");
  CHECK(Errors(fx, "cidr_match(ip, \"10.0.0.0/33\")") ==
        "<input>: '10.0.0.0/33' is not an IPv4 or IPv6 network");
  CHECK(Errors(fx, "cidr_match(ip, \"10.0.0/8\")") ==
        "<input>: '10.0.0/8' is not an IPv4 or IPv6 network");
  CHECK(Errors(fx, "cidr_match(ip, \"::/129\")") ==
        "<input>: '::/129' is not an IPv4 or IPv6 network");
  CHECK(Errors(fx, "cidr_match(ip, other)") ==
        "<input>: cidr_match() networks must be quoted literals or a list name");
}

TEST_CASE("compile: values where a condition or a literal is needed", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "1 + 2") == "<input>: expected a condition (true or false), found a number");
  CHECK(Errors(fx, "'abc'") == "<input>: expected a condition (true or false), found a string");
  CHECK(Errors(fx, "lower(x)") == "<input>: expected a condition (true or false), found a string");
  CHECK(Errors(fx, "x == 1 and 5") ==
        "<input>: expected a condition (true or false), found a number");
  CHECK(Errors(fx, "not 'a'") == "<input>: expected a condition (true or false), found a string");
  CHECK(Errors(fx, "x in [y]") == "<input>: list items must be literals");
  CHECK(Errors(fx, "x == /a/") == "<input>: a regex can only follow 'matches'");
  CHECK(Errors(fx, "[1, 2]") == "<input>: a list can only follow 'in' or a string operator");
}

TEST_CASE("compile: steps.* outside a pattern", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "steps.fail.count > 1") ==
        "<input>: 'steps.fail.count': steps.* can only be used in pattern steps and templates "
        "(use field(\"steps.fail.count\") for a field of that name)");
  CHECK(Errors(fx, "sum(steps.fail.bytes) > 1") ==
        "<input>: 'steps.fail.bytes': steps.* can only be used in pattern steps and templates "
        "(use field(\"steps.fail.bytes\") for a field of that name)");
  // The escape hatch it suggests works.
  CHECK(Errors(fx, "field(\"steps.fail.count\") > 1") == "ok");
}

TEST_CASE("compile: step references inside a pattern", "[rules][compile]") {
  ExprFixture fx;
  fx.SetSteps({"fail", "success", "exfil"}, 1);  // compiling step `success`
  CHECK(Errors(fx, "steps.fail.count > 1") == "ok");
  CHECK(Errors(fx, "steps.success.count > 1") == "ok");  // its own events: iterative
  CHECK(Errors(fx, "steps.exfil.count > 1") ==
        "<input>: step 'exfil' comes later in the pattern; a condition can only read earlier "
        "steps and its own");
  CHECK(Errors(fx, "steps.fial.count > 1") ==
        "<input>: no step named 'fial'; did you mean 'fail'?");
  CHECK(Errors(fx, "steps.nothing_like_it.count > 1") ==
        "<input>: no step named 'nothing_like_it'");
  CHECK(Errors(fx, "steps.fail.bytes > 1") ==
        "<input>: expected steps.fail.first.<field>, steps.fail.last.<field> or steps.fail.count; "
        "for every event of the step use sum/avg/min/max(steps.fail.<field>)");
  CHECK(Errors(fx, "steps == 1") ==
        "<input>: expected steps.<step>.first.<field>, .last.<field> or .count");
  CHECK(Errors(fx, "sum(steps.fail.count) > 1") == "<input>: aggregates take steps.<step>.<field>");
  CHECK(Errors(fx, "avg(steps.fail.first.x) > 1") ==
        "<input>: aggregates take steps.<step>.<field>");
  CHECK(Errors(fx, "max(bytes) > 1") == "<input>: max() takes steps.<step>.<field>");
  CHECK(Errors(fx, "steps.fail.count == 'x'") ==
        "<input>: comparing a number with a string is always false");
}

TEST_CASE("compile: macro cycles are errors, not stack overflows", "[rules][compile]") {
  ExprFixture fx;
  fx.AddMacro("self", "self or x == 1");
  fx.AddMacro("ping", "pong and y");
  fx.AddMacro("pong", "not ping");
  CHECK(Errors(fx, "self") ==
        "<input>: macro 'self' refers to itself: self -> self (in macro self)");
  CHECK(Errors(fx, "ping") ==
        "<input>: macro 'ping' refers to itself: ping -> pong -> ping (in macro pong)");
  CHECK(Errors(fx, "x == 1 and pong") ==
        "<input>: macro 'pong' refers to itself: pong -> ping -> pong (in macro ping)");
  // Using a macro twice side by side is not a cycle.
  fx.AddMacro("leaf", "x == 1");
  fx.AddMacro("both", "leaf and leaf");
  CHECK(Errors(fx, "both or leaf") == "ok");
}

TEST_CASE("compile: a bare name spelt like a macro is an undefined macro", "[rules][compile]") {
  ExprFixture fx;
  fx.AddMacro("ssh_failure", "action == 'ssh' and outcome == 'failure'");
  CHECK(Errors(fx, "ssh_failur and user == 'root'") ==
        "<input>: no macro named 'ssh_failur'; did you mean 'ssh_failure'? (for a field of that "
        "name write field(\"ssh_failur\"))");
  CHECK(Errors(fx, "not ssh_falure") ==
        "<input>: no macro named 'ssh_falure'; did you mean 'ssh_failure'? (for a field of that "
        "name write field(\"ssh_falure\"))");
  // A name like no macro, a dotted path, field("...") and a comparison read fields.
  CHECK(Errors(fx, "enabled and ssh_failure") == "ok");
  CHECK(Errors(fx, "ssh.failur") == "ok");
  CHECK(Errors(fx, "field(\"ssh_failur\")") == "ok");
  CHECK(Errors(fx, "ssh_failur == true") == "ok");
}

TEST_CASE("compile: using a macro that does not parse is an error at the use", "[rules][compile]") {
  ExprFixture fx;
  fx.AddMacro("broken", "x = 1", SourcePos{"defs.yaml", 2, 11}, /*quoted=*/true);
  REQUIRE(fx.macros.at("broken").ast == nullptr);
  fx.SetStart(SourcePos{"rule.yaml", 5, 12}, /*quoted=*/true);
  CHECK(Errors(fx, "y == 2 or broken") ==
        "rule.yaml:5:23: macro 'broken' has errors (see defs.yaml:2)");
}

TEST_CASE("compile: canonical text expands macros and inlines typed lists", "[rules][compile]") {
  ExprFixture fx;
  fx.AddList("nums", {testing::I(1), testing::S("1")});
  fx.AddMacro("m", "x in nums");
  CompileScope scope;
  scope.macros = &fx.macros;
  scope.lists = &fx.lists;
  scope.fields = &fx.fields;
  CHECK(CanonicalText("m and  y", scope) == "((x in [\"1\", \"\\\"1\\\"\"]) and y)");
  CHECK(CanonicalText("x in [", scope) == "");
}

TEST_CASE("diagnostics: formatting and did-you-mean", "[rules][compile]") {
  CHECK(Diagnostic{SourcePos{"a.yaml", 3, 7}, "bad"}.ToString() == "a.yaml:3:7: bad");
  CHECK(Diagnostic{SourcePos{"a.yaml", 3, 0}, "bad"}.ToString() == "a.yaml:3:1: bad");
  CHECK(Diagnostic{SourcePos{"a.yaml", 0, 0}, "bad"}.ToString() == "a.yaml: bad");
  CHECK(Diagnostic{SourcePos{}, "bad"}.ToString() == "<input>: bad");
  const std::vector<std::string> keys = {"where", "within", "severity", "threshold"};
  CHECK(SuggestClosest("wher", keys) == "where");
  CHECK(SuggestClosest("withn", keys) == "within");
  CHECK(SuggestClosest("treshold", keys) == "threshold");
  CHECK(SuggestClosest("zzzzzz", keys) == "");
  CHECK(SuggestClosest("x", {"y"}) == "");  // no word is one edit from everything
  CHECK(SuggestClosest("abc", {}) == "");
}

TEST_CASE("compile: a regex Hyperscan cannot compile is a load error", "[rules][compile]") {
  ExprFixture fx;
  std::string backref = Errors(fx, "s matches /(a)\\1/");
  CHECK_THAT(backref, Catch::StartsWith("<input>: regex /(a)\\1/ does not compile: "));
  CHECK(backref.size() > std::string("<input>: regex /(a)\\1/ does not compile: ").size());
  CHECK_THAT(Errors(fx, "s matches /a(?=b)/"),
             Catch::StartsWith("<input>: regex /a(?=b)/ does not compile: "));
  CHECK_THAT(Errors(fx, "s matches /(unclosed/"),
             Catch::StartsWith("<input>: regex /(unclosed/ does not compile: "));
  CHECK(Errors(fx, "s matches /(a)(b)?c+/i") == "ok");
}

TEST_CASE("compile: every error of an expression is reported", "[rules][compile]") {
  ExprFixture fx;
  CHECK(Errors(fx, "\"a\" == 1 or lowr(x) or y in nope") ==
        "<input>: comparing a string with a number is always false\n"
        "<input>: unknown function 'lowr'; did you mean 'lower'?\n"
        "<input>: no list named 'nope'");
}

TEST_CASE("compile: error positions inside a scalar", "[rules][compile]") {
  ExprFixture fx;
  // A quoted scalar that starts at line 4, column 12 (the quote): offset k is at column
  // 12 + 1 + k.
  fx.SetStart(SourcePos{"r.yaml", 4, 12}, /*quoted=*/true);
  CHECK(Errors(fx, "x in nope") == "r.yaml:4:18: no list named 'nope'");
  CHECK(Errors(fx, "a == 1 and \"b\" == 2") ==
        "r.yaml:4:28: comparing a string with a number is always false");
  CHECK(Errors(fx, "a = 1") == "r.yaml:4:15: '=' is not an operator; use '==' to compare");
  // A plain scalar has no quote to skip.
  fx.SetStart(SourcePos{"r.yaml", 7, 12}, /*quoted=*/false);
  CHECK(Errors(fx, "x in nope") == "r.yaml:7:17: no list named 'nope'");
  CHECK(Errors(fx, "lowr(x)") == "r.yaml:7:12: unknown function 'lowr'; did you mean 'lower'?");
  // A multi-line scalar: the line is exact, the column counts from that line's start.
  CHECK(Errors(fx, "a == 1 and\n  b = 2") ==
        "r.yaml:8:5: '=' is not an operator; use '==' to compare");
}

TEST_CASE("compile: an error inside a macro points into the macro's definition",
          "[rules][compile]") {
  ExprFixture fx;
  fx.AddMacro("bad", "user in nope", SourcePos{"lists.yaml", 3, 8}, /*quoted=*/true);
  fx.AddMacro("outer", "x == 1 and bad", SourcePos{"lists.yaml", 4, 10}, /*quoted=*/false);
  fx.SetStart(SourcePos{"rule.yaml", 9, 12}, /*quoted=*/true);
  // 'nope' is at offset 8 of the macro: column 8 + 1 + 8.
  CHECK(Errors(fx, "bad") == "lists.yaml:3:17: no list named 'nope' (in macro bad)");
  CHECK(Errors(fx, "outer or y") == "lists.yaml:3:17: no list named 'nope' (in macro bad)");
  // After the macro, positions are the rule's again.
  CHECK(Errors(fx, "bad or lowr(z)") ==
        "lists.yaml:3:17: no list named 'nope' (in macro bad)\n"
        "rule.yaml:9:20: unknown function 'lowr'; did you mean 'lower'?");
}

}  // namespace vigil::rules
