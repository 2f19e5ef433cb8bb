// `extract:` named captures: dotted names, types, order, never overwriting, prefiltering,
// bad patterns, runaway patterns, and the spec's sshd example on the Loghub sample.
#include "vigil/ingest/extract.h"

#include <fstream>
#include <regex>

#include "decode_support.h"
#include "vigil/ingest/syslog_decoder.h"

using vigil::ingest::ExtractSpec;
using vigil::ingest::Extractor;
using vigil::ingest::testing::Show;

namespace {

const char* kSshdPattern =
    R"(Failed password for (invalid user )?(?P<user.name>\S+) from (?P<source.ip>\S+) port (?P<source.port>\d+))";

struct Fixture {
  vigil::cep::FieldRegistry reg;
  std::unique_ptr<Extractor> ex;
  std::unique_ptr<vigil::ingest::Decoder> syslog;
  vigil::cep::ManualClock clock{0};

  Fixture(const std::vector<std::string>& read, const std::vector<ExtractSpec>& specs) {
    for (const std::string& p : read) reg.Intern(p);
    auto e = Extractor::Create(specs, &reg);
    REQUIRE(e.ok());
    ex = std::move(e).value();
    vigil::ingest::SyslogOptions o;
    o.year = 2024;
    o.clock = &clock;
    syslog = std::move(vigil::ingest::NewSyslogDecoder(&reg, o)).value();
  }
  std::shared_ptr<vigil::cep::Event> Line(const std::string& line) {
    auto ev = std::make_shared<vigil::cep::Event>();
    std::string err;
    REQUIRE(syslog->Decode(line, ev.get(), &err) == vigil::ingest::DecodeResult::kOk);
    ex->Apply(ev.get());
    return ev;
  }
  std::string F(const vigil::cep::Event& e, const std::string& path) {
    return Show(e.field(*reg.Find(path)));
  }
};

}  // namespace

TEST_CASE("extract: dotted group names become fields, typed where asked", "[ingest][extract]") {
  Fixture fx({"user.name", "source.ip", "source.port"},
             {{"message", kSshdPattern, {{"source.port", "int"}}}});
  auto e = fx.Line("Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user test9 from 52.80.34.196 port 36060 ssh2");
  CHECK(fx.F(*e, "user.name") == "string test9");
  CHECK(fx.F(*e, "source.ip") == "string 52.80.34.196");
  CHECK(fx.F(*e, "source.port") == "int 36060");
  auto root = fx.Line("Dec 10 07:27:52 LabSZ sshd[24266]: Failed password for root from 112.95.230.3 port 45378 ssh2");
  CHECK(fx.F(*root, "user.name") == "string root");
  auto other = fx.Line("Dec 10 07:27:52 LabSZ sshd[24266]: Connection closed by 1.2.3.4 [preauth]");
  CHECK(fx.F(*other, "user.name") == "null");
  CHECK(fx.ex->stats().matches == 2);
  CHECK(fx.ex->stats().fields_set == 6);
}

TEST_CASE("extract: entries apply in order, a group that took no part adds nothing", "[ingest][extract]") {
  Fixture fx({"a", "b", "host"},
             {{"message", R"(x=(?P<a>\d+)(?: y=(?P<b>\d+))?)", {}},
              {"message", R"(x=(?P<b>\d+))", {}},             // b only if the first left it unset
              {"message", R"((?P<host>\w+)$)", {}}});          // never overwrites the decoded host
  auto both = fx.Line("Dec 10 07:00:00 gw app: x=1 y=2 end");
  CHECK(fx.F(*both, "a") == "string 1");
  CHECK(fx.F(*both, "b") == "string 2");
  CHECK(fx.F(*both, "host") == "string gw");
  auto only_x = fx.Line("Dec 10 07:00:00 gw app: x=7");
  CHECK(fx.F(*only_x, "a") == "string 7");
  CHECK(fx.F(*only_x, "b") == "string 7");  // from the second entry
}

TEST_CASE("extract: entries whose groups nothing reads are skipped", "[ingest][extract]") {
  Fixture fx({"source.ip"}, {{"message", kSshdPattern, {}}, {"message", R"(pid (?P<proc.pid>\d+))", {}}});
  CHECK(fx.ex->active_entries() == 1);
}

TEST_CASE("extract: typed captures that do not convert add nothing and are counted", "[ingest][extract]") {
  Fixture fx({"n", "f", "ok"}, {{"message", R"(n=(?P<n>\S+) f=(?P<f>\S+) ok=(?P<ok>\S+))",
                                 {{"n", "int"}, {"f", "float"}, {"ok", "bool"}}}});
  auto good = fx.Line("Dec 10 07:00:00 gw app: n=-3 f=2.5 ok=true");
  CHECK(fx.F(*good, "n") == "int -3");
  CHECK(fx.F(*good, "f") == "double 2.5");
  CHECK(fx.F(*good, "ok") == "true");
  auto bad = fx.Line("Dec 10 07:00:00 gw app: n=3x f=pi ok=yes");
  CHECK(fx.F(*bad, "n") == "null");
  CHECK(fx.F(*bad, "f") == "null");
  CHECK(fx.F(*bad, "ok") == "null");
  CHECK(fx.ex->stats().conversion_failures == 3);
}

TEST_CASE("extract: bad entries are errors naming the entry", "[ingest][extract]") {
  vigil::cep::FieldRegistry reg;
  reg.Intern("a");
  auto r = Extractor::Create({{"message", "(?P<a>unclosed", {}},
                              {"message", "no groups", {}},
                              {"", "(?P<a>x)", {}},
                              {"message", "(?P<a>x)", {{"b", "int"}, {"a", "date"}}}},
                             &reg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "extract[0].pattern: missing closing parenthesis (at offset 14)\n"
        "extract[1].pattern: has no named group (?P<field>...), so it extracts nothing\n"
        "extract[2].field: required\n"
        "extract[3].types.a: must be int, float or bool, not 'date'\n"
        "extract[3].types.b: no group of that name in the pattern");
}

TEST_CASE("extract: a runaway pattern is bounded, counted, and the pipeline goes on", "[ingest][extract]") {
  // Catastrophic backtracking on a line of a's without the final b.
  Fixture fx({"x"}, {{"message", R"((?P<x>(a+)+)b)", {}}});
  auto e = fx.Line("Dec 10 07:00:00 gw app: " + std::string(40, 'a') + "!");
  CHECK(fx.F(*e, "x") == "null");
  CHECK(fx.ex->stats().limit_hits + fx.ex->stats().matches <= 1);
  auto ok = fx.Line("Dec 10 07:00:00 gw app: aaab");
  CHECK(fx.F(*ok, "x") == "string aaa");
}

TEST_CASE("extract: group renaming leaves escapes, classes and lookbehinds alone", "[ingest][extract]") {
  std::vector<std::string> names;
  CHECK(vigil::ingest::RenameGroups(R"(\(?P<no>x\) [(?P<a>] (?<=y)(?<!z)(?P<source.ip>\S+)(?<b.c>d)(?'e.f'g))",
                                    &names) ==
        R"(\(?P<no>x\) [(?P<a>] (?<=y)(?<!z)(?P<g0>\S+)(?P<g1>d)(?P<g2>g))");
  CHECK(names == std::vector<std::string>{"source.ip", "b.c", "e.f"});
}

TEST_CASE("extract: the spec's sshd example over the whole Loghub sample", "[ingest][extract][loghub]") {
  Fixture fx({"user.name", "source.ip", "source.port"},
             {{"message", kSshdPattern, {{"source.port", "int"}}}});
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/examples/loghub/OpenSSH_2k.log", std::ios::binary);
  // std::regex, with the same pattern minus the names, is the independent oracle: it also
  // agrees that "Failed password for invalid user  0101 from ..." (two spaces) does not match.
  const std::regex oracle(R"(Failed password for (invalid user )?(\S+) from (\S+) port (\d+))");
  std::string line;
  size_t expected = 0, extracted = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    bool match = std::regex_search(line, m, oracle);
    if (match) ++expected;
    auto e = fx.Line(line);
    if (fx.F(*e, "source.ip") != "null") {
      ++extracted;
      REQUIRE(match);
      CHECK(fx.F(*e, "user.name") == "string " + m[2].str());
      CHECK(fx.F(*e, "source.ip") == "string " + m[3].str());
      CHECK(fx.F(*e, "source.port") == "int " + m[4].str());
    }
  }
  REQUIRE(expected > 100);
  CHECK(extracted == expected);
}
