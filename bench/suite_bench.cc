// The benchmark suite (issue 9; docs/performance.md). Generates the soc and iot workloads
// (seeded, deterministic), runs every scenario in a child process of its own (so each one's
// peak RSS is its own), writes a JSON report and prints a table of every figure against
// its target. bench/run builds Release and runs this.
//
//   build/release/bench/suite_bench --rulesets DIR --out DIR --report FILE [--smoke]
//       [--soc-events N] [--iot-events N] [--state-keys N] [--seed S] [--only NAME,...]
//
// End to end = the file through ingest::LineReader and edge::Pipeline::Process (the code
// `vigil replay --config` runs: JSON decoder, shared predicate scan, engine, alert
// building) into an alerting::Outbox with one sink that accepts every alert (its worker
// parses each alert, as every real sink's does).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <simdjson.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "suite_gen.h"
#include "vigil/alerting/outbox.h"
#include "vigil/cep/condition.h"
#include "vigil/cep/engine.h"
#include "vigil/cep/state_store.h"
#include "vigil/edge/pipeline.h"
#include "vigil/ingest/json_decoder.h"
#include "vigil/ingest/line_reader.h"
#include "vigil/rules/ruleset.h"

namespace {

using namespace vigil;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string rulesets = "rulesets";
  std::string out = "build/bench";
  std::string report = "build/bench-report.json";
  std::string command;
  std::string only;
  std::string stages = "read,decode,scan,full";  // of the workload scenarios (profiling: full)
  bool smoke = false;
  uint64_t seed = 42;
  size_t soc_events = 1'000'000;
  size_t iot_events = 1'000'000;
  size_t state_keys = 1'000'000;
  size_t engine_events = 1'000'000;  // baseline (c)
  size_t engine_keys = 100'000;
  double budget_s = 3.0;            // per baseline (b) method
  // Rules of the soc50 and soc1000 workloads: the shipped rulesets/soc plus generated ones
  // up to these totals (main works out how many to generate).
  size_t small_total = 50, big_total = 1000;
  size_t small_rules = 26, big_rules = 976;  // generated
};

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double RssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// A scenario's figures: numbers and strings, sent from the child as "n key value" /
// "s key value" lines.
struct Figures {
  std::vector<std::pair<std::string, double>> num;
  std::vector<std::pair<std::string, std::string>> str;
  void Set(const std::string& k, double v) { num.emplace_back(k, v); }
  void SetS(const std::string& k, const std::string& v) { str.emplace_back(k, v); }
  double Get(const std::string& k, double dflt = NAN) const {
    for (const auto& [key, v] : num)
      if (key == k) return v;
    return dflt;
  }
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "suite_bench: %s\n", msg.c_str());
  std::fflush(stderr);
  _exit(1);
}

// ---------------------------------------------------------------- rules and files

struct Workload {
  std::string name;
  std::vector<std::string> rule_paths;
  std::string file;
};

rules::Ruleset Load(const std::vector<std::string>& paths, cep::FieldRegistry* fields) {
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRuleset(paths, fields, &diags);
  if (!diags.empty()) Die(diags[0].ToString());
  return rs;
}

rules::Ruleset LoadString(const std::string& yaml, cep::FieldRegistry* fields) {
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(yaml, "bench", fields, &diags);
  if (!diags.empty()) Die(diags[0].ToString());
  return rs;
}

size_t EnabledRules(const rules::Ruleset& rs) {
  size_t n = 0;
  for (const auto& r : rs.rules) n += r.enabled;
  return n;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream o(path, std::ios::binary);
  o << text;
  if (!o) Die("cannot write " + path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const char* const kStateYaml =
    "rules:\n"
    "  - id: state-one-partial-match\n    key: [source.ip]\n    within: 1h\n    pattern:\n"
    "      - step: a\n        where: 'event.action == \"step_a\"'\n"
    "      - step: b\n        where: 'event.action == \"step_b\"'\n";
const char* const kIdleYaml =
    "rules:\n"
    "  - id: state-idle-threshold\n    key: [source.ip]\n    where: 'event.action == \"step_a\"'\n"
    "    threshold: {count: 1000, window: 1h}\n";

// Writes the data files unless a stamp says they are there with the same parameters.
Figures Generate(const Options& o) {
  Figures f;
  const std::string stamp = o.out + "/data.stamp";
  const std::string want = "v1 seed=" + std::to_string(o.seed) + " soc=" + std::to_string(o.soc_events) +
                           " iot=" + std::to_string(o.iot_events) + " small=" + std::to_string(o.small_rules) + " big=" + std::to_string(o.big_rules) + " state=" + std::to_string(o.state_keys) + "\n";
  auto t0 = Clock::now();
  const auto gen50 = bench::MakeRules(o.small_rules, o.seed);
  const auto gen1000 = bench::MakeRules(o.big_rules, o.seed);
  WriteFile(o.out + "/gen50.yaml", bench::RulesYaml(gen50));
  WriteFile(o.out + "/gen1000.yaml", bench::RulesYaml(gen1000));
  WriteFile(o.out + "/state.yaml", kStateYaml);
  WriteFile(o.out + "/idle.yaml", kIdleYaml);
  if (ReadFile(stamp) == want) {
    f.Set("generated", 0);
    return f;
  }
  {
    // The events carry the samples of the 1,000-rule set (the 50-rule set's rules are
    // its first ones), so one file serves both.
    bench::SocGenerator g(o.seed, &gen1000);
    std::ofstream all(o.out + "/soc.jsonl", std::ios::binary);
    std::ofstream p0(o.out + "/soc.p0.jsonl", std::ios::binary), p1(o.out + "/soc.p1.jsonl", std::ios::binary);
    size_t bytes = 0;
    std::string key;
    for (size_t i = 0; i < o.soc_events; ++i) {
      std::string e = g.Next(static_cast<int64_t>(i), &key);
      bytes += e.size();
      e.push_back('\n');
      all << e;
      (std::hash<std::string>{}(key) % 2 == 0 ? p0 : p1) << e;
    }
    f.Set("soc_bytes_per_event", static_cast<double>(bytes) / static_cast<double>(o.soc_events));
  }
  {
    bench::IotGenerator g(o.seed, 50000);
    std::ofstream out(o.out + "/iot.jsonl", std::ios::binary);
    for (size_t i = 0; i < o.iot_events; ++i) out << g.Next(static_cast<int64_t>(i)) << '\n';
  }
  {
    std::ofstream out(o.out + "/state.jsonl", std::ios::binary);
    char ts[32];
    for (size_t i = 0; i < o.state_keys; ++i) {
      bench::FormatTime(bench::kStartMs + static_cast<int64_t>(i / 1000), ts);
      out << "{\"@timestamp\":\"" << ts << "\",\"event\":{\"action\":\"step_a\"},\"source\":{\"ip\":\"10."
          << (i >> 16) << "." << ((i >> 8) & 255) << "." << (i & 255) << "\"}}\n";
    }
  }
  WriteFile(stamp, want);
  f.Set("generated", 1);
  f.Set("generate_seconds", Seconds(t0, Clock::now()));
  return f;
}

// ---------------------------------------------------------------- the outbox

class AcceptingSink final : public alerting::Sink {
 public:
  alerting::DeliveryResult Deliver(const alerting::AlertView&) override { return alerting::DeliveryResult::Delivered(); }
};

struct BenchOutbox {
  std::unique_ptr<cep::StateStore> store = cep::NewMemoryStore();
  std::unique_ptr<alerting::Outbox> outbox;
  BenchOutbox() {
    std::vector<alerting::OutboxSink> sinks;
    sinks.push_back({"accept", std::make_unique<AcceptingSink>()});
    alerting::OutboxOptions oo;
    oo.log = [](const std::string&) {};
    outbox = std::make_unique<alerting::Outbox>(store.get(), std::move(sinks), oo);
    if (!outbox->Recover().ok()) Die("outbox recover failed");
    outbox->Start();
  }
  ~BenchOutbox() { outbox->Stop(); }
};

// Alerts into the outbox; with `measure`, the time from reading the current record to the
// alert being in the outbox.
class OutboxHandler final : public edge::AlertHandler {
 public:
  explicit OutboxHandler(alerting::Outbox* outbox) : outbox_(outbox) {}
  void OnAlert(const alerting::Alert& alert) override {
    outbox_->Append(alert, 1);
    ++alerts;
    if (in_record) {
      latency_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - read_at).count());
      latency_cpu_ns.push_back((ThreadCpu() - read_cpu) * 1e9);
    }
  }
  alerting::Outbox* outbox_;
  uint64_t alerts = 0;
  bool in_record = false;
  Clock::time_point read_at;
  double read_cpu = 0;  // this thread's CPU time at read_at
  std::vector<double> latency_ns, latency_cpu_ns;
};

// ---------------------------------------------------------------- file stages

enum class Stage { kRead, kDecode, kScan, kFull };
const char* StageName(Stage s) {
  switch (s) {
    case Stage::kRead: return "read";
    case Stage::kDecode: return "decode";
    case Stage::kScan: return "scan";
    case Stage::kFull: return "full";
  }
  return "";
}

struct StateSnapshot {
  double keys = 0, bytes = 0, partial = 0;
};

StateSnapshot Snapshot(const cep::Engine& e) {
  StateSnapshot s;
  for (uint32_t i = 0; i < e.rule_count(); ++i) {
    cep::RuleStateStats st = e.rule_state(i);
    s.keys += static_cast<double>(st.keys);
    s.bytes += static_cast<double>(st.bytes);
    s.partial += static_cast<double>(st.partial_matches);
  }
  return s;
}

// Passes over the workload's file with the rules loaded once, each up to one stage: read
// (LineReader only), decode (+ the JSON decoder, a new event per record as the pipeline
// makes), scan (+ the shared string-predicate scan), full (Pipeline::Process, alerts into
// the outbox, Finish). Figures are named "<stage>.<figure>". With `pace_rate` > 0 records
// are read at that rate and the alert latency is measured.
Figures RunFile(const Workload& w, const std::vector<Stage>& stages, double pace_rate = 0) {
  auto fields = std::make_shared<cep::FieldRegistry>();
  const auto load0 = Clock::now();
  const double load_cpu0 = ThreadCpu();
  rules::Ruleset loaded = Load(w.rule_paths, fields.get());
  Figures f;
  f.Set("load_seconds", Seconds(load0, Clock::now()));
  f.Set("load_cpu_seconds", ThreadCpu() - load_cpu0);
  f.Set("rules", static_cast<double>(EnabledRules(loaded)));
  f.Set("string_predicates", static_cast<double>(loaded.predicates->predicate_count()));
  f.Set("fields", static_cast<double>(fields->size()));
  edge::PipelineOptions po;  // json, @timestamp, max_delay 0: replay's defaults
  BenchOutbox box;
  OutboxHandler handler(box.outbox.get());
  auto created = edge::Pipeline::Create(std::move(loaded), fields, po, &handler);
  if (!created.ok()) Die(created.status().message());
  std::unique_ptr<edge::Pipeline> pipeline = std::move(created).value();
  std::shared_ptr<const rules::PredicateScanner> scanner = pipeline->ruleset().predicates;
  std::unique_ptr<ingest::Decoder> decoder = ingest::NewJsonDecoder(fields.get(), po.timestamp);
  for (Stage stage : stages) {
    const std::string pre = std::string(StageName(stage)) + ".";
    ingest::LineReader reader;
    Status st = reader.Open(w.file);
    if (!st.ok()) Die(st.message());
    ingest::LineReader::Line line;
    std::string error;
    uint64_t events = 0, bytes = 0, ok = 0;
    StateSnapshot before_finish;
    rusage ru0{};
    getrusage(RUSAGE_THREAD, &ru0);
    const double cpu0 = ThreadCpu();
    const auto t0 = Clock::now();
    const double period_ns = pace_rate > 0 ? 1e9 / pace_rate : 0;
    while (true) {
      if (pace_rate > 0) {
        const auto due = t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(events) * period_ns));
        while (Clock::now() < due) {
        }
      }
      if (!reader.Next(&line, &st)) break;
      ++events;
      bytes += line.text.size();
      switch (stage) {
        case Stage::kRead: ok += !line.text.empty(); break;
        case Stage::kDecode:
        case Stage::kScan: {
          auto event = std::make_shared<cep::Event>();  // as the pipeline does, per record
          if (decoder->Decode(line.text, event.get(), &error) == ingest::DecodeResult::kOk) {
            ++ok;
            if (stage == Stage::kScan) scanner->Scan(event.get());
          }
          break;
        }
        case Stage::kFull:
          if (pace_rate > 0) {
            handler.read_at = Clock::now();
            handler.read_cpu = ThreadCpu();
            handler.in_record = true;
          }
          ok += pipeline->Process(line.text, w.file, line.offset, &error) == edge::RecordOutcome::kProcessed;
          handler.in_record = false;
          break;
      }
    }
    if (!st.ok()) Die(st.message());
    if (stage == Stage::kFull) {
      before_finish = Snapshot(pipeline->engine());
      pipeline->Finish();
    }
    const double secs = Seconds(t0, Clock::now());
    const double cpu = ThreadCpu() - cpu0;
    if (ok != events) Die(w.name + " " + StageName(stage) + ": " + std::to_string(events - ok) + " records not processed: " + error);
    f.Set(pre + "events", static_cast<double>(events));
    f.Set(pre + "bytes_per_event", static_cast<double>(bytes) / static_cast<double>(events));
    f.Set(pre + "seconds", secs);
    f.Set(pre + "events_per_s", static_cast<double>(events) / secs);
    f.Set(pre + "ns_per_event", secs * 1e9 / static_cast<double>(events));
    f.Set(pre + "cpu_seconds", cpu);
    f.Set(pre + "cpu_ns_per_event", cpu * 1e9 / static_cast<double>(events));
    if (stage == Stage::kFull) {
      f.Set(pre + "alerts", static_cast<double>(pipeline->stats().alerts));
      f.Set(pre + "state_keys", before_finish.keys);
      f.Set(pre + "state_partial_matches", before_finish.partial);
      f.Set(pre + "state_bytes", before_finish.bytes);
      f.Set(pre + "state_bytes_per_key", before_finish.keys > 0 ? before_finish.bytes / before_finish.keys : 0);
    }
    if (stage == Stage::kFull) {
      struct mallinfo2 mi = mallinfo2();
      f.Set(pre + "heap_in_use_bytes", static_cast<double>(mi.uordblks + mi.hblkhd));
      f.Set(pre + "heap_free_bytes", static_cast<double>(mi.fordblks));
    }
    if (pace_rate > 0 && stage == Stage::kFull) {
      rusage ru1{};
      getrusage(RUSAGE_THREAD, &ru1);
      f.Set("involuntary_context_switches", static_cast<double>(ru1.ru_nivcsw - ru0.ru_nivcsw));
      auto& l = handler.latency_ns;
      auto& lc = handler.latency_cpu_ns;
      std::sort(l.begin(), l.end());
      std::sort(lc.begin(), lc.end());
      auto pct = [&](double q) {
        return l.empty() ? NAN : l[std::min(l.size() - 1, static_cast<size_t>(q * static_cast<double>(l.size())))];
      };
      auto pct_cpu = [&](double q) {
        return lc.empty() ? NAN : lc[std::min(lc.size() - 1, static_cast<size_t>(q * static_cast<double>(lc.size())))];
      };
      f.Set("latency_cpu_p50_ns", pct_cpu(0.50));
      f.Set("latency_cpu_p99_ns", pct_cpu(0.99));
      f.Set("latency_cpu_p999_ns", pct_cpu(0.999));
      f.Set("paced_rate", pace_rate);
      f.Set("latency_samples", static_cast<double>(l.size()));
      f.Set("latency_p50_ns", pct(0.50));
      f.Set("latency_p99_ns", pct(0.99));
      f.Set("latency_p999_ns", pct(0.999));
      f.Set("latency_max_ns", l.empty() ? NAN : l.back());
    }
  }
  return f;
}

// ---------------------------------------------------------------- baseline (a): simdjson

// simdjson On-Demand over the same file, reading the same fields (every path the rules
// read, found through a trie as the decoder does) and nothing else: no event, no copies.
Figures RunSimdjson(const Workload& w) {
  cep::FieldRegistry fields;
  rules::Ruleset rs = Load(w.rule_paths, &fields);
  struct Node {
    std::unordered_map<std::string, int> kids;
    bool leaf = false;
  };
  std::vector<Node> trie(1);
  auto add = [&](const std::string& path) {
    int at = 0;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      auto it = trie[static_cast<size_t>(at)].kids.find(part);
      int next;
      if (it == trie[static_cast<size_t>(at)].kids.end()) {
        next = static_cast<int>(trie.size());
        trie[static_cast<size_t>(at)].kids.emplace(part, next);
        trie.emplace_back();
      } else {
        next = it->second;
      }
      at = next;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    trie[static_cast<size_t>(at)].leaf = true;
  };
  for (size_t i = 0; i < fields.size(); ++i) add(fields.path(static_cast<cep::FieldId>(i)));
  add("@timestamp");
  simdjson::ondemand::parser parser;
  uint64_t touched = 0, checksum = 0;
  std::function<void(simdjson::ondemand::object, int)> walk = [&](simdjson::ondemand::object obj, int node) {
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) Die("simdjson key");
      const auto& kids = trie[static_cast<size_t>(node)].kids;
      auto it = kids.find(std::string(key));
      if (it == kids.end()) continue;  // skipped unread
      simdjson::ondemand::value v;
      if (field.value().get(v)) Die("simdjson value");
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) Die("simdjson type");
      const Node& n = trie[static_cast<size_t>(it->second)];
      if (t == simdjson::ondemand::json_type::object && !n.kids.empty()) {
        simdjson::ondemand::object sub;
        if (v.get_object().get(sub)) Die("simdjson object");
        walk(sub, it->second);
      } else if (n.leaf) {
        ++touched;
        if (t == simdjson::ondemand::json_type::string) {
          std::string_view s;
          if (!v.get_string().get(s)) checksum += s.size();
        } else if (t == simdjson::ondemand::json_type::number) {
          double d;
          if (!v.get_double().get(d)) checksum += static_cast<uint64_t>(d);
        }
      }
    }
  };
  ingest::LineReader reader;
  Status st = reader.Open(w.file);
  if (!st.ok()) Die(st.message());
  ingest::LineReader::Line line;
  std::string buf;
  uint64_t events = 0;
  const double cpu0 = ThreadCpu();
  const auto t0 = Clock::now();
  while (reader.Next(&line, &st)) {
    ++events;
    buf.assign(line.text);  // simdjson needs padding after the text
    buf.resize(line.text.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    if (parser.iterate(simdjson::padded_string_view(buf.data(), line.text.size(), buf.size())).get(doc)) Die("simdjson iterate");
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) Die("simdjson object");
    walk(obj, 0);
  }
  const double secs = Seconds(t0, Clock::now());
  const double cpu = ThreadCpu() - cpu0;
  Figures f;
  f.Set("events", static_cast<double>(events));
  f.Set("fields", static_cast<double>(fields.size()));
  f.Set("fields_touched_per_event", static_cast<double>(touched) / static_cast<double>(events));
  f.Set("checksum", static_cast<double>(checksum % 1000000007));
  f.Set("seconds", secs);
  f.Set("events_per_s", static_cast<double>(events) / secs);
  f.Set("ns_per_event", secs * 1e9 / static_cast<double>(events));
  f.Set("cpu_ns_per_event", cpu * 1e9 / static_cast<double>(events));
  f.SetS("kernel", simdjson::get_active_implementation()->name());
  return f;
}

// ---------------------------------------------------------------- baseline (b): per rule

// The generated rules' predicates one rule at a time (p0 and (p1 or p2 or p3 or p4)), each
// predicate its own PCRE2 (JIT) or std::regex, against Vigil's shared scan plus the rules'
// conditions; over the first `pool` records of the soc file, decoded once.
Figures RunPerRule(const Options& o, const Workload& w, size_t n_generated) {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Ruleset rs = Load(w.rule_paths, fields.get());
  const auto gen = bench::MakeRules(n_generated, o.seed);
  auto decoder = ingest::NewJsonDecoder(fields.get(), ingest::TimestampOptions{});
  const size_t pool = o.smoke ? 200 : 2000;
  std::vector<std::unique_ptr<cep::Event>> events;
  struct Values {
    std::string v[3];
    bool has[3] = {false, false, false};
  };
  std::vector<Values> values;
  const cep::FieldId ids[3] = {*fields->Find("process.command_line"), *fields->Find("url.path"),
                               *fields->Find("user.name")};
  {
    ingest::LineReader reader;
    Status st = reader.Open(w.file);
    if (!st.ok()) Die(st.message());
    ingest::LineReader::Line line;
    std::string error;
    while (events.size() < pool && reader.Next(&line, &st)) {
      auto e = std::make_unique<cep::Event>();
      if (decoder->Decode(line.text, e.get(), &error) != ingest::DecodeResult::kOk) Die(error);
      Values v;
      for (int k = 0; k < 3; ++k) {
        const cep::Value& x = e->field(ids[k]);
        if (x.is_string()) {
          v.v[k] = std::string(x.s);
          v.has[k] = true;
        }
      }
      values.push_back(std::move(v));
      events.push_back(std::move(e));
    }
  }
  std::vector<const cep::Condition*> conds;
  for (const auto& r : rs.rules) {
    if (r.id.rfind("gen-", 0) == 0) conds.push_back(r.spec.where.get());
  }
  if (conds.size() != n_generated) Die("generated rules missing");
  auto field_index = [](bench::GenPredicate::Field fl) { return static_cast<int>(fl); };
  auto as_regex = [](const bench::GenPredicate& p, bool pcre) {
    std::string esc;
    if (p.op != bench::GenPredicate::Op::kRegex) {
      for (char c : p.text) {
        if (std::strchr("\\^$.|?*+()[]{}/", c)) esc.push_back('\\');
        esc.push_back(c);
      }
    }
    switch (p.op) {
      case bench::GenPredicate::Op::kIContains: return esc;
      case bench::GenPredicate::Op::kStartsWith: return "^" + esc;
      case bench::GenPredicate::Op::kEndsWith: return esc + (pcre ? "\\z" : "$");
      case bench::GenPredicate::Op::kRegex: return p.text;
    }
    return std::string();
  };
  auto caseless = [](const bench::GenPredicate& p) { return p.caseless || p.op == bench::GenPredicate::Op::kIContains; };
  // PCRE2
  std::vector<pcre2_code*> pc;
  pcre2_match_data* md = nullptr;
  for (const auto& r : gen) {
    for (const auto& p : r.preds) {
      std::string re = as_regex(p, true);
      int errcode = 0;
      PCRE2_SIZE erroff = 0;
      pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.c_str()), re.size(), caseless(p) ? PCRE2_CASELESS : 0,
                                    &errcode, &erroff, nullptr);
      if (c == nullptr || pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) Die("pcre2 " + re);
      pc.push_back(c);
    }
  }
  md = pcre2_match_data_create(4, nullptr);
  std::vector<std::regex> sre;
  for (const auto& r : gen) {
    for (const auto& p : r.preds) {
      auto fl = std::regex::ECMAScript | std::regex::optimize;
      if (caseless(p)) fl |= std::regex::icase;
      sre.emplace_back(as_regex(p, false), fl);
    }
  }
  auto per_rule = [&](size_t i, const std::function<bool(size_t, const std::string&)>& test) {
    const Values& v = values[i];
    uint64_t hits = 0;
    for (size_t r = 0; r < gen.size(); ++r) {
      auto eval = [&](size_t k) {
        const int fi = field_index(gen[r].preds[k].field);
        return v.has[fi] && test(r * 5 + k, v.v[fi]);
      };
      hits += eval(0) && (eval(1) || eval(2) || eval(3) || eval(4));
    }
    return hits;
  };
  auto pcre2 = [&](size_t i) {
    return per_rule(i, [&](size_t k, const std::string& s) {
      return pcre2_jit_match(pc[k], reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr) >= 0;
    });
  };
  auto std_regex = [&](size_t i) { return per_rule(i, [&](size_t k, const std::string& s) { return std::regex_search(s, sre[k]); }); };
  auto vigil_shared = [&](size_t i) {
    cep::Event& e = *events[i];
    rs.predicates->Scan(&e);
    uint64_t n = 0;
    cep::EvalContext ctx{e, nullptr};
    for (const cep::Condition* c : conds) n += c->Eval(ctx);
    return n;
  };
  struct Method {
    const char* name;
    std::function<uint64_t(size_t)> fn;
  };
  const Method methods[] = {{"vigil_shared_scan", vigil_shared}, {"pcre2", pcre2}, {"std_regex", std_regex}};
  Figures f;
  f.Set("rules_evaluated", static_cast<double>(gen.size()));
  f.Set("predicates_evaluated", static_cast<double>(gen.size() * 5));
  f.Set("pool", static_cast<double>(events.size()));
  uint64_t reference = 0;
  for (size_t i = 0; i < events.size(); ++i) reference += vigil_shared(i);
  f.Set("hits_in_pool", static_cast<double>(reference));
  bool agree = true;
  for (const Method& m : methods) {
    uint64_t n = 0, hits = 0;
    const auto t0 = Clock::now();
    double secs = 0;
    // Whole passes over the pool (so the hits can be checked), until the time budget.
    do {
      for (size_t i = 0; i < events.size(); ++i) hits += m.fn(i);
      n += events.size();
      secs = Seconds(t0, Clock::now());
    } while (secs < o.budget_s && n < 50 * events.size());
    agree &= hits == reference * (n / events.size());
    f.Set(std::string(m.name) + "_ns_per_event", secs * 1e9 / static_cast<double>(n));
    f.Set(std::string(m.name) + "_events", static_cast<double>(n));
  }
  f.Set("methods_agree", agree ? 1 : 0);
  for (auto* c : pc) pcre2_code_free(c);
  pcre2_match_data_free(md);
  if (!agree) Die("per-rule methods disagree with the shared scan on the hits");
  return f;
}

// ---------------------------------------------------------------- baseline (c): naive engine

// Pre-decoded auth events (as bench/engine_bench): 70% login_failed, keys = source.ip.
struct MemEvent {
  int64_t time;
  std::string ip, user, action;
};

std::vector<MemEvent> MemEvents(size_t n, size_t keys, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<MemEvent> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = rng() % keys;
    MemEvent e;
    e.time = static_cast<int64_t>(i) * cep::kMillisecond;
    e.ip = "10." + std::to_string(k >> 16) + "." + std::to_string((k >> 8) & 255) + "." + std::to_string(k & 255);
    e.user = "user" + std::to_string(rng() % 1000);
    e.action = rng() % 10 < 7 ? "login_failed" : (rng() % 2 ? "login_ok" : "logout");
    out.push_back(std::move(e));
  }
  return out;
}

const char* const kAnyYaml =
    "rules:\n"
    "  - id: fail-fail-success\n    key: [source.ip]\n    within: 1m\n    pattern:\n"
    "      - step: f1\n        where: 'event.action == \"login_failed\"'\n"
    "      - step: f2\n        where: 'event.action == \"login_failed\"'\n        contiguity: any\n"
    "      - step: ok\n        where: 'event.action == \"login_ok\" and user.name != \"\"'\n        contiguity: any\n";

Figures RunVigilAny(const Options& o) {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Ruleset rs = LoadString(kAnyYaml, fields.get());
  const auto ip = *fields->Find("source.ip"), user = *fields->Find("user.name"), action = *fields->Find("event.action");
  std::vector<std::shared_ptr<cep::Event>> events;
  {
    auto mem = MemEvents(o.engine_events, o.engine_keys, o.seed);
    events.reserve(mem.size());
    for (size_t i = 0; i < mem.size(); ++i) {
      auto e = std::make_shared<cep::Event>();
      e->time = mem[i].time;
      e->identity = i;
      e->ResetFields(fields->size());
      e->ReserveStrings(64);
      e->SetField(ip, cep::Value::String(e->CopyString(mem[i].ip)));
      e->SetField(user, cep::Value::String(e->CopyString(mem[i].user)));
      e->SetField(action, cep::Value::String(e->CopyString(mem[i].action)));
      rs.predicates->Scan(e.get());
      events.push_back(std::move(e));
    }
  }
  struct Sink final : cep::MatchSink {
    uint64_t matches = 0;
    void OnMatch(const cep::Match&) override { ++matches; }
  } sink;
  cep::Engine engine(&sink);
  engine.AddStream("default", {});
  for (const auto& r : rs.rules)
    if (!engine.AddRule(r.spec).ok()) Die("AddRule");
  const double rss0 = RssBytes();
  const auto t0 = Clock::now();
  double peak_partial = 0, peak_bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    engine.Process(events[i]);
    if ((i & 0xffff) == 0xffff) {
      StateSnapshot s = Snapshot(engine);
      peak_partial = std::max(peak_partial, s.partial);
      peak_bytes = std::max(peak_bytes, s.bytes);
    }
  }
  const double rss1 = RssBytes();
  engine.Finish();
  const double secs = Seconds(t0, Clock::now());
  Figures f;
  f.Set("events", static_cast<double>(events.size()));
  f.Set("keys", static_cast<double>(o.engine_keys));
  f.Set("matches", static_cast<double>(sink.matches));
  f.Set("events_per_s", static_cast<double>(events.size()) / secs);
  f.Set("ns_per_event", secs * 1e9 / static_cast<double>(events.size()));
  f.Set("peak_partial_matches", peak_partial);
  f.Set("state_bytes", peak_bytes);
  f.Set("rss_growth_bytes", rss1 - rss0);
  return f;
}

// The naive engine: per key a list of partial matches, each owning a copy of every event
// it took (no shared buffer); `any` contiguity, so a partial match that takes an event also
// stays as it was. Same pattern, window, cap (10,000 partial matches per key) and events.
Figures RunNaiveAny(const Options& o) {
  auto mem = MemEvents(o.engine_events, o.engine_keys, o.seed);
  struct Partial {
    int64_t start;
    int next;
    std::vector<MemEvent> taken;
  };
  std::unordered_map<std::string, std::vector<Partial>> by_key;
  const int64_t window = 60 * cep::kSecond;
  auto step_matches = [](int step, const MemEvent& e) {
    return step < 2 ? e.action == "login_failed" : (e.action == "login_ok" && !e.user.empty());
  };
  uint64_t matches = 0;
  size_t partial = 0, peak_partial = 0, taken_events = 0, peak_taken = 0;
  const double rss0 = RssBytes();
  const auto t0 = Clock::now();
  for (const MemEvent& e : mem) {
    std::vector<Partial>& list = by_key[e.ip];
    // Expired partial matches go first.
    size_t kept = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      if (e.time - list[i].start <= window) {
        if (kept != i) list[kept] = std::move(list[i]);
        ++kept;
      } else {
        --partial;
        taken_events -= list[i].taken.size();
      }
    }
    list.resize(kept);
    const size_t n = list.size();
    for (size_t i = 0; i < n; ++i) {
      if (!step_matches(list[i].next, e)) continue;
      if (list[i].next == 2) {
        ++matches;  // completes: the match is emitted, the partial match stays (any)
        continue;
      }
      if (list.size() >= 10000) continue;
      Partial copy = list[i];  // the whole event list, copied
      copy.taken.push_back(e);
      copy.next++;
      taken_events += copy.taken.size();
      list.push_back(std::move(copy));
      ++partial;
    }
    if (step_matches(0, e) && list.size() < 10000) {
      list.push_back(Partial{e.time, 1, {e}});
      ++partial;
      ++taken_events;
    }
    if (list.empty()) by_key.erase(e.ip);
    peak_partial = std::max(peak_partial, partial);
    peak_taken = std::max(peak_taken, taken_events);
  }
  const double rss1 = RssBytes();
  const double secs = Seconds(t0, Clock::now());
  Figures f;
  f.Set("events", static_cast<double>(mem.size()));
  f.Set("keys", static_cast<double>(o.engine_keys));
  f.Set("matches", static_cast<double>(matches));
  f.Set("events_per_s", static_cast<double>(mem.size()) / secs);
  f.Set("ns_per_event", secs * 1e9 / static_cast<double>(mem.size()));
  f.Set("peak_partial_matches", static_cast<double>(peak_partial));
  f.Set("peak_event_copies", static_cast<double>(peak_taken));
  f.Set("rss_growth_bytes", rss1 - rss0);
  return f;
}

// ---------------------------------------------------------------- state

// Every record a new key: with the pattern rule, one partial match per key (holding its
// event); with the threshold rule, one count in the window per key.
Figures RunState(const Options& o, const std::string& yaml_file) {
  auto fields = std::make_shared<cep::FieldRegistry>();
  rules::Ruleset rs = Load({yaml_file}, fields.get());
  BenchOutbox box;
  OutboxHandler handler(box.outbox.get());
  auto p = edge::Pipeline::Create(std::move(rs), fields, edge::PipelineOptions{}, &handler);
  if (!p.ok()) Die(p.status().message());
  edge::Pipeline& pipeline = **p;
  const std::string file = o.out + "/state.jsonl";
  ingest::LineReader reader;
  Status st = reader.Open(file);
  if (!st.ok()) Die(st.message());
  ingest::LineReader::Line line;
  std::string error;
  const double rss0 = RssBytes();
  const auto t0 = Clock::now();
  uint64_t events = 0;
  while (reader.Next(&line, &st)) {
    if (pipeline.Process(line.text, file, line.offset, &error) != edge::RecordOutcome::kProcessed) Die(error);
    ++events;
  }
  const double secs = Seconds(t0, Clock::now());
  const double rss1 = RssBytes();
  StateSnapshot s = Snapshot(pipeline.engine());
  struct mallinfo2 mi = mallinfo2();
  Figures f;
  f.Set("heap_in_use_bytes", static_cast<double>(mi.uordblks + mi.hblkhd));
  f.Set("heap_in_use_bytes_per_key", s.keys > 0 ? static_cast<double>(mi.uordblks + mi.hblkhd) / s.keys : 0);
  f.Set("heap_free_bytes", static_cast<double>(mi.fordblks));
  f.Set("events", static_cast<double>(events));
  f.Set("events_per_s", static_cast<double>(events) / secs);
  f.Set("keys", s.keys);
  f.Set("partial_matches", s.partial);
  f.Set("state_bytes", s.bytes);
  f.Set("state_bytes_per_key", s.keys > 0 ? s.bytes / s.keys : 0);
  f.Set("rss_bytes", rss1);
  f.Set("rss_growth_bytes", rss1 - rss0);
  f.Set("rss_growth_bytes_per_key", s.keys > 0 ? (rss1 - rss0) / s.keys : 0);
  return f;
}

// ---------------------------------------------------------------- two cores

// Two pipelines, each on the records of one key partition (the soc file split by
// source.ip, host.name for process events, as a keyed Kafka topic would be), one shared
// outbox; against one pipeline on the whole file, in the same process.
Figures RunTwoCores(const Options& o, const std::vector<std::string>& rule_paths) {
  BenchOutbox box;
  auto run = [&](const std::vector<std::string>& files) {
    struct Lane {
      std::shared_ptr<cep::FieldRegistry> fields = std::make_shared<cep::FieldRegistry>();
      std::unique_ptr<OutboxHandler> handler;
      std::unique_ptr<edge::Pipeline> pipeline;
      uint64_t events = 0;
      double cpu = 0;  // the lane thread's CPU seconds
    };
    std::vector<Lane> lanes(files.size());
    for (auto& lane : lanes) {
      lane.handler = std::make_unique<OutboxHandler>(box.outbox.get());
      auto p = edge::Pipeline::Create(Load(rule_paths, lane.fields.get()), lane.fields, edge::PipelineOptions{},
                                      lane.handler.get());
      if (!p.ok()) Die(p.status().message());
      lane.pipeline = std::move(p).value();
    }
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    auto body = [&](size_t i) {
      ingest::LineReader reader;
      Status st = reader.Open(files[i]);
      if (!st.ok()) Die(st.message());
      ingest::LineReader::Line line;
      std::string error;
      ready.fetch_add(1);
      while (!go.load()) {
      }
      const double cpu0 = ThreadCpu();
      while (reader.Next(&line, &st)) {
        lanes[i].pipeline->Process(line.text, files[i], line.offset, &error);
        ++lanes[i].events;
      }
      lanes[i].pipeline->Finish();
      lanes[i].cpu = ThreadCpu() - cpu0;
    };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < files.size(); ++i) threads.emplace_back(body, i);
    while (ready.load() < static_cast<int>(files.size())) {
    }
    const auto t0 = Clock::now();
    go.store(true);
    for (auto& t : threads) t.join();
    const double secs = Seconds(t0, Clock::now());
    uint64_t events = 0;
    double slowest_cpu = 0;
    for (const auto& lane : lanes) {
      events += lane.events;
      slowest_cpu = std::max(slowest_cpu, lane.cpu);
    }
    return std::make_pair(static_cast<double>(events) / secs, slowest_cpu);
  };
  Figures f;
  const auto [one, one_cpu] = run({o.out + "/soc.jsonl"});
  const auto [two, two_cpu] = run({o.out + "/soc.p0.jsonl", o.out + "/soc.p1.jsonl"});
  f.Set("one_pipeline_events_per_s", one);
  f.Set("two_pipelines_events_per_s", two);
  f.Set("speedup", two / one);
  // On two idle cores each lane runs for its own CPU time: the wall-clock speedup there
  // is the one lane's CPU time over the slower of the two lanes' (same events in all).
  f.Set("one_pipeline_cpu_seconds", one_cpu);
  f.Set("two_pipelines_slowest_lane_cpu_seconds", two_cpu);
  f.Set("cpu_time_speedup", one_cpu / two_cpu);
  f.Set("hardware_threads", static_cast<double>(std::thread::hardware_concurrency()));
  return f;
}

// ---------------------------------------------------------------- running and reporting

Figures RunChild(const std::string& name, const std::function<Figures()>& fn) {
  std::fprintf(stderr, "suite_bench: %s ...", name.c_str());
  std::fflush(stderr);
  const auto t0 = Clock::now();
  std::fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) Die("pipe");
  const pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    close(fds[0]);
    Figures f = fn();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    f.Set("peak_rss_bytes", static_cast<double>(ru.ru_maxrss) * 1024.0);
    std::string out;
    char buf[64];
    for (const auto& [k, v] : f.num) {
      std::snprintf(buf, sizeof buf, "%.6g", v);
      out += "n " + k + " " + buf + "\n";
    }
    for (const auto& [k, v] : f.str) out += "s " + k + " " + v + "\n";
    size_t off = 0;
    while (off < out.size()) {
      ssize_t w = write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) _exit(1);
      off += static_cast<size_t>(w);
    }
    close(fds[1]);
    std::fflush(stdout);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t r; (r = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "\nsuite_bench: scenario %s failed\n", name.c_str());
    std::exit(1);
  }
  std::fprintf(stderr, " %.1f s\n", Seconds(t0, Clock::now()));
  Figures f;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string l = text.substr(start, nl - start);
    size_t sp = l.find(' ', 2);
    if (l.size() < 3 || sp == std::string::npos) continue;
    if (l[0] == 'n') f.Set(l.substr(2, sp - 2), std::strtod(l.c_str() + sp + 1, nullptr));
    else f.SetS(l.substr(2, sp - 2), l.substr(sp + 1));
  }
  return f;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o.push_back(c);
  }
  return o + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Machine() {
  std::string model = "unknown";
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string l; std::getline(cpu, l);) {
    if (l.rfind("model name", 0) == 0) {
      model = l.substr(l.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = NAN;
  char buf[512];
  std::snprintf(buf, sizeof buf, "{\"cpu\":%s,\"hardware_threads\":%u,\"kernel\":%s,\"loadavg_1m_at_start\":%.2f}",
                JsonString(model).c_str(), std::thread::hardware_concurrency(), JsonString(u.release).c_str(), load[0]);
  return buf;
}

struct Target {
  std::string name, unit, cmp;
  double value, target;
};

std::string Human(double v, const std::string& unit) {
  char buf[64];
  if (!std::isfinite(v)) return "n/a";
  if (unit == "events/s") std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (unit == "ratio") std::snprintf(buf, sizeof buf, "%.2f", v);
  else if (unit == "ns") std::snprintf(buf, sizeof buf, "%.0f ns", v);
  else if (unit == "bytes") std::snprintf(buf, sizeof buf, "%.0f B", v);
  else if (unit == "MB") std::snprintf(buf, sizeof buf, "%.0f MB", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
  bool explicit_sizes[4] = {false, false, false, false};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--smoke") o.smoke = true;
    else if (a == "--rulesets") o.rulesets = next();
    else if (a == "--out") o.out = next();
    else if (a == "--report") o.report = next();
    else if (a == "--only") o.only = "," + next() + ",";
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--stages") o.stages = "," + next() + ",";
    else if (a == "--soc-events") { o.soc_events = std::stoul(next()); explicit_sizes[0] = true; }
    else if (a == "--iot-events") { o.iot_events = std::stoul(next()); explicit_sizes[1] = true; }
    else if (a == "--state-keys") { o.state_keys = std::stoul(next()); explicit_sizes[2] = true; }
    else if (a == "--engine-events") { o.engine_events = std::stoul(next()); explicit_sizes[3] = true; }
    else Die("unknown argument " + a + " (see the comment at the top of bench/suite_bench.cc)");
  }
  if (o.smoke) {
    if (!explicit_sizes[0]) o.soc_events = 20000;
    if (!explicit_sizes[1]) o.iot_events = 20000;
    if (!explicit_sizes[2]) o.state_keys = 20000;
    if (!explicit_sizes[3]) o.engine_events = 20000;
    o.engine_keys = 2000;
    o.budget_s = 0.2;
    o.big_total = 200;  // loading 5,000 predicates alone takes tens of seconds
  }
  if (system(("mkdir -p '" + o.out + "'").c_str()) != 0) Die("cannot create " + o.out);
  auto want = [&](const std::string& name) { return o.only.empty() || o.only.find("," + name + ",") != std::string::npos; };

  std::map<std::string, Figures> results;
  std::vector<std::string> order;
  auto run = [&](const std::string& name, const std::function<Figures()>& fn) {
    if (!want(name)) return;
    results[name] = RunChild(name, fn);
    order.push_back(name);
  };
  const std::string machine = Machine();
  const auto start = Clock::now();
  const std::string soc_dir = o.rulesets + "/soc", iot_dir = o.rulesets + "/iot";
  const Figures shipped = RunChild("count shipped rules", [&] {
    cep::FieldRegistry fields;
    Figures f;
    f.Set("rules", static_cast<double>(Load({soc_dir}, &fields).rules.size()));
    return f;
  });
  const size_t n_shipped = static_cast<size_t>(shipped.Get("rules"));
  o.small_rules = o.small_total > n_shipped ? o.small_total - n_shipped : 0;
  o.big_rules = o.big_total > n_shipped ? o.big_total - n_shipped : 0;
  Figures gen = RunChild("generate", [&] { return Generate(o); });

  const Workload soc50{"soc50", {soc_dir, o.out + "/gen50.yaml"}, o.out + "/soc.jsonl"};
  const Workload soc1000{"soc1000", {soc_dir, o.out + "/gen1000.yaml"}, o.out + "/soc.jsonl"};
  const Workload iot{"iot", {iot_dir}, o.out + "/iot.jsonl"};
  std::vector<Stage> stage_list;
  for (Stage s : {Stage::kRead, Stage::kDecode, Stage::kScan, Stage::kFull}) {
    if (o.stages.find(StageName(s)) != std::string::npos) stage_list.push_back(s);
  }
  for (const Workload* w : {&soc50, &soc1000, &iot}) {
    run(w->name, [w, &stage_list] { return RunFile(*w, stage_list); });
  }
  run("simdjson.soc", [&] { return RunSimdjson(soc50); });
  run("simdjson.iot", [&] { return RunSimdjson(iot); });
  run("per_rule.soc50", [&] { return RunPerRule(o, soc50, o.small_rules); });
  run("per_rule.soc1000", [&] { return RunPerRule(o, soc1000, o.big_rules); });
  run("any.vigil", [&] { return RunVigilAny(o); });
  run("any.naive", [&] { return RunNaiveAny(o); });
  if (results.count("soc50")) {
    const double half = results["soc50"].Get("full.events_per_s") / 2;
    run("latency.soc50", [&] { return RunFile(soc50, {Stage::kFull}, half); });
  }
  run("state.partial", [&] { return RunState(o, o.out + "/state.yaml"); });
  run("state.idle", [&] { return RunState(o, o.out + "/idle.yaml"); });
  run("two_cores.soc50", [&] { return RunTwoCores(o, soc50.rule_paths); });

  auto get = [&](const std::string& s, const std::string& k) {
    auto it = results.find(s);
    return it == results.end() ? NAN : it->second.Get(k);
  };
  // Per stage: each run adds one stage to the one before it.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> stages;
  for (const Workload* w : {&soc50, &soc1000, &iot}) {
    const double rd = get(w->name, "read.ns_per_event"), dec = get(w->name, "decode.ns_per_event"),
                 sc = get(w->name, "scan.ns_per_event"), full = get(w->name, "full.ns_per_event");
    stages.push_back({w->name,
                      {{"read_ns", rd}, {"decode_ns", dec - rd}, {"predicates_ns", sc - dec}, {"engine_ns", full - sc}, {"total_ns", full}}});
  }
  const double soc50_rate = get("soc50", "full.events_per_s");
  // Peak RSS of the state run; below 1M keys (smoke), projected: base + growth per key x 1M.
  const double keys_run = get("state.partial", "keys"), peak = get("state.partial", "peak_rss_bytes");
  const double rss_1m = keys_run >= 1e6 ? peak
                                        : peak - get("state.partial", "rss_growth_bytes") +
                                              get("state.partial", "rss_growth_bytes_per_key") * 1e6;
  std::vector<Target> targets = {
      {"soc 50 rules, end to end", "events/s", ">=", soc50_rate, 1e6},
      {"soc 50 rules / simdjson baseline", "ratio", ">=", soc50_rate / get("simdjson.soc", "events_per_s"), 0.40},
      {"soc 1000 rules / 50 rules", "ratio", ">=", get("soc1000", "full.events_per_s") / soc50_rate, 0.50},
      {"iot, end to end", "events/s", ">=", get("iot", "full.events_per_s"), 1.5e6},
      {"p99 read -> outbox, half max rate (wall)", "ns", "<=", get("latency.soc50", "latency_p99_ns"), 1e6},
      {"state bytes per idle key (engine estimate)", "bytes", "<=", get("state.idle", "state_bytes_per_key"), 200},
      {"peak RSS, 1M keys with one partial match each", "MB", "<=", rss_1m, 1e9},
      {"two pipelines / one pipeline (soc, by key)", "ratio", ">=", get("two_cores.soc50", "speedup"), 1.8},
  };

  // ---- the report
  std::string j = "{\n  \"command\": " + JsonString(o.command) + ",\n  \"smoke\": " + (o.smoke ? "true" : "false") +
                  ",\n  \"machine\": " + machine + ",\n  \"seed\": " + std::to_string(o.seed) +
                  ",\n  \"sizes\": {\"soc_events\": " + std::to_string(o.soc_events) + ", \"iot_events\": " +
                  std::to_string(o.iot_events) + ", \"state_keys\": " + std::to_string(o.state_keys) +
                  ", \"engine_events\": " + std::to_string(o.engine_events) + ", \"engine_keys\": " +
                  std::to_string(o.engine_keys) + "},\n  \"json_kernel\": " + JsonString(ingest::JsonKernelName()) +
                  ",\n  \"simdjson_active_kernel\": " + JsonString(std::string(simdjson::get_active_implementation()->name())) +
                  ",\n  \"seconds\": " + JsonNumber(Seconds(start, Clock::now())) + ",\n  \"scenarios\": {";
  bool first = true;
  for (const std::string& name : order) {
    const Figures& f = results[name];
    j += std::string(first ? "" : ",") + "\n    " + JsonString(name) + ": {";
    first = false;
    bool ff = true;
    for (const auto& [k, v] : f.num) {
      j += std::string(ff ? "" : ", ") + JsonString(k) + ": " + JsonNumber(v);
      ff = false;
    }
    for (const auto& [k, v] : f.str) {
      j += std::string(ff ? "" : ", ") + JsonString(k) + ": " + JsonString(v);
      ff = false;
    }
    j += "}";
  }
  j += "\n  },\n  \"stages_ns_per_event\": {";
  first = true;
  for (const auto& [w, list] : stages) {
    j += std::string(first ? "" : ",") + "\n    " + JsonString(w) + ": {";
    first = false;
    bool ff = true;
    for (const auto& [k, v] : list) {
      j += std::string(ff ? "" : ", ") + JsonString(k) + ": " + JsonNumber(v);
      ff = false;
    }
    j += "}";
  }
  j += "\n  },\n  \"targets\": [";
  first = true;
  for (const Target& t : targets) {
    const bool met = t.cmp == ">=" ? t.value >= t.target : t.value <= t.target;
    j += std::string(first ? "" : ",") + "\n    {\"name\": " + JsonString(t.name) + ", \"unit\": " + JsonString(t.unit) +
         ", \"value\": " + JsonNumber(t.value) + ", \"target\": " + JsonString(t.cmp + " " + JsonNumber(t.target)) +
         ", \"met\": " + (std::isfinite(t.value) ? (met ? "true" : "false") : "null") + "}";
    first = false;
  }
  j += "\n  ]\n}\n";
  WriteFile(o.report, j);

  // ---- the table
  std::printf("Vigil benchmark suite%s: soc %zu events, iot %zu events, %zu state keys (report: %s)\n",
              o.smoke ? " (smoke: tiny sizes, no thresholds)" : "", o.soc_events, o.iot_events, o.state_keys, o.report.c_str());
  std::printf("\n%-44s %14s %14s  %s\n", "target", "value", "target", "status");
  for (const Target& t : targets) {
    const bool met = t.cmp == ">=" ? t.value >= t.target : t.value <= t.target;
    const char* status = !std::isfinite(t.value) ? "not run" : (o.smoke ? "(smoke)" : (met ? "met" : "MISSED"));
    std::printf("%-44s %14s %14s  %s\n", t.name.c_str(), Human(t.value, t.unit).c_str(),
                (t.cmp + " " + Human(t.target, t.unit)).c_str(), status);
  }
  std::printf("\n%-10s %12s %12s %10s %10s %10s %10s %10s %8s %10s %10s\n", "workload", "events/s", "cpu ev/s", "read ns",
              "decode ns", "pred ns", "engine ns", "total ns", "rules", "preds", "peak RSS");
  for (const auto& [w, list] : stages) {
    std::printf("%-10s %12.0f %12.0f %10.0f %10.0f %10.0f %10.0f %10.0f %8.0f %10.0f %8.0fMB\n", w.c_str(),
                get(w, "full.events_per_s"), 1e9 / get(w, "full.cpu_ns_per_event"), list[0].second, list[1].second,
                list[2].second, list[3].second, list[4].second, get(w, "rules"), get(w, "string_predicates"),
                get(w, "peak_rss_bytes") / 1e6);
  }
  std::printf("\nbaselines\n");
  std::printf("  (a) simdjson On-Demand, same fields:  soc %.0f events/s (%.0f ns), iot %.0f events/s (%.0f ns)\n",
              get("simdjson.soc", "events_per_s"), get("simdjson.soc", "ns_per_event"), get("simdjson.iot", "events_per_s"),
              get("simdjson.iot", "ns_per_event"));
  for (const char* s : {"per_rule.soc50", "per_rule.soc1000"}) {
    std::printf("  (b) %-16s %4.0f rules / %5.0f predicates: vigil shared scan %.0f ns/event, pcre2 %.0f ns (%.1fx), "
                "std::regex %.0f ns (%.1fx)\n",
                s, get(s, "rules_evaluated"), get(s, "predicates_evaluated"), get(s, "vigil_shared_scan_ns_per_event"),
                get(s, "pcre2_ns_per_event"), get(s, "pcre2_ns_per_event") / get(s, "vigil_shared_scan_ns_per_event"),
                get(s, "std_regex_ns_per_event"),
                get(s, "std_regex_ns_per_event") / get(s, "vigil_shared_scan_ns_per_event"));
  }
  std::printf("  (c) any contiguity, %zu keys: vigil %.0f events/s, %.0f matches, peak RSS %.0f MB; naive %.0f events/s, "
              "%.0f matches, peak RSS %.0f MB\n",
              o.engine_keys, get("any.vigil", "events_per_s"), get("any.vigil", "matches"),
              get("any.vigil", "peak_rss_bytes") / 1e6, get("any.naive", "events_per_s"), get("any.naive", "matches"),
              get("any.naive", "peak_rss_bytes") / 1e6);
  std::printf("\nlatency (soc 50 rules at %.0f events/s, %.0f alerts): p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns, max %.0f ns;\n"
              "  the same as this thread's CPU time: p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns (%.0f involuntary context switches)\n",
              get("latency.soc50", "paced_rate"), get("latency.soc50", "latency_samples"), get("latency.soc50", "latency_p50_ns"),
              get("latency.soc50", "latency_p99_ns"), get("latency.soc50", "latency_p999_ns"),
              get("latency.soc50", "latency_max_ns"), get("latency.soc50", "latency_cpu_p50_ns"),
              get("latency.soc50", "latency_cpu_p99_ns"), get("latency.soc50", "latency_cpu_p999_ns"),
              get("latency.soc50", "involuntary_context_switches"));
  std::printf("state: one partial match per key: %.0f keys, %.0f B/key (engine), %.0f B/key (malloc in use), %.0f B/key (RSS growth), "
              "peak RSS %.0f MB;\n  idle threshold key: %.0f B/key (engine), %.0f B/key (malloc in use), %.0f B/key (RSS growth)\n",
              get("state.partial", "keys"), get("state.partial", "state_bytes_per_key"),
              get("state.partial", "heap_in_use_bytes_per_key"), get("state.partial", "rss_growth_bytes_per_key"),
              get("state.partial", "peak_rss_bytes") / 1e6, get("state.idle", "state_bytes_per_key"),
              get("state.idle", "heap_in_use_bytes_per_key"), get("state.idle", "rss_growth_bytes_per_key"));
  std::printf("two cores: one pipeline %.0f events/s, two pipelines (key-partitioned) %.0f events/s, %.2fx wall-clock;\n"
              "  by thread CPU time (one pipeline's over the slower lane's): %.2fx\n",
              get("two_cores.soc50", "one_pipeline_events_per_s"), get("two_cores.soc50", "two_pipelines_events_per_s"),
              get("two_cores.soc50", "speedup"), get("two_cores.soc50", "cpu_time_speedup"));
  std::printf("\n%.0f s in all; %s\n", Seconds(start, Clock::now()), gen.Get("generated") > 0 ? "data generated" : "data reused");
  return 0;
}
