// `vigil replay --state DIR`: killed with SIGKILL at many points (between records, and
// mid-checkpoint before and after the batch is durable, through the store's fault
// injection) and run again with the same arguments, the alerts printed by all the runs
// together are a clean run's: none lost, and any repeat carries the same id.
#include <stdlib.h>

#include <map>
#include <set>

#include "edge_support.h"

namespace vigil::edge::testing {
namespace {

const std::string kRules = std::string(VIGIL_SOURCE_DIR) + "/rulesets/soc/ssh.yaml";
const std::string kEvents = std::string(VIGIL_SOURCE_DIR) + "/examples/sshd-events.jsonl";

// id -> what the alert says (without detected_at), for every alert line of `out`.
std::map<std::string, std::string> ById(const std::string& out) {
  std::map<std::string, std::string> m;
  for (const std::string& line : Lines(out)) {
    AlertLine a(line);
    m[a.str("/id")] = a.Describe();
  }
  return m;
}

// The first 700 events of the sample (19 alerts), so that the many runs below stay quick
// under ASan.
std::string Events(const TempDir& dir) {
  std::FILE* in = std::fopen(kEvents.c_str(), "r");
  REQUIRE(in != nullptr);
  std::string text;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) text.append(buf, n);
  std::fclose(in);
  size_t end = 0;
  for (int i = 0; i < 700; ++i) end = text.find('\n', end) + 1;
  std::FILE* out = std::fopen((dir.path() + "/events.jsonl").c_str(), "w");
  REQUIRE(out != nullptr);
  std::fwrite(text.data(), 1, end, out);
  std::fclose(out);
  return dir.path() + "/events.jsonl";
}

ProcessResult Replay(const std::string& state, const std::string& events, const char* env = nullptr,
                     const char* value = nullptr) {
  if (env != nullptr) setenv(env, value, 1);
  ProcessResult r = RunVigil({"replay", "--rules", kRules, "--state", state, "--checkpoint-every", "37", events});
  if (env != nullptr) unsetenv(env);
  return r;
}

}  // namespace

TEST_CASE("replay --state: killed anywhere and run again, no alert is lost or changes id",
          "[edge][replay][state][crash]") {
  TempDir data;
  const std::string events = Events(data);
  ProcessResult clean = RunVigil({"replay", "--rules", kRules, events});
  REQUIRE(clean.exit_code == 0);
  const std::map<std::string, std::string> expected = ById(clean.out);
  REQUIRE(expected.size() == 19);

  std::vector<std::pair<const char*, std::string>> kills;
  // 700 events, a checkpoint every 37: 18 writes, then the final one (19) after Finish.
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "1:before");
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "2");
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "9:before");
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "18");
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "19:before");
  kills.emplace_back("VIGIL_TEST_KILL_AT_WRITE", "19");
  for (int records : {1, 333, 699}) kills.emplace_back("VIGIL_TEST_KILL_AFTER_RECORDS", std::to_string(records));
  size_t killed = 0;
  bool third_checked = false;
  for (const auto& [env, value] : kills) {
    TempDir dir;
    const std::string state = dir.path() + "/state";
    INFO(env << "=" << value);
    ProcessResult first = Replay(state, events, env, value.c_str());
    killed += first.exit_code == -1;
    ProcessResult second = Replay(state, events);
    REQUIRE(second.exit_code == 0);
    std::map<std::string, std::string> seen = ById(first.out);
    for (const auto& [id, what] : ById(second.out)) {
      auto [it, fresh] = seen.emplace(id, what);
      CHECK(it->second == what);  // a repeat is the same alert
    }
    CHECK(seen == expected);
    if (!third_checked) {  // a third run has nothing left to do
      ProcessResult third = Replay(state, events);
      CHECK(third.exit_code == 0);
      CHECK(third.out.empty());
      third_checked = true;
    }
  }
  CHECK(killed == kills.size());  // every run above was really killed
}

TEST_CASE("replay --state --max-memory: a tiny budget evicts and gives the same alerts, killed or not",
          "[edge][replay][state][eviction][crash]") {
  TempDir data;
  const std::string events = Events(data);
  ProcessResult clean = RunVigil({"replay", "--rules", kRules, events});
  REQUIRE(clean.exit_code == 0);
  const std::map<std::string, std::string> expected = ById(clean.out);
  REQUIRE(expected.size() == 19);
  auto bounded = [&](const std::string& state, const char* env = nullptr, const char* value = nullptr) {
    if (env != nullptr) setenv(env, value, 1);
    ProcessResult r = RunVigil({"replay", "--rules", kRules, "--state", state, "--max-memory", "1", events});
    if (env != nullptr) unsetenv(env);
    return r;
  };
  {
    TempDir dir;
    ProcessResult r = bounded(dir.path() + "/state");
    REQUIRE(r.exit_code == 0);
    CHECK(ById(r.out) == expected);
    INFO(r.err);
    // One byte: every key goes after every record, and every record loads its keys back.
    const std::string said = "replay: bounded memory 1 bytes: ";
    const size_t at = r.err.find(said);
    REQUIRE(at != std::string::npos);
    CHECK(std::strtoull(r.err.c_str() + at + said.size(), nullptr, 10) > 200);  // key states evicted
  }
  // Kills between records and mid-write (checkpoints, and the evicted keys' timers).
  std::vector<std::pair<const char*, std::string>> kills = {
      {"VIGIL_TEST_KILL_AT_WRITE", "7:before"}, {"VIGIL_TEST_KILL_AT_WRITE", "60"},
      {"VIGIL_TEST_KILL_AT_WRITE", "150:before"}, {"VIGIL_TEST_KILL_AFTER_RECORDS", "420"}};
  for (const auto& [env, value] : kills) {
    TempDir dir;
    const std::string state = dir.path() + "/state";
    INFO(env << "=" << value);
    ProcessResult first = bounded(state, env, value.c_str());
    CHECK(first.exit_code == -1);
    ProcessResult second = bounded(state);
    INFO(second.err);
    REQUIRE(second.exit_code == 0);
    std::map<std::string, std::string> seen = ById(first.out);
    for (const auto& [id, what] : ById(second.out)) {
      auto [it, fresh] = seen.emplace(id, what);
      CHECK(it->second == what);
    }
    CHECK(seen == expected);
  }
  ProcessResult no_state = RunVigil({"replay", "--rules", kRules, "--max-memory", "1MB", events});
  CHECK(no_state.exit_code == 2);
  CHECK(no_state.err.find("--max-memory needs --state DIR") != std::string::npos);
  TempDir dir;
  ProcessResult bad = RunVigil({"replay", "--rules", kRules, "--state", dir.path() + "/s", "--max-memory", "lots", events});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--max-memory 'lots' must be a positive size") != std::string::npos);
}

TEST_CASE("replay --state: other files, standard input and a damaged store are clear errors",
          "[edge][replay][state][bad-input]") {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  REQUIRE(Replay(state, kEvents).exit_code == 0);
  ProcessResult other = RunVigil({"replay", "--rules", kRules, "--state", state, kEvents, kEvents});
  CHECK(other.exit_code == 1);
  CHECK(other.err.find(state + " holds the state of a replay of other files (" + kEvents +
                       "): give the same files, or another --state directory") != std::string::npos);
  ProcessResult piped = RunVigil({"replay", "--rules", kRules, "--state", state, "-"}, "{}\n");
  CHECK(piped.exit_code == 2);
  CHECK(piped.err.find("--state cannot resume standard input ('-'): give files") != std::string::npos);
  ProcessResult zero = RunVigil({"replay", "--rules", kRules, "--state", state, "--checkpoint-every", "0", kEvents});
  CHECK(zero.exit_code == 2);

  TempDir junk;
  {
    std::FILE* f = std::fopen((junk.path() + "/CURRENT").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("garbage\n", f);
    std::fclose(f);
  }
  ProcessResult damaged = RunVigil({"replay", "--rules", kRules, "--state", junk.path(), kEvents});
  CHECK(damaged.exit_code == 1);
  CHECK(damaged.err.find(junk.path()) != std::string::npos);
  CHECK(damaged.out.empty());
}

}  // namespace vigil::edge::testing
