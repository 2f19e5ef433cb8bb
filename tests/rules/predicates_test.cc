// The shared string predicates (architecture decision 1): every contains / startswith /
// endswith (and i-form) and `matches` on a plain field, across all rules of a ruleset, in
// one Hyperscan database per field; one scan per field per event; conditions read bits.
#include "vigil/rules/predicates.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "loader_support.h"
#include "support/temp_dir.h"

namespace vigil::rules {
namespace {

using testing::LoadPaths;
using testing::LoadYaml;
using Fields = std::vector<std::pair<std::string, cep::Value>>;
using Ids = std::vector<std::string>;

cep::Value S(std::string_view s) {
  return cep::Value::String(s);
}

// An event with `values` (strings and JSON copied in), scanned by the ruleset's scanner.
std::unique_ptr<cep::Event> Scanned(const testing::Loaded& l, const Fields& values,
                                    PredicateScanStats* stats = nullptr) {
  for (const auto& [path, v] : values)
    l.fields->Intern(path);
  auto e = std::make_unique<cep::Event>();
  e->ResetFields(l.fields->size());
  for (const auto& [path, v] : values) {
    cep::Value copy = v;
    if (v.kind == cep::ValueKind::kString || v.kind == cep::ValueKind::kJson) {
      copy.s = e->CopyString(v.s);
    }
    e->SetField(*l.fields->Find(path), copy);
  }
  l.ruleset.predicates->Scan(e.get(), stats);
  return e;
}

// The ids of the single-event rules whose `where` holds for the event.
Ids Firing(const testing::Loaded& l, const Fields& values) {
  auto e = Scanned(l, values);
  Ids out;
  for (const Rule& r : l.ruleset.rules) {
    if (r.spec.where->Eval(cep::EvalContext{*e, nullptr})) out.push_back(r.id);
  }
  return out;
}

// One rule per line of `wheres`: "id: expression".
std::string Rules(const std::vector<std::pair<std::string, std::string>>& wheres) {
  std::string y = "rules:\n";
  for (const auto& [id, where] : wheres) {
    y += "  - id: " + id + "\n    where: '" + where + "'\n";
  }
  return y;
}

}  // namespace

TEST_CASE("predicates: every string operator and its i-form through the shared scan",
          "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"contains", "cmd contains \"Enc\""},
                           {"icontains", "cmd icontains \"ENC\""},
                           {"startswith", "cmd startswith \"Power\""},
                           {"istartswith", "cmd istartswith \"POWER\""},
                           {"endswith", "cmd endswith \"AAA\""},
                           {"iendswith", "cmd iendswith \"aaa\""},
                           {"matches", "cmd matches /-enc(odedcommand)? [A-Z]+/"},
                           {"matches-i", "cmd matches /-ENC [a-z]+/i"}}));
  REQUIRE(l->Errors() == "");
  // All eight are shared predicates of one field, in one database.
  CHECK(l->ruleset.predicates->predicate_count() == 8);
  CHECK(l->ruleset.predicates->field_count() == 1);
  CHECK(l->ruleset.predicates->database_count() == 1);
  CHECK(Firing(*l, {{"cmd", S("PowerShell -Enc AAA")}}) ==
        Ids{"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
            "matches-i"});
  CHECK(Firing(*l, {{"cmd", S("powershell -enc aaa")}}) ==
        Ids{"icontains", "istartswith", "iendswith", "matches-i"});
  CHECK(Firing(*l, {{"cmd", S("x -encodedcommand ABC")}}) == Ids{"icontains", "matches"});
  CHECK(Firing(*l, {{"cmd", S("nothing here")}}) == Ids{});
}

TEST_CASE("predicates: startswith and endswith are anchored at the very start and end",
          "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"starts", "cmd startswith \"abc\""},
                           {"ends", "cmd endswith \"abc\""},
                           {"dollar", "cmd matches /abc$/"},
                           {"line-start", "cmd matches /^abc/m"}}));
  REQUIRE(l->Errors() == "");
  CHECK(Firing(*l, {{"cmd", S("abc")}}) == Ids{"starts", "ends", "dollar", "line-start"});
  CHECK(Firing(*l, {{"cmd", S("xabcx")}}) == Ids{});
  // Not at a line start: startswith is the start of the value; /^.../m is any line.
  CHECK(Firing(*l, {{"cmd", S("x\nabc!")}}) == Ids{"line-start"});
  // A trailing newline: PCRE's $ matches before it, endswith does not.
  CHECK(Firing(*l, {{"cmd", S("xabc\n")}}) == Ids{"dollar"});
  // The needle longer than the value.
  CHECK(Firing(*l, {{"cmd", S("ab")}}) == Ids{});
}

TEST_CASE("predicates: regex flags i, m and s", "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"plain", "s matches /^second$/"},
                           {"m", "s matches /^second$/m"},
                           {"dot", "s matches /first.second/"},
                           {"s", "s matches /first.second/s"},
                           {"i", "s matches /FIRST/i"},
                           {"ims", "s matches /^FIRST.SECOND$/ims"}}));
  REQUIRE(l->Errors() == "");
  CHECK(Firing(*l, {{"s", S("first\nsecond")}}) == Ids{"m", "s", "i", "ims"});
  CHECK(Firing(*l, {{"s", S("second")}}) == Ids{"plain", "m"});
}

TEST_CASE("predicates: empty needles and regexes that match the empty string",
          "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"contains-empty", "s contains \"\""},
                           {"starts-empty", "s startswith \"\""},
                           {"ends-empty", "s iendswith \"\""},
                           {"star", "s matches /a*/"},
                           {"empty-line", "s matches /^$/"}}));
  REQUIRE(l->Errors() == "");
  // Every string contains the empty string, the empty one too; a regex that can match
  // nothing matches everywhere (as in PCRE).
  CHECK(Firing(*l, {{"s", S("")}}) ==
        Ids{"contains-empty", "starts-empty", "ends-empty", "star", "empty-line"});
  CHECK(Firing(*l, {{"s", S("xyz")}}) ==
        Ids{"contains-empty", "starts-empty", "ends-empty", "star"});
  // Not a string: false, however empty the needle.
  CHECK(Firing(*l, {{"s", cep::Value::Int(0)}}) == Ids{});
  CHECK(Firing(*l, {}) == Ids{});
}

TEST_CASE("predicates: missing and non-string fields set no bits", "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"contains", "v contains \"1\""},
                           {"regex", "v matches /.*/"},
                           {"negated", "not (v contains \"1\")"}}));
  REQUIRE(l->Errors() == "");
  const Fields kinds[] = {{},
                          {{"v", cep::Value::Null()}},
                          {{"v", cep::Value::Int(1)}},
                          {{"v", cep::Value::Double(1.5)}},
                          {{"v", cep::Value::Bool(true)}},
                          {{"v", cep::Value::Json("{\"a\":\"1\"}")}}};
  for (const Fields& f : kinds) {
    PredicateScanStats stats;
    auto e = Scanned(*l, f, &stats);
    CHECK(stats.fields_scanned == 0);
    for (uint64_t w : e->predicate_bits)
      CHECK(w == 0);
    CHECK(Firing(*l, f) == Ids{"negated"});
  }
  CHECK(Firing(*l, {{"v", S("1")}}) == Ids{"contains", "regex"});
}

TEST_CASE("predicates: caseless matching folds ASCII letters only, as direct evaluation does",
          "[rules][predicates]") {
  auto l = LoadYaml(Rules({{"e-acute", "s icontains \"\xc3\xa9t\xc3\xa9\""},
                           {"ascii", "s icontains \"ETE\""},
                           {"bytes", "s contains \"a\\tb \\\"q\\\" [x]\""}}));
  REQUIRE(l->Errors() == "");
  CHECK(Firing(*l, {{"s", S("\xc3\xa9T\xc3\xa9")}}) == Ids{"e-acute"});
  // É (C3 89) is not é (C3 A9) to an ASCII fold.
  CHECK(Firing(*l, {{"s", S("\xc3\x89T\xc3\x89")}}) == Ids{});
  CHECK(Firing(*l, {{"s", S("ete")}}) == Ids{"ascii"});
  CHECK(Firing(*l, {{"s", S("-a\tb \"q\" [x]-")}}) == Ids{"bytes"});
  CHECK(Firing(*l, {{"s", S("-a\tb \"q\" x-")}}) == Ids{});
}

TEST_CASE("predicates: identical predicates across rules share one bit", "[rules][predicates]") {
  auto l = LoadYaml(
      "macros:\n"
      "  is_mimikatz: 'cmd icontains \"MimiKatz\"'\n" +
      Rules({{"a", "cmd icontains \"mimikatz\""},
             {"b", "is_mimikatz"},
             {"c", "cmd icontains \"MIMIKATZ\" or cmd icontains [\"mimikatz\"]"},
             {"d", "cmd contains \"mimikatz\""},
             {"e", "cmd matches /mimikatz/i"},
             {"f", "user contains \"mimikatz\""}}));
  REQUIRE(l->Errors() == "");
  // Case-insensitive needles fold to one predicate; case-sensitive, regex and another
  // field's are others. The regex /mimikatz/i is the same pattern but may match empty
  // strings (Hyperscan's ALLOWEMPTY), so it stays its own bit.
  CHECK(l->ruleset.predicates->predicate_count() == 4);
  CHECK(l->ruleset.predicates->field_count() == 2);
  auto bit = [&](const std::string& id) {
    cep::ConditionIndex i = l->rule(id).spec.where->Index();
    REQUIRE(i.kind == cep::ConditionIndex::Kind::kPredicateBit);
    return i.bit;
  };
  CHECK(bit("a") == bit("b"));
  CHECK(bit("a") == bit("c"));  // `or` of one predicate with itself: still one bit
  CHECK(bit("a") != bit("d"));
  CHECK(bit("d") != bit("f"));
  CHECK(Firing(*l, {{"cmd", S("run MIMIkatz.exe")}}) == Ids{"a", "b", "c", "e"});
  CHECK(Firing(*l, {{"cmd", S("mimikatz")}, {"user", S("mimikatz")}}) ==
        Ids{"a", "b", "c", "d", "e", "f"});
}

TEST_CASE("predicates: many rules on one field share one database, scanned once per event",
          "[rules][predicates]") {
  std::vector<std::pair<std::string, std::string>> wheres;
  for (int i = 0; i < 200; ++i) {
    std::string n = std::to_string(i);
    std::string w = i % 4 == 0   ? "cmd contains \"tool" + n + ".exe\""
                    : i % 4 == 1 ? "cmd istartswith \"C:\\\\Temp\\\\" + n + "\""
                    : i % 4 == 2 ? "cmd matches /-arg" + n + "=[0-9]+/"
                                 : "cmd endswith \" /x" + n + "\" and user != \"root\"";
    wheres.emplace_back("r" + n, w);
  }
  wheres.emplace_back("user-rule", "user startswith \"svc_\"");
  auto l = LoadYaml(Rules(wheres));
  REQUIRE(l->Errors() == "");
  const PredicateScanner& scanner = *l->ruleset.predicates;
  CHECK(scanner.predicate_count() == 201);
  CHECK(scanner.field_count() == 2);
  CHECK(scanner.database_count() == 2);
  PredicateScanStats stats;
  Scanned(*l, {{"cmd", S("c:\\temp\\5 -arg2=1 tool8.exe /x3")}, {"user", S("svc_backup")}}, &stats);
  Scanned(*l, {{"cmd", S("nothing")}}, &stats);
  Scanned(*l, {{"user", S("alice")}}, &stats);
  // Three events, four string fields among them: four scans, whatever the rule count.
  CHECK(stats.events == 3);
  CHECK(stats.fields_scanned == 4);
  CHECK(stats.scan_errors == 0);
  CHECK(Firing(*l, {{"cmd", S("c:\\temp\\5 -arg2=1 tool8.exe /x3")}, {"user", S("svc_backup")}}) ==
        Ids{"r2", "r3", "r5", "r8", "user-rule"});
  CHECK(Firing(*l, {{"cmd", S("c:\\temp\\5 -arg2=1 tool8.exe /x3")}, {"user", S("root")}}) ==
        Ids{"r2", "r5", "r8"});
}

TEST_CASE("predicates: a reused event keeps its bit storage", "[rules][predicates]") {
  std::vector<std::pair<std::string, std::string>> wheres;
  for (int i = 0; i < 130; ++i)
    wheres.emplace_back("r" + std::to_string(i), "s contains \"[" + std::to_string(i) + "]\"");
  auto l = LoadYaml(Rules(wheres));
  REQUIRE(l->Errors() == "");
  auto e = Scanned(*l, {{"s", S("[129]")}});
  REQUIRE(e->predicate_bits.size() == 3);  // 130 bits
  const uint64_t* storage = e->predicate_bits.data();
  for (const char* v : {"[1]", "nothing", "[64] [65]"}) {
    cep::Value s = cep::Value::String(e->CopyString(v));
    e->SetField(*l->fields->Find("s"), s);
    l->ruleset.predicates->Scan(e.get());
    CHECK(e->predicate_bits.data() == storage);
  }
  // The last scan's bits only: [64] and [65] (no leftovers of [1] or [129]).
  size_t set = 0;
  for (uint64_t w : e->predicate_bits)
    set += static_cast<size_t>(__builtin_popcountll(w));
  CHECK(set == 2);
}

TEST_CASE(
    "predicates: computed subjects, step references and field needles are evaluated "
    "directly",
    "[rules][predicates]") {
  auto l = LoadYaml(
      "rules:\n"
      "  - id: lower\n    where: 'lower(cmd) contains \"abc\"'\n"
      "  - id: needle-field\n    where: 'cmd contains needle'\n"
      "  - id: lower-regex\n    where: 'upper(cmd) matches /^ABC/'\n"
      "  - id: seq\n    within: 1m\n    pattern:\n"
      "      - step: a\n        where: 'cmd == \"start\"'\n"
      "      - step: b\n        where: 'steps.a.first.cmd startswith \"st\"'\n"
      "    output: '{{ cmd contains \"x\" }}'\n");
  REQUIRE(l->Errors() == "");
  CHECK(l->ruleset.predicates->predicate_count() == 0);
  CHECK(l->ruleset.predicates->field_count() == 0);
  auto e = Scanned(*l, {{"cmd", S("xABCx")}, {"needle", S("BC")}});
  CHECK(l->rule("lower").spec.where->Eval(cep::EvalContext{*e, nullptr}));
  CHECK(l->rule("needle-field").spec.where->Eval(cep::EvalContext{*e, nullptr}));
  CHECK_FALSE(l->rule("lower-regex").spec.where->Eval(cep::EvalContext{*e, nullptr}));
}

TEST_CASE("predicates: an or of string predicates indexes as any of their bits",
          "[rules][predicates]") {
  auto l =
      LoadYaml(Rules({{"or", "cmd contains \"psexec\" or cmd icontains [\"mimikatz\", \"rubeus\"]"},
                      {"and", "user == \"x\" and cmd matches /a+b/"},
                      {"mixed", "cmd contains \"a\" or user == \"b\""}}));
  REQUIRE(l->Errors() == "");
  cep::ConditionIndex any = l->rule("or").spec.where->Index();
  CHECK(any.kind == cep::ConditionIndex::Kind::kAnyPredicateBit);
  CHECK(any.bits.size() == 3);
  // A conjunction prefers the equality; an `or` with something unindexable is unindexable.
  CHECK(l->rule("and").spec.where->Index().kind == cep::ConditionIndex::Kind::kFieldEquals);
  CHECK(l->rule("mixed").spec.where->Index().kind == cep::ConditionIndex::Kind::kNone);
}

TEST_CASE(
    "predicates: a regex Hyperscan rejects is an error at its position, and its file "
    "does not load",
    "[rules][predicates]") {
  vigil::testing::TempDir dir;
  dir.Write("bad.yaml",
            "rules:\n"
            "  - id: fine\n"
            "    where: 'cmd contains \"ok\"'\n"
            "  - id: backref\n"
            "    where: 'cmd matches /(a)\\1/'\n"
            "  - id: lookbehind\n"
            "    where: >-\n"
            "      user == \"x\" and\n"
            "      cmd matches /(?<=a)b/\n");
  dir.Write("good.yaml",
            "rules:\n"
            "  - id: other\n"
            "    where: 'cmd contains \"ok\" or cmd matches /(a)b/'\n");
  auto l = LoadPaths({dir.path() + "/bad.yaml", dir.path() + "/good.yaml"});
  CHECK(l->Errors() ==
        dir.path() +
            "/bad.yaml:5:25: regex /(a)\\1/ does not compile: Back-references are "
            "unsupported.\n" +
            dir.path() +
            "/bad.yaml:9:19: regex /(?<=a)b/ does not compile: Zero-width assertions "
            "are not supported.");
  CHECK(l->ids() == Ids{"other"});
  // Only the predicates of the rule that loaded are compiled.
  CHECK(l->ruleset.predicates->predicate_count() == 2);
}

TEST_CASE("predicates: a regex in a macro is reported where the macro writes it",
          "[rules][predicates]") {
  auto l = LoadYaml(
      "macros:\n"
      "  odd: 'cmd matches /a(?=b)/'\n"
      "rules:\n"
      "  - id: uses-macro\n"
      "    where: 'odd'\n");
  CHECK_THAT(l->Errors(), Catch::StartsWith("r.yaml:2:21: regex /a(?=b)/ does not compile: ") &&
                              Catch::EndsWith(" (in macro odd)"));
  CHECK(l->ids() == Ids{});
}

TEST_CASE(
    "predicates: a pattern too large for Hyperscan, found only by the full compile, "
    "is an error at its position",
    "[rules][predicates]") {
  // Hyperscan's analysis accepts it; its compiler then runs out of resources, and reports
  // no pattern index when others share the database.
  vigil::testing::TempDir dir;
  dir.Write("a.yaml",
            "rules:\n"
            "  - id: huge\n"
            "    where: 'x == \"1\" and cmd matches /(?:a{100}b){300}/'\n"
            "  - id: same-file\n"
            "    where: 'cmd contains \"abc\"'\n");
  dir.Write("b.yaml",
            "rules:\n"
            "  - id: elsewhere\n"
            "    where: 'cmd contains \"abc\" or cmd matches /de+f/'\n");
  auto l = LoadPaths({dir.path() + "/a.yaml", dir.path() + "/b.yaml"});
  CHECK(l->Errors() == dir.path() +
                           "/a.yaml:3:38: regex /(?:a{100}b){300}/ does not compile: Resource "
                           "limit exceeded.");
  CHECK(l->ids() == Ids{"elsewhere"});
  CHECK(l->ruleset.predicates->predicate_count() == 2);
  CHECK(l->ruleset.predicates->database_count() == 1);
  CHECK(Firing(*l, {{"cmd", S("xdeeef")}}) == Ids{"elsewhere"});
}

}  // namespace vigil::rules
