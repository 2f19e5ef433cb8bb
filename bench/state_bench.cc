// Durable state: the engine benchmark's workload (a 3-step pattern, 100k keys) with a
// RocksDB checkpoint every `--interval` of processing (default 5 s) against no
// checkpoints, and the time to restore a checkpoint of many keys. One JSON object per line.
//
//   build/release/bench/state_bench [--events N] [--keys K] [--interval SECONDS]
//                                   [--restore-keys K] [--dir DIR]
//                                   [--only throughput|recovery|bounded]
//                                   [--bounded-keys K] [--max-memory BYTES]
//
// `bounded` (state.max_memory): K fresh keys (default 10 million), each left with a
// partial match, through an engine limited to BYTES (default 256 MB) that checkpoints and
// evicts when over it, as the daemon does; reports peak RSS and the accounted bytes.
// Run it alone (--only bounded) so the other modes' memory does not count.
#include <malloc.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "vigil/cep/engine.h"
#include "vigil/cep/state_store.h"
#include "vigil/rules/ruleset.h"

namespace {

using vigil::cep::Event;
using vigil::cep::FieldRegistry;
using vigil::cep::Value;

struct CountingSink final : vigil::cep::MatchSink {
  uint64_t matches = 0;
  void OnMatch(const vigil::cep::Match&) override { ++matches; }
};

const char kRules[] = R"(
rules:
  - id: fail-fail-success
    key: [source.ip]
    within: 1m
    pattern:
      - step: f1
        where: 'event.action == "login_failed"'
      - step: f2
        where: 'event.action == "login_failed"'
      - step: ok
        where: 'event.action == "login_ok" and user.name != ""'
)";

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Workload {
  std::shared_ptr<FieldRegistry> fields = std::make_shared<FieldRegistry>();
  vigil::rules::Ruleset rules;
  std::vector<std::shared_ptr<Event>> events;
};

// `within` wide enough (1m at 1 ms per event) that keys keep partial matches: the state to
// checkpoint and restore is that of `keys` keys.
// With `fresh_keys`, event i is the first of key i, 1 µs apart, and every event starts a
// partial match: n_events keys with state (recovery).
Workload Make(size_t n_events, uint64_t n_keys, bool fresh_keys = false) {
  Workload w;
  vigil::rules::Diagnostics diags;
  w.rules = vigil::rules::LoadRulesetFromString(kRules, "bench", w.fields.get(), &diags);
  if (!diags.empty()) {
    std::fprintf(stderr, "%s\n", diags[0].ToString().c_str());
    std::exit(1);
  }
  auto action = *w.fields->Find("event.action");
  auto ip = *w.fields->Find("source.ip");
  auto user = *w.fields->Find("user.name");
  std::mt19937_64 rng(42);
  w.events.reserve(n_events);
  for (size_t i = 0; i < n_events; ++i) {
    auto e = std::make_shared<Event>();
    e->time = static_cast<int64_t>(i) * (fresh_keys ? vigil::cep::kMicrosecond : vigil::cep::kMillisecond);
    e->identity = i;
    e->ResetFields(w.fields->size());
    const uint64_t k = fresh_keys ? i : rng() % n_keys;
    std::string ipv = "10." + std::to_string(k >> 16) + "." + std::to_string((k >> 8) & 255) + "." +
                      std::to_string(k & 255);
    e->SetField(ip, Value::String(e->CopyString(ipv)));
    e->SetField(user, Value::String(e->CopyString("user" + std::to_string(rng() % 1000))));
    const char* act = fresh_keys || rng() % 10 < 7 ? "login_failed" : (rng() % 2 ? "login_ok" : "logout");
    e->SetField(action, Value::String(e->CopyString(act)));
    w.rules.predicates->Scan(e.get());
    w.events.push_back(std::move(e));
  }
  return w;
}

// VmRSS or VmHWM of this process, in bytes.
uint64_t ProcStatus(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') kb = std::strtoull(line + n + 1, nullptr, 10);
  }
  std::fclose(f);
  return kb * 1024;
}

// state.max_memory: `n_keys` fresh keys through a bounded engine (events made on the fly,
// so that only the engine holds them).
int Bounded(uint64_t n_keys, uint64_t max_memory, const std::string& dir, bool trace) {
  Workload w = Make(0, 1);
  auto action = *w.fields->Find("event.action");
  auto ip = *w.fields->Find("source.ip");
  auto user = *w.fields->Find("user.name");
  std::filesystem::remove_all(dir);
  auto opened = vigil::cep::OpenRocksDbStore(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  std::unique_ptr<vigil::cep::StateStore> store = std::move(opened).value();
  CountingSink sink;
  vigil::cep::Engine engine(&sink);
  engine.AddStream("default", {});
  for (const auto& r : w.rules.rules) (void)engine.AddRule(r.spec);
  engine.TrackChanges(true);
  vigil::Status limited = engine.LimitMemory(max_memory, store.get(), w.fields.get(),
                                             [&](Event* e) { w.rules.predicates->Scan(e); });
  if (!limited.ok()) {
    std::fprintf(stderr, "%s\n", limited.message().c_str());
    return 1;
  }
  const uint64_t rss_before = ProcStatus("VmRSS");
  uint64_t checkpoints = 0, peak_accounted = 0;
  std::mt19937_64 rng(7);
  std::string ipv;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t k = 0; k < n_keys; ++k) {
    auto e = std::make_shared<Event>();
    e->time = static_cast<int64_t>(k) * vigil::cep::kMicrosecond;  // 10M keys: 10 s < within
    e->identity = k;
    e->ResetFields(w.fields->size());
    ipv = "10." + std::to_string(k >> 16) + "." + std::to_string((k >> 8) & 255) + "." + std::to_string(k & 255);
    e->SetField(ip, Value::String(e->CopyString(ipv)));
    e->SetField(user, Value::String(e->CopyString("user" + std::to_string(rng() % 1000))));
    e->SetField(action, Value::String(e->CopyString("login_failed")));
    w.rules.predicates->Scan(e.get());
    engine.Process(std::move(e));
    if ((k & 1023) == 0 && engine.OverMemoryLimit()) {
      vigil::cep::StateBatch batch;
      engine.AddToCheckpoint(&batch, *w.fields);
      if (!store->Write(batch, false).ok()) return 1;  // as the daemon's eviction checkpoints
      ++checkpoints;
      peak_accounted = std::max<uint64_t>(peak_accounted, engine.memory_stats().bytes);
      engine.Evict();
      if (trace && checkpoints % 10 == 0) {
        const struct mallinfo2 h = mallinfo2();
        std::fprintf(stderr, "keys %llu accounted %zu rss %llu heap in use %zu held %zu\n",
                     static_cast<unsigned long long>(k), engine.memory_stats().bytes,
                     static_cast<unsigned long long>(ProcStatus("VmRSS")), h.uordblks + h.hblkhd,
                     h.arena + h.hblkhd);
      }
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const vigil::cep::MemoryStats m = engine.memory_stats();
  const uint64_t peak_rss = ProcStatus("VmHWM"), rss_end = ProcStatus("VmRSS");
  const struct mallinfo2 heap = mallinfo2();  // every arena: in use, and held from the OS
  malloc_trim(0);
  const uint64_t rss_trimmed = ProcStatus("VmRSS");
  if (!engine.memory_error().ok()) {
    std::fprintf(stderr, "%s\n", engine.memory_error().message().c_str());
    return 1;
  }
  std::printf(
      "{\"bench\":\"state\",\"mode\":\"bounded\",\"keys\":%llu,\"max_memory\":%llu,\"seconds\":%.3f,"
      "\"events_per_s\":%.0f,\"checkpoints\":%llu,\"keys_in_memory\":%zu,\"evicted_keys\":%zu,"
      "\"evictions\":%llu,\"accounted_bytes\":%zu,\"peak_accounted_bytes\":%llu,\"rss_before\":%llu,"
      "\"rss_end\":%llu,\"peak_rss\":%llu,\"heap_in_use\":%llu,\"heap_held\":%llu,\"rss_after_trim\":%llu,"
      "\"store_bytes\":%llu}\n",
      static_cast<unsigned long long>(n_keys), static_cast<unsigned long long>(max_memory), secs,
      static_cast<double>(n_keys) / secs, static_cast<unsigned long long>(checkpoints), engine.live_keys(),
      m.evicted_keys, static_cast<unsigned long long>(m.evictions), m.bytes,
      static_cast<unsigned long long>(peak_accounted), static_cast<unsigned long long>(rss_before),
      static_cast<unsigned long long>(rss_end), static_cast<unsigned long long>(peak_rss),
      static_cast<unsigned long long>(heap.uordblks + heap.hblkhd),
      static_cast<unsigned long long>(heap.arena + heap.hblkhd), static_cast<unsigned long long>(rss_trimmed),
      static_cast<unsigned long long>(store->ApproximateBytes(vigil::cep::StateFamily::kKeyed)));
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_events = 2'000'000;
  uint64_t n_keys = 100'000;
  double interval = 5;
  uint64_t restore_keys = 1'000'000;
  std::string dir = "/tmp/vigil-state-bench";
  std::string only;  // empty: throughput and recovery
  uint64_t bounded_keys = 10'000'000, max_memory = 256'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) n_events = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--keys") == 0) n_keys = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--interval") == 0) interval = std::stod(argv[i + 1]);
    if (std::strcmp(argv[i], "--restore-keys") == 0) restore_keys = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    if (std::strcmp(argv[i], "--bounded-keys") == 0) bounded_keys = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-memory") == 0) max_memory = std::stoull(argv[i + 1]);
  }
  if (only == "bounded") {
    const int rc = Bounded(bounded_keys, max_memory, dir, std::getenv("STATE_BENCH_TRACE") != nullptr);
    std::filesystem::remove_all(dir);
    return rc;
  }

  // Throughput: in memory, then with a durable checkpoint every `interval` of CPU time.
  Workload w = Make(only == "recovery" ? 0 : n_events, n_keys);
  for (bool durable : {false, true}) {
    if (only == "recovery") break;
    std::filesystem::remove_all(dir);
    std::unique_ptr<vigil::cep::StateStore> store;
    if (durable) {
      auto opened = vigil::cep::OpenRocksDbStore(dir);
      if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", opened.status().message().c_str());
        return 1;
      }
      store = std::move(opened).value();
    }
    CountingSink sink;
    vigil::cep::Engine engine(&sink);
    engine.AddStream("default", {});
    for (const auto& r : w.rules.rules) (void)engine.AddRule(r.spec);
    engine.TrackChanges(durable);
    uint64_t checkpoints = 0, written = 0, bytes = 0;
    const double start = CpuSeconds();
    double next = start + interval;
    for (size_t i = 0; i < w.events.size(); ++i) {
      engine.Process(w.events[i]);
      if (durable && (i & 1023) == 0 && CpuSeconds() >= next) {
        vigil::cep::StateBatch batch;
        written += engine.AddToCheckpoint(&batch, *w.fields).keys_written;
        bytes += batch.bytes();
        if (!store->Write(batch, true).ok()) return 1;
        ++checkpoints;
        next = CpuSeconds() + interval;
      }
    }
    if (durable) {  // the last one, as a graceful stop makes
      vigil::cep::StateBatch batch;
      written += engine.AddToCheckpoint(&batch, *w.fields).keys_written;
      bytes += batch.bytes();
      if (!store->Write(batch, true).ok()) return 1;
      ++checkpoints;
    }
    const double secs = CpuSeconds() - start;  // process CPU: RocksDB's threads count too
    std::printf(
        "{\"bench\":\"state\",\"mode\":\"%s\",\"events\":%zu,\"keys\":%llu,\"checkpoints\":%llu,"
        "\"states_written\":%llu,\"bytes_written\":%llu,\"cpu_seconds\":%.3f,\"events_per_s\":%.0f,"
        "\"live_keys\":%zu}\n",
        durable ? "durable" : "memory", n_events, static_cast<unsigned long long>(n_keys),
        static_cast<unsigned long long>(checkpoints), static_cast<unsigned long long>(written),
        static_cast<unsigned long long>(bytes), secs, n_events / secs, engine.live_keys());
    std::fflush(stdout);
  }

  // Recovery: `restore_keys` keys, each with a partial match, checkpointed, then restored.
  if (only != "throughput") {
    Workload big = Make(restore_keys, restore_keys, true);
    std::filesystem::remove_all(dir);
    auto opened = vigil::cep::OpenRocksDbStore(dir);
    if (!opened.ok()) return 1;
    std::unique_ptr<vigil::cep::StateStore> store = std::move(opened).value();
    {
      CountingSink sink;
      vigil::cep::Engine engine(&sink);
      engine.AddStream("default", {});
      for (const auto& r : big.rules.rules) (void)engine.AddRule(r.spec);
      engine.TrackChanges(true);
      for (const auto& e : big.events) engine.Process(e);
      vigil::cep::StateBatch batch;
      engine.AddToCheckpoint(&batch, *big.fields);
      if (!store->Write(batch, true).ok()) return 1;
    }
    store.reset();
    big.events.clear();
    auto start = std::chrono::steady_clock::now();
    auto reopened = vigil::cep::OpenRocksDbStore(dir);
    if (!reopened.ok()) return 1;
    CountingSink sink;
    vigil::cep::Engine engine(&sink);
    engine.AddStream("default", {});
    for (const auto& r : big.rules.rules) (void)engine.AddRule(r.spec);
    auto restored = engine.Restore(**reopened, *big.fields,
                                   [&](Event* e) { big.rules.predicates->Scan(e); });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!restored.ok()) {
      std::fprintf(stderr, "%s\n", restored.status().message().c_str());
      return 1;
    }
    std::printf("{\"bench\":\"state\",\"mode\":\"recovery\",\"keys_restored\":%zu,\"seconds\":%.3f,"
                "\"store_bytes\":%llu}\n",
                restored->keys, secs,
                static_cast<unsigned long long>((*reopened)->ApproximateBytes(vigil::cep::StateFamily::kKeyed)));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
