// docs/rules.md runs: every example in the rule-language guide is executed with the real
// `vigil` binary, so the guide cannot drift from what Vigil does.
//
// How the guide's fenced blocks are read (the info string after ``` is invisible to readers):
//
//   ```yaml            A complete rule file. Written as rules.yaml in a fresh directory (the
//                      current workspace); `vigil test rules.yaml` must report at least one
//                      test and no failures.
//   ```yaml invalid    A rule file that shows an error. Written as rules.yaml in a fresh
//                      workspace; `vigil validate` must reject it, and the next block must be a
//                      console session that runs `vigil validate` and shows its output.
//   ```yaml failing    A rule file whose test fails on purpose (to show the report); the next
//                      block must be a console session running `vigil test`.
//   ```LANG file=PATH  A file written to PATH in the current workspace and nothing else; a
//                      console session of the same workspace uses it (a folder ruleset, the
//                      events of a replay).
//   ```console         A shell session in the current workspace: each `$ vigil ...` line is
//                      run there; the lines up to the next `$` are its standard output then
//                      its standard error, line for line, where `...` stands for any text.
//                      Every command must exit 0, or N with ```console exit=N.
//
// Other blocks (```sh, ```json, ```text ...) are prose and are not run.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "edge_support.h"

namespace vigil::edge::testing {
namespace {

using vigil::testing::RunVigilIn;

// Rule tests of the guide that fail because the engine does not yet do what the spec (and
// so the guide) says. Each is skipped, named here with the problem; a test listed here that
// passes fails this suite, so that the entry is removed once the engine is fixed.
// Key: "<rule id>: <test name>", as `vigil test` prints it.
const std::map<std::string, std::string> kKnownEngineBugs = {};

struct Block {
  int line = 0;                                // of the opening fence, 1-based
  std::string lang;                            // yaml, console, jsonl ...
  std::set<std::string> flags;                 // invalid, failing
  std::map<std::string, std::string> options;  // file=..., exit=...
  std::string text;
};

std::vector<Block> FencedBlocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (open) {
      if (line == "```") {
        open = nullptr;
      } else {
        // An opening fence inside a block: a stray ``` earlier has swallowed an example.
        if (line.rfind("```", 0) == 0) {
          FAIL_CHECK("docs/rules.md:" << number << ": a fence opens inside the block of line "
                                      << open->line);
        }
        open->text += line + "\n";
      }
      continue;
    }
    if (line.rfind("```", 0) != 0) continue;
    blocks.push_back(Block{});
    open = &blocks.back();
    open->line = number;
    std::istringstream info(line.substr(3));
    info >> open->lang;
    std::string word;
    while (info >> word) {
      size_t eq = word.find('=');
      if (eq == std::string::npos)
        open->flags.insert(word);
      else
        open->options[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  REQUIRE(open == nullptr);  // an unclosed fence would swallow the rest of the guide
  return blocks;
}

// `pattern` with every "..." standing for any text (possibly empty).
bool MatchesElided(const std::string& pattern, const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dots; (dots = pattern.find("...", start)) != std::string::npos; start = dots + 3) {
    parts.push_back(pattern.substr(start, dots - start));
  }
  parts.push_back(pattern.substr(start));
  if (parts.size() == 1) return text == pattern;
  if (text.compare(0, parts.front().size(), parts.front()) != 0) return false;
  size_t at = parts.front().size();
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    size_t found = text.find(parts[i], at);
    if (found == std::string::npos) return false;
    at = found + parts[i].size();
  }
  const std::string& last = parts.back();
  return text.size() >= at + last.size() &&
         text.compare(text.size() - last.size(), last.size(), last) == 0;
}

TEST_CASE("docs test harness: ... in expected output stands for any text", "[edge][docs]") {
  CHECK(MatchesElided("abc", "abc"));
  CHECK_FALSE(MatchesElided("abc", "abcd"));
  CHECK(MatchesElided("replay: 3 events in ...", "replay: 3 events in 0.01 s (300 events/s)"));
  CHECK(MatchesElided("{\"id\":\"...\",\"key\":{}...}", "{\"id\":\"3f9c\",\"key\":{},\"x\":1}"));
  CHECK(MatchesElided("a...b...c", "abc"));
  CHECK_FALSE(MatchesElided("a...b...c", "acb"));
  CHECK_FALSE(MatchesElided("ab...ba", "aba"));
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

struct Totals {
  size_t rule_files = 0, rule_tests = 0, skipped_tests = 0, invalid_files = 0, commands = 0;
  std::set<std::string> seen_known_bugs;
  std::map<std::string, int> rule_ids;  // id -> line of the block that defines it
};

// `vigil test rules.yaml` in `dir` for the block at `line`: at least one test, all pass
// except known engine bugs, which must still fail.
void CheckRuleFile(const std::string& dir, const Block& block, Totals* totals) {
  ProcessResult r = RunVigilIn(dir, {"test", "rules.yaml"});
  INFO("docs/rules.md:" << block.line << ": vigil test\n" << r.out << r.err);
  Strings lines = Lines(r.out);
  REQUIRE_FALSE(lines.empty());
  size_t tests = 0, passed = 0, unexpected = 0;
  std::set<std::string> ids;
  for (const std::string& l : lines) {
    bool pass = l.rfind("PASS ", 0) == 0, fail = l.rfind("FAIL ", 0) == 0;
    if (!pass && !fail) continue;
    ++tests;
    std::string name = l.substr(5);
    if (fail) name = name.substr(0, name.rfind(" ("));  // "(rules.yaml:12)"
    ids.insert(name.substr(0, name.find(": ")));
    auto bug = kKnownEngineBugs.find(name);
    if (bug != kKnownEngineBugs.end()) {
      totals->seen_known_bugs.insert(name);
      INFO("known engine bug: " << bug->second);
      CHECK_FALSE(pass);  // fixed: remove it from kKnownEngineBugs
      if (fail) ++totals->skipped_tests;
      continue;
    }
    if (pass)
      ++passed;
    else
      ++unexpected;
  }
  CHECK(r.err.empty());
  CHECK(unexpected == 0);
  CHECK(tests > 0);  // an example without tests shows nothing
  CHECK(lines.back().find(" passed, ") != std::string::npos);
  for (const std::string& id : ids) {
    auto [it, inserted] = totals->rule_ids.emplace(id, block.line);
    INFO("rule id '" << id << "' is also used by the example at line " << it->second);
    CHECK(inserted);
  }
  ++totals->rule_files;
  totals->rule_tests += passed;
}

// Runs the `$ vigil ...` lines of a console block in `dir` and compares their output.
void CheckConsole(const std::string& dir, const Block& block, Totals* totals) {
  const int want_exit = block.options.count("exit") ? std::stoi(block.options.at("exit")) : 0;
  Strings lines = Lines(block.text);
  size_t i = 0;
  REQUIRE_FALSE(lines.empty());
  while (i < lines.size()) {
    INFO("docs/rules.md:" << block.line << ": " << lines[i]);
    REQUIRE(lines[i].rfind("$ vigil ", 0) == 0);
    std::vector<std::string> args = Words(lines[i].substr(8));
    Strings expected;
    for (++i; i < lines.size() && lines[i].rfind("$ ", 0) != 0; ++i)
      expected.push_back(lines[i]);
    ProcessResult r = RunVigilIn(dir, args);
    Strings actual = Lines(r.out);
    for (const std::string& l : Lines(r.err))
      actual.push_back(l);
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    CHECK(r.exit_code == want_exit);
    CHECK(actual.size() == expected.size());
    for (size_t k = 0; k < std::min(actual.size(), expected.size()); ++k) {
      INFO("expected line " << k + 1 << ": " << expected[k] << "\nactual: " << actual[k]);
      CHECK(MatchesElided(expected[k], actual[k]));
    }
    ++totals->commands;
  }
}

TEST_CASE("docs/rules.md: every example runs as the guide shows", "[edge][docs]") {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/docs/rules.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<Block> blocks = FencedBlocks(ss.str());

  Totals totals;
  auto workspace = std::make_unique<TempDir>();
  // A rule file written with file= is only checked by a console session that uses it.
  int unchecked_rule_file = 0;  // line of the first such block since the last session
  for (size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    INFO("docs/rules.md:" << block.line << ": ```" << block.lang);
    if (block.options.count("file")) {
      workspace->Write(block.options.at("file"), block.text);
      if (block.lang == "yaml" && !unchecked_rule_file) unchecked_rule_file = block.line;
      continue;
    }
    if (block.lang == "console") {
      CheckConsole(workspace->path(), block, &totals);
      unchecked_rule_file = 0;
      continue;
    }
    // A fence the harness does not know is most likely a typo that would silently skip an
    // example (or a stray ``` that swallowed some).
    static const std::set<std::string> kProse = {"", "sh", "json", "text"};
    if (block.lang != "yaml") {
      CHECK(kProse.count(block.lang));
      continue;
    }
    {
      INFO("the rule file at docs/rules.md:" << unchecked_rule_file << " is never run");
      CHECK(unchecked_rule_file == 0);
    }
    workspace = std::make_unique<TempDir>();
    workspace->Write("rules.yaml", block.text);
    if (block.flags.count("invalid") || block.flags.count("failing")) {
      const bool invalid = block.flags.count("invalid") > 0;
      ProcessResult r =
          RunVigilIn(workspace->path(), {invalid ? "validate" : "test", "rules.yaml"});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 1);
      // The guide shows what the command prints, right after the file.
      REQUIRE(b + 1 < blocks.size());
      CHECK(blocks[b + 1].lang == "console");
      CHECK(blocks[b + 1].text.rfind(invalid ? "$ vigil validate " : "$ vigil test ", 0) == 0);
      CHECK(blocks[b + 1].options.count("exit"));
      totals.invalid_files += invalid;
      continue;
    }
    CheckRuleFile(workspace->path(), block, &totals);
  }
  {
    INFO("the rule file at docs/rules.md:" << unchecked_rule_file << " is never run");
    CHECK(unchecked_rule_file == 0);
  }
  for (const auto& [name, why] : kKnownEngineBugs) {
    INFO("kKnownEngineBugs names a rule test the guide no longer has: " << name);
    CHECK(totals.seen_known_bugs.count(name));
  }
  // The guide is the user's reference: a parser that silently found nothing would pass.
  CHECK(totals.rule_files >= 30);
  CHECK(totals.rule_tests >= totals.rule_files);
  WARN("docs/rules.md: " << totals.rule_files << " rule files with " << totals.rule_tests
                         << " passing tests (" << totals.skipped_tests
                         << " skipped: known engine bugs), " << totals.invalid_files
                         << " invalid files, " << totals.commands << " console commands");
}

}  // namespace
}  // namespace vigil::edge::testing
