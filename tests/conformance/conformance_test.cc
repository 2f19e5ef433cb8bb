// FlinkCEP conformance: cases ported from FlinkCEP's own test suite (apache/flink,
// flink-libraries/flink-cep/src/test/java/org/apache/flink/cep/nfa/), each a rule file,
// its events and the matches Flink's assertions expect, run through `vigil replay`.
//
// Layout, per case under tests/conformance/flink/<TestClass>/:
//   <case>.yaml          the rule (one pattern rule), with a comment naming the Flink test
//   <case>.events.jsonl  the events in arrival order; each has "id" and "ts" (epoch ms)
//   <case>.expected      one line per expected match: the matched events' ids in match
//                        order ("1 2 4"); '#' lines are comments; no lines = no match.
//                        A line "#! ordered" compares the sequence of matches, not the set.
//                        A line "#! args: --max-delay 5ms" adds replay options.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "support/process.h"

namespace fs = std::filesystem;
using vigil::testing::Lines;
using vigil::testing::RunVigil;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

struct Expected {
  std::vector<std::string> matches;
  bool ordered = false;
  std::vector<std::string> args;
};

Expected ReadExpected(const fs::path& p) {
  Expected ex;
  for (const std::string& raw : Lines(ReadFile(p))) {
    std::string line = Trim(raw);
    if (line.rfind("#! ordered", 0) == 0) {
      ex.ordered = true;
    } else if (line.rfind("#! args:", 0) == 0) {
      std::istringstream in(line.substr(8));
      std::string a;
      while (in >> a) ex.args.push_back(a);
    } else if (!line.empty() && line[0] != '#') {
      std::istringstream in(line);
      std::string id, norm;
      while (in >> id) norm += (norm.empty() ? "" : " ") + id;
      ex.matches.push_back(norm);
    }
  }
  return ex;
}

// Each alert as the ids of its matched events, in match order.
std::vector<std::string> ActualMatches(const std::string& out) {
  std::vector<std::string> result;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(out)) {
    simdjson::dom::element alert;
    REQUIRE_FALSE(parser.parse(line).get(alert));
    std::string ids;
    for (simdjson::dom::element m : alert["matches"].get_array()) {
      simdjson::dom::element id = m["event"]["id"];
      std::string text = simdjson::minify(id);
      if (text.size() >= 2 && text.front() == '"') text = text.substr(1, text.size() - 2);
      ids += (ids.empty() ? "" : " ") + text;
    }
    result.push_back(ids);
  }
  return result;
}

std::vector<fs::path> Cases() {
  std::vector<fs::path> cases;
  fs::path root = fs::path(VIGIL_SOURCE_DIR) / "tests/conformance/flink";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() == ".yaml") cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "  [" + x + "]\n";
  return s.empty() ? "  (none)\n" : s;
}

}  // namespace

TEST_CASE("FlinkCEP conformance cases give Flink's matches", "[conformance]") {
  std::vector<fs::path> cases = Cases();
  REQUIRE(cases.size() >= 1);
  for (const fs::path& rule : cases) {
    std::string base = rule.string().substr(0, rule.string().size() - 5);
    std::string name = fs::relative(rule, fs::path(VIGIL_SOURCE_DIR) / "tests/conformance/flink").string();
    DYNAMIC_SECTION(name) {
      REQUIRE(fs::exists(base + ".events.jsonl"));
      REQUIRE(fs::exists(base + ".expected"));
      Expected ex = ReadExpected(base + ".expected");
      std::vector<std::string> args = {"replay", "--rules", rule.string(), "--time-field", "ts",
                                       "--time-format", "epoch_ms"};
      args.insert(args.end(), ex.args.begin(), ex.args.end());
      args.push_back(base + ".events.jsonl");
      auto r = RunVigil(args);
      INFO("stderr: " << r.err);
      REQUIRE(r.exit_code == 0);
      std::vector<std::string> actual = ActualMatches(r.out);
      std::vector<std::string> expected = ex.matches;
      if (!ex.ordered) {
        std::sort(actual.begin(), actual.end());
        std::sort(expected.begin(), expected.end());
      }
      INFO("expected:\n" << Join(expected) << "actual:\n" << Join(actual));
      CHECK(actual == expected);
    }
  }
}
