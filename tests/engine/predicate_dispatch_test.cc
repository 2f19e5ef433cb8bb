// Shared string predicates through the loader, the scan and the engine: a rule whose start
// condition needs predicate bits the event does not have is not called at all
// (architecture decision 1), and what does match matches exactly as evaluated directly.
#include <catch2/catch.hpp>

#include "harness.h"

using vigil::testing::EngineHarness;

namespace {

std::string Ev(int id, int64_t ts, const std::string& cmd, const std::string& host = "h1") {
  return "{\"id\":" + std::to_string(id) + ",\"ts\":" + std::to_string(ts) + ",\"cmd\":\"" + cmd +
         "\",\"host\":\"" + host + "\"}";
}

const char kRules[] = R"(
rules:
  - id: either-tool
    key: [host]
    where: 'cmd contains "psexec" or cmd icontains ["mimikatz", "rubeus"]'
  - id: encoded
    key: [host]
    where: 'cmd matches /-enc(odedcommand)? [A-Za-z0-9+\/=]{8,}/i'
  - id: download-then-run
    key: [host]
    within: 1m
    pattern:
      - step: download
        where: 'cmd icontains "certutil" and cmd contains "-urlcache"'
      - step: run
        where: 'cmd endswith ".exe"'
  - id: not-indexable
    key: [host]
    where: 'not (cmd startswith "C:\\Windows\\")'
)";

}  // namespace

TEST_CASE("predicate dispatch: rules whose predicates did not match are not called",
          "[engine][predicates]") {
  EngineHarness h(kRules);
  h.Feed(Ev(1, 1000, "C:\\\\Windows\\\\explorer.exe"));
  h.Feed(Ev(2, 2000, "C:\\\\Windows\\\\psexec.exe \\\\\\\\host cmd"));
  h.Feed(Ev(3, 3000, "C:\\\\Windows\\\\x.exe -EncodedCommand SQBFAFgAIAAoA"));
  h.Feed(Ev(4, 4000, "C:\\\\Windows\\\\CertUtil.exe -urlcache -f http://x/a.txt"));
  h.Feed(Ev(5, 5000, "C:\\\\Users\\\\a\\\\a.exe"));
  h.Feed(Ev(6, 6000, "C:\\\\Users\\\\a\\\\MIMIKATZ.EXE"));
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{
                         "either-tool {\"host\":\"h1\"} [2] @2000",
                         "encoded {\"host\":\"h1\"} [3] @3000",
                         "download-then-run {\"host\":\"h1\"} [4,5] @5000",
                         "not-indexable {\"host\":\"h1\"} [5] @5000",
                         "either-tool {\"host\":\"h1\"} [6] @6000",
                         "not-indexable {\"host\":\"h1\"} [6] @6000",
                     });
  vigil::cep::Engine& e = h.engine();
  // Called only for the events that set one of its bits.
  CHECK(e.rule_stats(h.rule_index("either-tool")).events_seen == 2);
  CHECK(e.rule_stats(h.rule_index("encoded")).events_seen == 1);
  // The pattern: its start needs `certutil` (event 4); its partial match keeps it live for
  // the key, so it sees event 5 too, which completes it; with no state left, not event 6.
  CHECK(e.rule_stats(h.rule_index("download-then-run")).events_seen == 2);
  // A negation cannot be indexed: every event.
  CHECK(e.rule_stats(h.rule_index("not-indexable")).events_seen == 6);
}
