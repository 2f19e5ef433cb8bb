// Evaluation of compiled expressions against real events, following rules.md's typing:
// strings compare as strings, numbers as numbers, anything else (or null) is false except
// `== null` and `!= null`.
#include <catch2/catch.hpp>
#include <string>

#include "eval_support.h"
#include "hyperscan.h"

namespace vigil::rules {
namespace {

using testing::B;
using testing::D;
using testing::ExprFixture;
using testing::FakeSteps;
using testing::Fields;
using testing::I;
using testing::N;
using testing::S;

// "true" or "false" for `text` over an event with `values`, or "error: ..." when the text
// does not compile. Every condition is compiled twice, with its string predicates
// evaluated directly and through the shared Hyperscan scan the loader uses; the two must
// agree.
std::string When(ExprFixture& fx, const std::string& text, const Fields& values,
                 const cep::StepEvents* steps = nullptr) {
  fx.diags.clear();
  auto cond = fx.Condition(text);
  if (!cond) return "error: " + fx.DiagText();
  auto shared = fx.SharedCondition(text);
  if (!shared.condition) return "error (shared scan only): " + fx.DiagText();
  auto event = fx.MakeEvent(values);
  bool direct = cond->Eval(cep::EvalContext{*event, steps});
  shared.scanner->Scan(event.get());
  bool scanned = shared.condition->Eval(cep::EvalContext{*event, steps});
  if (direct != scanned) {
    return std::string("direct says ") + (direct ? "true" : "false") + ", shared scan says " +
           (scanned ? "true" : "false");
  }
  return direct ? "true" : "false";
}

// The value of `text` as compact JSON, or "error: ...".
std::string ValueOf(ExprFixture& fx, const std::string& text, const Fields& values,
                    const cep::StepEvents* steps = nullptr) {
  ExprPtr e = fx.Value(text);
  if (!e) return "error: " + fx.DiagText();
  auto event = fx.MakeEvent(values);
  cep::StringArena scratch;
  std::string out;
  cep::AppendJson(EvaluateValue(*e, cep::EvalContext{*event, steps}, &scratch), &out);
  return out;
}

}  // namespace

TEST_CASE("eval: strings compare as strings", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"user.name", S("bob")}};
  CHECK(When(fx, "user.name == \"bob\"", ev) == "true");
  CHECK(When(fx, "user.name == 'Bob'", ev) == "false");
  CHECK(When(fx, "user.name != \"alice\"", ev) == "true");
  CHECK(When(fx, "user.name < \"carol\"", ev) == "true");
  CHECK(When(fx, "user.name >= \"bob\"", ev) == "true");
  CHECK(When(fx, "user.name > \"bob\"", ev) == "false");
  CHECK(When(fx, "\"a\" < \"b\"", {}) == "true");
  // An empty string is a value, not a missing one.
  const Fields empty = {{"e", S("")}};
  CHECK(When(fx, "e == \"\"", empty) == "true");
  CHECK(When(fx, "e != null", empty) == "true");
  CHECK(When(fx, "e < \"a\"", empty) == "true");
  CHECK(When(fx, "e in [\"\", \"x\"]", empty) == "true");
  CHECK(When(fx, "e startswith \"\"", empty) == "true");
  CHECK(When(fx, "e contains \"a\"", empty) == "false");
}

TEST_CASE("eval: numbers compare as numbers, int and double mixed", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"n", I(5)}, {"d", D(5.0)}, {"h", D(2.5)}};
  CHECK(When(fx, "n == 5", ev) == "true");
  CHECK(When(fx, "n == 5.0", ev) == "true");
  CHECK(When(fx, "d == 5", ev) == "true");
  CHECK(When(fx, "n == d", ev) == "true");
  CHECK(When(fx, "n < 5.5", ev) == "true");
  CHECK(When(fx, "n > 4.9", ev) == "true");
  CHECK(When(fx, "h <= 2", ev) == "false");
  CHECK(When(fx, "h > 2", ev) == "true");
  CHECK(When(fx, "n != 6", ev) == "true");
  CHECK(When(fx, "n >= -1", ev) == "true");
  CHECK(When(fx, "n == 1e1 / 2", ev) == "true");
}

TEST_CASE("eval: a string against a number is false, whatever the operator", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"s", S("5")}, {"n", I(5)}, {"b", B(true)}};
  CHECK(When(fx, "s == 5", ev) == "false");
  CHECK(When(fx, "s != 5", ev) == "false");
  CHECK(When(fx, "s < 6", ev) == "false");
  CHECK(When(fx, "n == \"5\"", ev) == "false");
  CHECK(When(fx, "n != \"5\"", ev) == "false");
  CHECK(When(fx, "s == n", ev) == "false");
  CHECK(When(fx, "s != n", ev) == "false");
  CHECK(When(fx, "b == 1", ev) == "false");
  CHECK(When(fx, "b == true", ev) == "true");
  CHECK(When(fx, "b != false", ev) == "true");
}

TEST_CASE("eval: null and missing fields", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"s", S("x")}, {"nul", N()}, {"n", I(0)}};
  // `== null` / `!= null` test presence; a JSON null is no value either.
  CHECK(When(fx, "missing == null", ev) == "true");
  CHECK(When(fx, "missing != null", ev) == "false");
  CHECK(When(fx, "nul == null", ev) == "true");
  CHECK(When(fx, "nul != null", ev) == "false");
  CHECK(When(fx, "s == null", ev) == "false");
  CHECK(When(fx, "s != null", ev) == "true");
  CHECK(When(fx, "null == s", ev) == "false");
  CHECK(When(fx, "null != s", ev) == "true");
  CHECK(When(fx, "n != null", ev) == "true");  // 0 is a value
  CHECK(When(fx, "null == null", ev) == "true");
  CHECK(When(fx, "null != null", ev) == "false");
  // Every other comparison with a missing value is false, `!=` included.
  CHECK(When(fx, "missing == \"x\"", ev) == "false");
  CHECK(When(fx, "missing != \"x\"", ev) == "false");
  CHECK(When(fx, "missing != 0", ev) == "false");
  CHECK(When(fx, "missing < 5", ev) == "false");
  CHECK(When(fx, "missing >= 5", ev) == "false");
  CHECK(When(fx, "s != missing", ev) == "false");
  CHECK(When(fx, "missing == other_missing", ev) == "false");
  // `not` of a false comparison is true.
  CHECK(When(fx, "not (missing == \"x\")", ev) == "true");
}

TEST_CASE("eval: and, or, not and a bare field as a condition", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"t", B(true)}, {"f", B(false)}, {"s", S("true")}, {"n", I(1)}};
  CHECK(When(fx, "t and not f", ev) == "true");
  CHECK(When(fx, "t and f", ev) == "false");
  CHECK(When(fx, "f or t", ev) == "true");
  CHECK(When(fx, "f or missing", ev) == "false");
  CHECK(When(fx, "t and t and (f or n == 1)", ev) == "true");
  // Only boolean true is true.
  CHECK(When(fx, "s", ev) == "false");
  CHECK(When(fx, "n", ev) == "false");
  CHECK(When(fx, "missing", ev) == "false");
  CHECK(When(fx, "not missing", ev) == "true");
  CHECK(When(fx, "true", ev) == "true");
}

TEST_CASE("eval: in and not in, with literal lists", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"s", S("b")}, {"n", I(2)}, {"d", D(2.0)}, {"one", S("1")}, {"t", B(true)}};
  CHECK(When(fx, "s in [\"a\", \"b\"]", ev) == "true");
  CHECK(When(fx, "s in ['c']", ev) == "false");
  CHECK(When(fx, "s not in [\"a\", \"b\"]", ev) == "false");
  CHECK(When(fx, "s not in ['c']", ev) == "true");
  CHECK(When(fx, "n in [1, 2]", ev) == "true");
  CHECK(When(fx, "d in [1, 2]", ev) == "true");
  CHECK(When(fx, "n in [2.0]", ev) == "true");
  CHECK(When(fx, "s in []", ev) == "false");
  CHECK(When(fx, "s not in []", ev) == "true");
  CHECK(When(fx, "t in [true]", ev) == "true");
  CHECK(When(fx, "t in [false]", ev) == "false");
  // Types do not mix: "1" is not 1.
  CHECK(When(fx, "one in [1]", ev) == "false");
  CHECK(When(fx, "n in [\"2\"]", ev) == "false");
  // A missing value is in no list, and not in is a comparison too.
  CHECK(When(fx, "missing in [\"a\"]", ev) == "false");
  CHECK(When(fx, "missing not in [\"a\"]", ev) == "false");
  CHECK(When(fx, "missing in [null, \"a\"]", ev) == "true");
}

TEST_CASE("eval: in with a named list", "[rules][eval]") {
  ExprFixture fx;
  fx.AddList("admins", {S("root"), S("admin")});
  fx.AddList("ports", {I(22), I(3389)});
  CHECK(When(fx, "user in admins", {{"user", S("root")}}) == "true");
  CHECK(When(fx, "user in admins", {{"user", S("guest")}}) == "false");
  CHECK(When(fx, "user not in admins", {{"user", S("guest")}}) == "true");
  CHECK(When(fx, "user not in admins", {{"user", S("admin")}}) == "false");
  CHECK(When(fx, "user not in admins", {}) == "false");
  CHECK(When(fx, "port in ports", {{"port", I(3389)}}) == "true");
  CHECK(When(fx, "port in ports", {{"port", D(22.0)}}) == "true");
  CHECK(When(fx, "port in ports", {{"port", S("22")}}) == "false");
}

TEST_CASE("eval: contains, startswith, endswith and the i-forms", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {
      {"cmd", S("PowerShell -EncodedCommand AAAA")}, {"needle", S("Encoded")}, {"n", I(12)}};
  CHECK(When(fx, "cmd contains \"Encoded\"", ev) == "true");
  CHECK(When(fx, "cmd contains \"encoded\"", ev) == "false");
  CHECK(When(fx, "cmd icontains \"ENCODED\"", ev) == "true");
  CHECK(When(fx, "cmd startswith \"Power\"", ev) == "true");
  CHECK(When(fx, "cmd startswith \"power\"", ev) == "false");
  CHECK(When(fx, "cmd istartswith \"POWERSHELL\"", ev) == "true");
  CHECK(When(fx, "cmd endswith \"AAAA\"", ev) == "true");
  CHECK(When(fx, "cmd endswith \"aaaa\"", ev) == "false");
  CHECK(When(fx, "cmd iendswith \"aaaa\"", ev) == "true");
  CHECK(When(fx, "cmd istartswith \"AAAA\"", ev) == "false");
  CHECK(When(fx, "cmd endswith \"a much longer suffix than the subject itself\"", ev) == "false");
  CHECK(When(fx, "cmd contains \"\"", ev) == "true");
  // The needle may be another field.
  CHECK(When(fx, "cmd contains needle", ev) == "true");
  CHECK(When(fx, "cmd contains missing", ev) == "false");
  // Non-strings and missing fields contain nothing.
  CHECK(When(fx, "n contains \"1\"", ev) == "false");
  CHECK(When(fx, "missing contains \"a\"", ev) == "false");
  CHECK(When(fx, "not (missing contains \"a\")", ev) == "true");
}

TEST_CASE("eval: a string operator with a list of needles means any of them", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"cmd", S("certutil -urlcache -f http://x")}};
  CHECK(When(fx, "cmd contains [\"mimikatz\", \"urlcache\"]", ev) == "true");
  CHECK(When(fx, "cmd contains [\"mimikatz\", \"psexec\"]", ev) == "false");
  CHECK(When(fx, "cmd icontains [\"URLCACHE\"]", ev) == "true");
  CHECK(When(fx, "cmd startswith [\"bitsadmin\", \"certutil\"]", ev) == "true");
  CHECK(When(fx, "cmd endswith [\"http://x\", \"y\"]", ev) == "true");
  CHECK(When(fx, "cmd contains []", ev) == "false");
}

TEST_CASE("eval: matches with regex flags", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"s", S("Hello World")}, {"ml", S("first\nsecond")}, {"n", I(5)}};
  CHECK(When(fx, "s matches /^Hello/", ev) == "true");
  CHECK(When(fx, "s matches /^hello/", ev) == "false");
  CHECK(When(fx, "s matches /^hello/i", ev) == "true");
  CHECK(When(fx, "s matches /W.rld$/", ev) == "true");
  CHECK(When(fx, "s matches /o{2}/", ev) == "false");
  CHECK(When(fx, "s matches /l{2}/", ev) == "true");
  CHECK(When(fx, "s matches /\\s/", ev) == "true");
  // m: ^ and $ at line breaks; s: '.' matches a newline.
  CHECK(When(fx, "ml matches /^second$/", ev) == "false");
  CHECK(When(fx, "ml matches /^second$/m", ev) == "true");
  CHECK(When(fx, "ml matches /first.second/", ev) == "false");
  CHECK(When(fx, "ml matches /first.second/s", ev) == "true");
  // Only strings match.
  CHECK(When(fx, "n matches /5/", ev) == "false");
  CHECK(When(fx, "missing matches /.*/", ev) == "false");
  CHECK(When(fx, "s matches /a\\/b/", {{"s", S("x/a/b")}}) == "true");
  // The empty string is a string too.
  CHECK(When(fx, "e matches /^$/", {{"e", S("")}}) == "true");
  CHECK(When(fx, "e matches /a*/", {{"e", S("")}}) == "true");
  CHECK(When(fx, "e matches /a/", {{"e", S("")}}) == "false");
}

TEST_CASE("hyperscan: an escaped literal matches byte for byte", "[rules][eval]") {
  const std::string literal = "C:\\Windows\\*.exe (x86) [a-z]+ \xc3\xa9";
  std::string escaped = HsEscapeLiteral(literal);
  auto db = HsDatabase::Compile({HsPattern{escaped, HS_FLAG_SINGLEMATCH, 0}}, nullptr);
  REQUIRE(db.ok());
  CHECK(db.value()->Matches("run " + literal + " now"));
  CHECK_FALSE(db.value()->Matches("C:\\Windows\\a.exe (x86) b \xc3\xa9"));
  CHECK(HsEscapeLiteral("a.b c_1") == "a\\x2eb c_1");
  size_t bad = 99;
  auto err = HsDatabase::Compile(
      {HsPattern{"ok", 0, 0}, HsPattern{"(a)\\1", HS_FLAG_SINGLEMATCH, 1}}, &bad);
  REQUIRE_FALSE(err.ok());
  CHECK(bad == 1);
  CHECK_FALSE(err.status().message().empty());
}

TEST_CASE("eval: exists() and field()", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"a.b", S("x")}, {"odd name", I(7)}, {"nul", N()}, {"zero", I(0)}};
  CHECK(When(fx, "exists(a.b)", ev) == "true");
  CHECK(When(fx, "exists(a.c)", ev) == "false");
  CHECK(When(fx, "exists(nul)", ev) == "false");
  CHECK(When(fx, "exists(zero)", ev) == "true");
  CHECK(When(fx, "exists(field(\"odd name\"))", ev) == "true");
  CHECK(When(fx, "field(\"odd name\") == 7", ev) == "true");
  CHECK(When(fx, "not exists(a.c)", ev) == "true");
}

TEST_CASE("eval: lower, upper and len", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {
      {"s", S("AdMin")}, {"u", S("h\xC3\xA9llo \xE2\x82\xAC")}, {"n", I(3)}, {"e", S("")}};
  CHECK(ValueOf(fx, "lower(s)", ev) == "\"admin\"");
  CHECK(ValueOf(fx, "upper(s)", ev) == "\"ADMIN\"");
  CHECK(ValueOf(fx, "lower(\"abc\")", ev) == "\"abc\"");
  CHECK(When(fx, "lower(s) == \"admin\"", ev) == "true");
  CHECK(When(fx, "upper(s) in [\"ADMIN\", \"ROOT\"]", ev) == "true");
  // len counts characters (UTF-8 code points), not bytes: "héllo €" is 7.
  CHECK(ValueOf(fx, "len(u)", ev) == "7");
  CHECK(ValueOf(fx, "len(s)", ev) == "5");
  CHECK(ValueOf(fx, "len(e)", ev) == "0");
  CHECK(When(fx, "len(s) > 4", ev) == "true");
  // Not a string: null, so comparisons with it are false.
  CHECK(ValueOf(fx, "len(n)", ev) == "null");
  CHECK(ValueOf(fx, "lower(n)", ev) == "null");
  CHECK(ValueOf(fx, "upper(missing)", ev) == "null");
  CHECK(When(fx, "len(missing) == 0", ev) == "false");
  CHECK(When(fx, "lower(missing) == null", ev) == "true");
}

TEST_CASE("eval: cidr_match for IPv4 and IPv6", "[rules][eval]") {
  ExprFixture fx;
  auto ip = [&](const std::string& cond, const char* addr) {
    return When(fx, cond, {{"ip", S(addr)}});
  };
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "10.1.2.3") == "true");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "11.1.2.3") == "false");
  CHECK(ip("cidr_match(ip, \"172.16.0.0/12\")", "172.31.255.255") == "true");
  CHECK(ip("cidr_match(ip, \"172.16.0.0/12\")", "172.32.0.1") == "false");
  CHECK(ip("cidr_match(ip, \"192.168.1.7\")", "192.168.1.7") == "true");
  CHECK(ip("cidr_match(ip, \"192.168.1.7/32\")", "192.168.1.8") == "false");
  CHECK(ip("cidr_match(ip, \"0.0.0.0/0\")", "8.8.8.8") == "true");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\", \"192.168.0.0/16\")", "192.168.4.4") == "true");
  // IPv6, with and without a zone.
  CHECK(ip("cidr_match(ip, \"2001:db8::/32\")", "2001:db8:1::1") == "true");
  CHECK(ip("cidr_match(ip, \"2001:db8::/32\")", "2001:db9::1") == "false");
  CHECK(ip("cidr_match(ip, \"fe80::/10\")", "fe80::1%eth0") == "true");
  CHECK(ip("cidr_match(ip, \"::1\")", "::1") == "true");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\", \"fc00::/7\")", "fd12:3456::1") == "true");
  CHECK(ip("cidr_match(ip, \"2001:db8::/32\")", "10.0.0.1") == "false");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "2001:db8::1") == "false");
  // Not an address: false, never an error.
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "not-an-ip") == "false");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "10.0.0.256") == "false");
  CHECK(ip("cidr_match(ip, \"10.0.0.0/8\")", "") == "false");
  CHECK(When(fx, "cidr_match(ip, \"10.0.0.0/8\")", {{"ip", I(10)}}) == "false");
  CHECK(When(fx, "cidr_match(ip, \"10.0.0.0/8\")", {}) == "false");
  // Networks from a named list.
  fx.AddList("internal", {S("10.0.0.0/8"), S("fd00::/8")});
  CHECK(ip("cidr_match(ip, internal)", "fd00::5") == "true");
  CHECK(ip("cidr_match(ip, internal)", "10.9.9.9") == "true");
  CHECK(ip("cidr_match(ip, internal)", "8.8.8.8") == "false");
}

TEST_CASE("eval: arithmetic on numbers", "[rules][eval]") {
  ExprFixture fx;
  const Fields ev = {{"n", I(5)}, {"d", D(1.5)}, {"z", I(0)}, {"s", S("3")}};
  CHECK(ValueOf(fx, "n + 1", ev) == "6");
  CHECK(ValueOf(fx, "n - 10", ev) == "-5");
  CHECK(ValueOf(fx, "n * 3", ev) == "15");
  CHECK(ValueOf(fx, "n / 2", ev) == "2.5");
  CHECK(ValueOf(fx, "n + d", ev) == "6.5");
  CHECK(ValueOf(fx, "-n", ev) == "-5");
  CHECK(ValueOf(fx, "-d", ev) == "-1.5");
  CHECK(ValueOf(fx, "2 + 3 * 4", ev) == "14");
  CHECK(ValueOf(fx, "(2 + 3) * 4", ev) == "20");
  // Integer overflow falls back to a double rather than wrapping.
  CHECK(ValueOf(fx, "9223372036854775807 + 1", ev) == "9223372036854775808");
  // Division by zero, strings and missing fields give null.
  CHECK(ValueOf(fx, "n / 0", ev) == "null");
  CHECK(ValueOf(fx, "n / z", ev) == "null");
  CHECK(ValueOf(fx, "d / 0.0", ev) == "null");
  CHECK(ValueOf(fx, "s + 1", ev) == "null");
  CHECK(ValueOf(fx, "missing * 2", ev) == "null");
  CHECK(ValueOf(fx, "-s", ev) == "null");
  // ... so a condition on them is false, and `== null` sees it.
  CHECK(When(fx, "n / z > 0", ev) == "false");
  CHECK(When(fx, "n / z < 0", ev) == "false");
  CHECK(When(fx, "n / z == null", ev) == "true");
  CHECK(When(fx, "n * 2 == 10", ev) == "true");
  CHECK(When(fx, "n / 2 == 2.5", ev) == "true");
}

TEST_CASE("eval: macros expand where named", "[rules][eval]") {
  ExprFixture fx;
  fx.AddMacro("is_root", "user == \"root\"");
  fx.AddMacro("ssh", "action == 'ssh' and is_root");
  CHECK(When(fx, "ssh", {{"action", S("ssh")}, {"user", S("root")}}) == "true");
  CHECK(When(fx, "ssh", {{"action", S("ssh")}, {"user", S("bob")}}) == "false");
  CHECK(When(fx, "not is_root", {{"user", S("bob")}}) == "true");
}

TEST_CASE("eval: steps.<name>.count, first and last", "[rules][eval]") {
  ExprFixture fx;
  fx.SetSteps({"fail", "success"}, 1);
  auto mk = [&](const char* user, int64_t bytes) {
    return fx.MakeEvent({{"user", S(user)}, {"bytes", I(bytes)}});
  };
  FakeSteps steps(2);
  steps.Add(0, mk("a", 10));
  steps.Add(0, mk("b", 20));
  steps.Add(0, mk("c", 30));
  const Fields now = {{"user", S("c")}};
  CHECK(ValueOf(fx, "steps.fail.count", now, &steps) == "3");
  CHECK(ValueOf(fx, "steps.fail.first.user", now, &steps) == "\"a\"");
  CHECK(ValueOf(fx, "steps.fail.last.user", now, &steps) == "\"c\"");
  CHECK(ValueOf(fx, "steps.fail.last.bytes", now, &steps) == "30");
  CHECK(ValueOf(fx, "steps.fail.first.nope", now, &steps) == "null");
  CHECK(When(fx, "steps.fail.count >= 3 and user == steps.fail.last.user", now, &steps) == "true");
  CHECK(When(fx, "user == steps.fail.first.user", now, &steps) == "false");
  CHECK(When(fx, "steps.fail.last.bytes - steps.fail.first.bytes == 20", now, &steps) == "true");
}

TEST_CASE("eval: sum, avg, min and max over a step's events", "[rules][eval]") {
  ExprFixture fx;
  fx.SetSteps({"fail", "success"}, 1);
  FakeSteps steps(2);
  steps.Add(0, fx.MakeEvent({{"bytes", I(10)}, {"ratio", D(0.5)}}));
  steps.Add(0, fx.MakeEvent({{"bytes", I(40)}, {"ratio", D(1.0)}}));
  steps.Add(0, fx.MakeEvent({{"bytes", S("many")}}));  // not a number: not counted
  steps.Add(0, fx.MakeEvent({{"bytes", I(25)}}));      // no ratio: not counted
  CHECK(ValueOf(fx, "sum(steps.fail.bytes)", {}, &steps) == "75");
  CHECK(ValueOf(fx, "avg(steps.fail.bytes)", {}, &steps) == "25");
  CHECK(ValueOf(fx, "min(steps.fail.bytes)", {}, &steps) == "10");
  CHECK(ValueOf(fx, "max(steps.fail.bytes)", {}, &steps) == "40");
  CHECK(ValueOf(fx, "sum(steps.fail.ratio)", {}, &steps) == "1.5");
  CHECK(ValueOf(fx, "avg(steps.fail.ratio)", {}, &steps) == "0.75");
  CHECK(ValueOf(fx, "min(steps.fail.ratio)", {}, &steps) == "0.5");
  CHECK(When(fx, "sum(steps.fail.bytes) > 70 and avg(steps.fail.bytes) == 25", {}, &steps) ==
        "true");
}

TEST_CASE("eval: a step with no events has count and sum 0, the rest null", "[rules][eval]") {
  ExprFixture fx;
  fx.SetSteps({"fail", "success"}, 1);
  FakeSteps steps(2);
  steps.Add(0, fx.MakeEvent({{"bytes", I(1)}}));
  CHECK(ValueOf(fx, "steps.success.count", {}, &steps) == "0");
  CHECK(ValueOf(fx, "sum(steps.success.bytes)", {}, &steps) == "0");
  CHECK(ValueOf(fx, "steps.success.first.bytes", {}, &steps) == "null");
  CHECK(ValueOf(fx, "steps.success.last.bytes", {}, &steps) == "null");
  CHECK(ValueOf(fx, "avg(steps.success.bytes)", {}, &steps) == "null");
  CHECK(ValueOf(fx, "min(steps.success.bytes)", {}, &steps) == "null");
  CHECK(ValueOf(fx, "max(steps.success.bytes)", {}, &steps) == "null");
  // Events that lack the field count like no events at all.
  CHECK(ValueOf(fx, "sum(steps.fail.other)", {}, &steps) == "0");
  CHECK(ValueOf(fx, "avg(steps.fail.other)", {}, &steps) == "null");
  // Without a partial match (steps == null) the same holds.
  CHECK(ValueOf(fx, "steps.fail.count", {}) == "0");
  CHECK(ValueOf(fx, "steps.fail.first.bytes", {}) == "null");
  CHECK(When(fx, "steps.success.count == 0 and steps.success.last.bytes == null", {}, &steps) ==
        "true");
}

TEST_CASE("eval: a condition says whether it reads steps", "[rules][eval]") {
  ExprFixture fx;
  fx.SetSteps({"a", "b"}, 1);
  auto plain = fx.Condition("x == 1");
  auto iterative = fx.Condition("x == 1 or steps.a.count > 2");
  auto aggregate = fx.Condition("max(steps.b.x) > 2");
  REQUIRE(plain);
  REQUIRE(iterative);
  REQUIRE(aggregate);
  CHECK_FALSE(plain->UsesSteps());
  CHECK(iterative->UsesSteps());
  CHECK(aggregate->UsesSteps());
}

}  // namespace vigil::rules

namespace vigil::rules {
namespace {

cep::Value J(std::string_view json) { return cep::Value::Json(json); }

}  // namespace

TEST_CASE("eval: an array field matches when any element does", "[rules][eval][array]") {
  ExprFixture fx;
  const Fields ev = {{"event.category", J(R"(["network", "intrusion_detection"])")},
                     {"related.ip", J(R"([ "10.0.0.1" , "fe80::1" ])")},
                     {"ports", J("[22, 443, 8080]")},
                     {"flags", J("[true]")},
                     {"mixed", J(R"(["a\"b", "caf\u00e9", 7, null, [1, 2], {"k": "network"}])")},
                     {"empty", J("[]")},
                     {"obj", J(R"({"network": 1})")}};
  CHECK(When(fx, R"(event.category == "network")", ev) == "true");
  CHECK(When(fx, R"(event.category == "web")", ev) == "false");
  CHECK(When(fx, R"("network" == event.category)", ev) == "true");
  CHECK(When(fx, R"(event.category in ["web", "intrusion_detection"])", ev) == "true");
  CHECK(When(fx, R"(event.category not in ["web", "file"])", ev) == "true");
  CHECK(When(fx, R"(event.category not in ["network"])", ev) == "false");
  CHECK(When(fx, R"(event.category contains "work")", ev) == "true");
  CHECK(When(fx, R"(event.category startswith "intr")", ev) == "true");
  CHECK(When(fx, R"(event.category endswith "detection")", ev) == "true");
  CHECK(When(fx, R"(event.category startswith "detection")", ev) == "false");  // per element
  CHECK(When(fx, R"(event.category icontains "NETWORK")", ev) == "true");
  CHECK(When(fx, R"(event.category matches /^intrusion_/)", ev) == "true");
  CHECK(When(fx, R"(cidr_match(related.ip, "10.0.0.0/8"))", ev) == "true");
  CHECK(When(fx, R"(cidr_match(related.ip, "192.168.0.0/16"))", ev) == "false");
  CHECK(When(fx, R"(ports == 443)", ev) == "true");
  CHECK(When(fx, R"(ports > 8000)", ev) == "true");
  CHECK(When(fx, R"(ports < 22)", ev) == "false");
  CHECK(When(fx, R"(ports != 443)", ev) == "false");  // one element is 443
  CHECK(When(fx, R"(ports != 25)", ev) == "true");    // none is
  CHECK(When(fx, R"(ports != "22")", ev) == "false"); // no element is a string: not comparable
  CHECK(When(fx, R"(flags == true)", ev) == "true");
  CHECK(When(fx, R"(mixed == "a\"b")", ev) == "true");  // escapes are undone
  CHECK(When(fx, R"(mixed == "café")", ev) == "true");
  CHECK(When(fx, R"(mixed == 7)", ev) == "true");
  CHECK(When(fx, R"(mixed == "network")", ev) == "false");  // nested values are not elements
  CHECK(When(fx, R"(empty == "x")", ev) == "false");
  CHECK(When(fx, R"(empty != "x")", ev) == "false");
  CHECK(When(fx, R"(empty not in ["x"])", ev) == "true");
  CHECK(When(fx, R"(obj == "network")", ev) == "false");  // objects are not arrays
  CHECK(ValueOf(fx, "len(ports)", ev) == "3");
  CHECK(ValueOf(fx, "len(empty)", ev) == "0");
  CHECK(ValueOf(fx, "len(mixed)", ev) == "6");
}

}  // namespace vigil::rules
