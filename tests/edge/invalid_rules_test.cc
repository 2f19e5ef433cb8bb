// `vigil validate` on tests/rules/invalid/: a folder of deliberately broken rule files, one
// per kind of error. Each file states what validate must print for it, in comments:
//   # expect: LINE:COLUMN: MESSAGE        ({dir} stands for the folder's path)
// The real binary must print exactly those lines, as FOLDER/FILE:LINE:COLUMN: MESSAGE, each
// once and nothing else, and exit 1.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "edge_support.h"

namespace vigil::edge::testing {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(VIGIL_SOURCE_DIR) + "/tests/rules/invalid";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Every "# expect:" line of every file in the folder, as validate prints it; and the files.
struct Expectations {
  std::vector<std::string> lines;
  std::map<std::string, size_t> per_file;
};

Expectations ReadExpectations() {
  Expectations e;
  for (const fs::directory_entry& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string file = kDir + "/" + entry.path().filename().string();
    size_t& count = e.per_file[entry.path().filename().string()];
    for (const std::string& line : Lines(ReadFile(entry.path()))) {
      const std::string marker = "# expect: ";
      if (line.rfind(marker, 0) != 0) continue;
      e.lines.push_back(file + ":" + ReplaceAll(line.substr(marker.size()), "{dir}", kDir));
      ++count;
    }
  }
  std::sort(e.lines.begin(), e.lines.end());
  return e;
}

}  // namespace

TEST_CASE("invalid rules: validate prints each file's expected errors and nothing else",
          "[edge][cli][validate]") {
  const Expectations expected = ReadExpectations();
  // One file per kind of error; every file but the first definition of a duplicated id
  // has errors.
  for (const char* kind :
       {"unknown_key", "wrong_type", "bad_duration", "undefined_name", "type_error",
        "duplicate_id_b", "skip_step", "absent_last", "bad_regex", "yaml_syntax_indent",
        "yaml_syntax_quote", "yaml_syntax_comma", "macro_cycle"}) {
    INFO(kind);
    REQUIRE(expected.per_file.count(std::string(kind) + ".yaml") == 1);
    CHECK(expected.per_file.at(std::string(kind) + ".yaml") > 0);
  }
  CHECK(expected.per_file.at("duplicate_id_a.yaml") == 0);

  ProcessResult r = RunVigil({"validate", kDir});
  INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
  CHECK(r.exit_code == 1);
  std::vector<std::string> printed = Lines(r.out);
  // Printed in file order, and by line and column within a file.
  CHECK(std::is_sorted(printed.begin(), printed.end(), [](const std::string& a, const std::string& b) {
    auto key = [](const std::string& s) {
      size_t c1 = s.find(".yaml:") + 6;
      size_t c2 = s.find(':', c1);
      size_t c3 = s.find(':', c2 + 1);
      return std::make_tuple(s.substr(0, c1), std::stoi(s.substr(c1, c2 - c1)),
                             std::stoi(s.substr(c2 + 1, c3 - c2 - 1)));
    };
    return key(a) < key(b);
  }));
  std::sort(printed.begin(), printed.end());
  // Lists, so that a failure shows the lines in question.
  std::vector<std::string> missing, unexpected;
  std::set_difference(expected.lines.begin(), expected.lines.end(), printed.begin(), printed.end(),
                      std::back_inserter(missing));
  std::set_difference(printed.begin(), printed.end(), expected.lines.begin(), expected.lines.end(),
                      std::back_inserter(unexpected));
  CHECK(missing == Strings{});
  CHECK(unexpected == Strings{});
  // Each once.
  CHECK(std::adjacent_find(printed.begin(), printed.end()) == printed.end());
  CHECK(printed.size() == expected.lines.size());
  CHECK(r.err == std::to_string(expected.lines.size()) + " errors in " +
                     std::to_string(expected.per_file.size()) + " files\n");
}

TEST_CASE("invalid rules: each file alone gives its own errors", "[edge][cli][validate]") {
  const Expectations expected = ReadExpectations();
  for (const auto& [name, count] : expected.per_file) {
    const std::string file = kDir + "/" + name;
    INFO(file);
    ProcessResult r = RunVigil({"validate", file});
    if (name == "duplicate_id_a.yaml" || name == "duplicate_id_b.yaml") {
      // Either one alone is valid: the ids clash only within the folder.
      CHECK(r.exit_code == 0);
      CHECK_THAT(r.out, Catch::StartsWith("ok: "));
      continue;
    }
    std::vector<std::string> mine;
    for (const std::string& line : expected.lines) {
      if (line.rfind(file + ":", 0) == 0) mine.push_back(line);
    }
    REQUIRE(mine.size() == count);
    std::vector<std::string> printed = Lines(r.out);
    std::sort(printed.begin(), printed.end());
    CHECK(r.exit_code == 1);
    CHECK(printed == mine);
  }
}

}  // namespace vigil::edge::testing
