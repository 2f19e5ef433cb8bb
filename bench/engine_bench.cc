// The engine alone (events pre-decoded, no JSON): a 3-step pattern over 100k keys with
// `relaxed` and `any` contiguity, with 1, 100 and 1,000 loaded rules where the extra rules
// never match. Prints one JSON object per scenario.
//
//   build/release/bench/engine_bench [--events N] [--keys K] [--only CONTIGUITY:RULES]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "vigil/cep/engine.h"
#include "vigil/rules/ruleset.h"

namespace {

using vigil::cep::Event;
using vigil::cep::FieldRegistry;
using vigil::cep::Value;

struct CountingSink final : vigil::cep::MatchSink {
  uint64_t matches = 0;
  void OnMatch(const vigil::cep::Match&) override { ++matches; }
};

std::string Rules(const std::string& contiguity, int extra) {
  std::string y = "rules:\n";
  y += "  - id: fail-fail-success\n    key: [source.ip]\n    within: 1m\n    pattern:\n";
  y += "      - step: f1\n        where: 'event.action == \"login_failed\"'\n";
  y += "      - step: f2\n        where: 'event.action == \"login_failed\"'\n        contiguity: " +
       contiguity + "\n";
  y += "      - step: ok\n        where: 'event.action == \"login_ok\" and user.name != \"\"'\n"
       "        contiguity: " + contiguity + "\n";
  for (int i = 0; i < extra; ++i) {
    // Rules of the same shape on actions that never occur, on three different key fields.
    const char* key = i % 3 == 0 ? "source.ip" : (i % 3 == 1 ? "user.name" : "host.name");
    std::string n = std::to_string(i);
    y += "  - id: extra-" + n + "\n    key: [" + key + "]\n    within: 1m\n    pattern:\n";
    y += "      - step: a\n        where: 'event.action == \"never_" + n + "\"'\n";
    y += "      - step: b\n        where: 'event.action == \"never_b_" + n + "\"'\n        contiguity: " +
         contiguity + "\n";
    y += "      - step: c\n        where: 'event.action == \"never_c_" + n + "\"'\n        contiguity: " +
         contiguity + "\n";
  }
  return y;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Scenario {
  std::string contiguity;
  int rules;
};

}  // namespace

int main(int argc, char** argv) {
  size_t n_events = 2'000'000;
  int n_keys = 100'000;
  std::string only;  // e.g. "relaxed:1": run one scenario (for profilers)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) n_events = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--keys") == 0) n_keys = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  const Scenario scenarios[] = {{"relaxed", 1}, {"relaxed", 100}, {"relaxed", 1000},
                                {"any", 1},     {"any", 100},     {"any", 1000}};
  for (const Scenario& sc : scenarios) {
    if (!only.empty() && only != sc.contiguity + ":" + std::to_string(sc.rules)) continue;
    auto fields = std::make_shared<FieldRegistry>();
    vigil::rules::Diagnostics diags;
    auto rs = vigil::rules::LoadRulesetFromString(Rules(sc.contiguity, sc.rules - 1), "bench",
                                                  fields.get(), &diags);
    if (!diags.empty()) {
      std::fprintf(stderr, "%s\n", diags[0].ToString().c_str());
      return 1;
    }
    auto action = *fields->Find("event.action");
    auto ip = *fields->Find("source.ip");
    auto user = *fields->Find("user.name");
    auto host = fields->Find("host.name");
    // Pre-decoded events: 100k source addresses, 1k users, 70% failed logins.
    std::mt19937_64 rng(42);
    std::vector<std::shared_ptr<Event>> events;
    events.reserve(n_events);
    for (size_t i = 0; i < n_events; ++i) {
      auto e = std::make_shared<Event>();
      e->time = static_cast<int64_t>(i) * vigil::cep::kMillisecond;
      e->identity = i;
      e->ResetFields(fields->size());
      const uint64_t k = rng() % static_cast<uint64_t>(n_keys);  // one of n_keys addresses
      std::string ipv = "10." + std::to_string(k >> 16) + "." + std::to_string((k >> 8) & 255) +
                        "." + std::to_string(k & 255);
      e->ReserveStrings(64);
      e->SetField(ip, Value::String(e->CopyString(ipv)));
      e->SetField(user, Value::String(e->CopyString("user" + std::to_string(rng() % 1000))));
      if (host) e->SetField(*host, Value::String(e->CopyString("gw-1")));
      const char* act = rng() % 10 < 7 ? "login_failed" : (rng() % 2 ? "login_ok" : "logout");
      e->SetField(action, Value::String(e->CopyString(act)));
      rs.predicates->Scan(e.get());  // part of decoding, as in the pipeline (none here)
      events.push_back(std::move(e));
    }
    CountingSink sink;
    vigil::cep::Engine engine(&sink);
    engine.AddStream("default", {});
    for (const auto& r : rs.rules) {
      if (!engine.AddRule(r.spec).ok()) return 1;
    }
    auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    // The events stay alive after the run: freeing decoded events is the decoder's cost,
    // measured end to end (bench/README), not the engine's.
    for (const auto& e : events) engine.Process(e);
    engine.Finish();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // CPU time of this thread: on a shared machine, wall-clock includes waiting for a core.
    const double cpu = ThreadCpuSeconds() - cpu_start;
    std::printf(
        "{\"bench\":\"engine\",\"contiguity\":\"%s\",\"rules\":%d,\"keys\":%d,\"events\":%zu,"
        "\"matches\":%llu,\"seconds\":%.3f,\"events_per_s\":%.0f,\"ns_per_event\":%.1f,"
        "\"cpu_seconds\":%.3f,\"cpu_events_per_s\":%.0f}\n",
        sc.contiguity.c_str(), sc.rules, n_keys, n_events,
        static_cast<unsigned long long>(sink.matches), secs, n_events / secs, secs * 1e9 / n_events,
        cpu, n_events / cpu);
    std::fflush(stdout);
  }
  return 0;
}
