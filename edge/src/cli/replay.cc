// `vigil replay`: the engine over recorded events, alerts to stdout.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "rules_loading.h"
#include "vigil/cep/state_store.h"
#include "vigil/edge/config.h"
#include "vigil/edge/pipeline.h"
#include "vigil/ingest/line_reader.h"

namespace vigil::edge {

namespace {

const CommandSpec& ReplaySpec() {
  static const CommandSpec spec{
      "replay",
      "vigil replay [options] FILE...",
      "Runs the rules over recorded events (JSON lines; '-' reads standard input), in file\n"
      "order, then moves the watermark to +infinity so that every window and absence\n"
      "resolves. Alerts go to standard output as JSON lines; a summary (events, alerts,\n"
      "late events, wall time, events/s) goes to standard error.",
      {
          {"rules", "PATH", true,
           "Rule file or folder (repeatable; default: the config's rules, or rulesets/)."},
          {"config", "FILE", false,
           "Appliance config: the stream's format, extract, timestamp and watermark\n"
           "settings come from it; the FILEs take the place of its source. Options given\n"
           "here override it."},
          {"stream", "NAME", false, "The stream the events belong to (default: default)."},
          {"format", "FORMAT", false,
           "Event format: json (default), syslog (RFC 5424 and 3164) or raw (the line as\n"
           "message, timed by the wall clock)."},
          {"time-field", "FIELD", false,
           "Field holding the event time (default: the first of @timestamp, timestamp, ts)."},
          {"time-format", "FORMAT", false,
           "rfc3339 | epoch_s | epoch_ms | epoch_ns | auto (default: auto)."},
          {"max-delay", "DURATION", false,
           "Bounded out-of-orderness of the watermark (default: 0s)."},
          {"state", "DIR", false,
           "Durable state (RocksDB) in DIR: the run checkpoints its engine state and its\n"
           "place in the FILEs, and a run with the same arguments resumes from the last\n"
           "checkpoint (alerts after it come again, with the same ids). Not for '-'."},
          {"checkpoint-every", "N", false,
           "With --state: a checkpoint after every N records (default: 100000)."},
          {"max-memory", "SIZE", false,
           "With --state: keyed state past SIZE (such as 256MB) is evicted to the store\n"
           "and loaded back when its key is next needed; alerts are the same (default:\n"
           "state.max_memory of --config, else unbounded)."},
      }};
  return spec;
}

class StdoutAlerts final : public AlertHandler {
 public:
  void OnAlert(const alerting::Alert& alert) override {
    std::fwrite(alert.json.data(), 1, alert.json.size(), stdout);
    std::fputc('\n', stdout);
  }
};

// Per-record problems are reported line by line, up to a limit, then only counted.
class ProblemReporter {
 public:
  void Report(const std::string& where, const std::string& what) {
    if (++count_ <= kLimit) {
      std::fprintf(stderr, "vigil replay: %s: %s\n", where.c_str(), what.c_str());
    } else if (count_ == kLimit + 1) {
      std::fprintf(stderr, "vigil replay: further problems are counted in the summary only\n");
    }
  }

 private:
  static constexpr uint64_t kLimit = 100;
  uint64_t count_ = 0;
};

// Where a replay with --state got to: the next record is at `offset` (line `line`) of
// file number `file`; `done` once the final watermark has run.
struct ReplayPosition {
  size_t file = 0;
  uint64_t offset = 0;
  uint64_t line = 1;
  bool done = false;
};

std::string EncodePosition(const std::vector<std::string>& files, const ReplayPosition& at) {
  std::string v;
  auto put = [&v](uint64_t n) { v += std::to_string(n) + "\n"; };
  v += "vigil-replay/1\n";
  put(files.size());
  for (const std::string& f : files) v += f + "\n";
  put(at.file);
  put(at.offset);
  put(at.line);
  put(at.done ? 1 : 0);
  return v;
}

Status LoadPosition(const cep::StateStore& store, const std::vector<std::string>& files,
                    const std::string& dir, ReplayPosition* out) {
  std::string v;
  Result<bool> found = store.Get(cep::StateFamily::kPositions, "replay", &v);
  if (!found.ok()) return found.status();
  if (!*found) return Status::Ok();
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = v.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(v.substr(start, nl - start));
  }
  auto number = [&](size_t i, uint64_t* n) {
    if (i >= lines.size() || lines[i].empty()) return false;
    char* end = nullptr;
    *n = std::strtoull(lines[i].c_str(), &end, 10);
    return *end == '\0';
  };
  uint64_t count = 0, file = 0, offset = 0, line = 0, done = 0;
  if (lines.empty() || lines[0] != "vigil-replay/1" || !number(1, &count) ||
      !number(2 + count, &file) || !number(3 + count, &offset) || !number(4 + count, &line) ||
      !number(5 + count, &done)) {
    return Status::Corruption(dir + ": the replay position is garbled (delete the directory to start fresh)");
  }
  std::vector<std::string> before(lines.begin() + 2, lines.begin() + 2 + static_cast<long>(count));
  if (before != files) {
    std::string was;
    for (const std::string& f : before) was += (was.empty() ? "" : " ") + f;
    return Status::InvalidArgument(dir + " holds the state of a replay of other files (" + was +
                                   "): give the same files, or another --state directory");
  }
  *out = ReplayPosition{static_cast<size_t>(file), offset, line, done != 0};
  return Status::Ok();
}

// The store for --state; VIGIL_TEST_KILL_AT_WRITE=N[:before] makes the N-th write kill the
// process (crash tests: mid-checkpoint, before or after the batch is durable).
Result<std::unique_ptr<cep::StateStore>> OpenStore(const std::string& dir) {
  auto opened = cep::OpenRocksDbStore(dir);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<cep::StateStore> store = std::move(opened).value();
  if (const char* kill = std::getenv("VIGIL_TEST_KILL_AT_WRITE")) {
    const uint64_t n = std::strtoull(kill, nullptr, 10);
    const bool before = std::strstr(kill, ":before") != nullptr;
    store = cep::NewFaultInjectingStore(std::move(store), n, before);
  }
  return store;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  const CommandSpec& spec = ReplaySpec();
  ParsedArgs args;
  std::string error;
  if (!ParseArgs(spec, argc, argv, 2, &args, &error)) {
    PrintError("replay", error);
    return 2;
  }
  if (args.help) {
    std::fputs(FormatHelp(spec).c_str(), stdout);
    return 0;
  }
  if (args.positional.empty()) {
    PrintError("replay", "no event files given (use '-' for standard input; see vigil replay --help)");
    return 2;
  }
  PipelineOptions options;
  options.stream = args.get("stream", "default");
  uint64_t max_memory = 0;
  std::vector<std::string> config_rules;
  if (args.has("config")) {
    auto cfg = LoadConfigFile(args.get("config"));
    if (!cfg.ok()) {
      // Every error of the file, one per line, each naming file, position and key.
      std::fprintf(stderr, "vigil replay: %s\n", cfg.status().message().c_str());
      return 1;
    }
    const StreamConfig* stream = cfg->FindStream(options.stream);
    if (stream == nullptr) {
      std::string names;
      for (const StreamConfig& s : cfg->streams) names += (names.empty() ? "" : ", ") + s.name;
      PrintError("replay", "stream '" + options.stream + "' is not in " + args.get("config") +
                               " (it has: " + names + "; choose one with --stream)");
      return 2;
    }
    options.format = stream->format;
    options.timestamp = stream->timestamp;
    options.max_delay = stream->max_delay;
    options.extract = stream->extract;
    options.syslog.timezone = stream->timezone;
    options.syslog.year = static_cast<int>(stream->year);
    config_rules = cfg->rules;
    max_memory = cfg->state.max_memory;
  }
  options.format = args.get("format", options.format);
  if (options.format != "json" && options.format != "syslog" && options.format != "raw") {
    PrintError("replay", "--format " + options.format + " is not supported (json, syslog or raw)");
    return 2;
  }
  if (args.has("time-field")) options.timestamp.fields = {args.get("time-field")};
  if (args.has("time-format") &&
      !ingest::ParseTimeFormat(args.get("time-format"), &options.timestamp.format)) {
    PrintError("replay", "--time-format '" + args.get("time-format") +
                             "' must be rfc3339, epoch_s, epoch_ms, epoch_ns or auto");
    return 2;
  }
  if (args.has("max-delay")) {
    auto d = cep::ParseDuration(args.get("max-delay"));
    if (!d.ok()) {
      PrintError("replay", "--max-delay: " + d.status().message());
      return 2;
    }
    options.max_delay = *d;
  }
  std::vector<std::string> rule_paths = args.all("rules");
  if (rule_paths.empty()) rule_paths = config_rules;
  if (rule_paths.empty()) rule_paths.push_back("rulesets/");

  auto fields = std::make_shared<cep::FieldRegistry>();
  auto loaded = LoadRulesOrReport("replay", rule_paths, fields.get());
  if (!loaded) return 1;

  // --state: the store, and where a previous run of the same files got to.
  std::unique_ptr<cep::StateStore> store;
  ReplayPosition resume;
  uint64_t checkpoint_every = 100000;
  if (args.has("checkpoint-every")) {
    const std::string& n = args.get("checkpoint-every");
    char* end = nullptr;
    checkpoint_every = std::strtoull(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || checkpoint_every == 0) {
      PrintError("replay", "--checkpoint-every '" + n + "' must be a positive number of records");
      return 2;
    }
  }
  if (args.has("max-memory")) {
    if (!cep::ParseBytesOption(args.get("max-memory"), &max_memory) || max_memory == 0) {
      PrintError("replay", "--max-memory '" + args.get("max-memory") +
                               "' must be a positive size such as 4096, 64KB, 256MB or 1GiB");
      return 2;
    }
    if (!args.has("state")) {
      PrintError("replay", "--max-memory needs --state DIR (evicted state goes there)");
      return 2;
    }
  }
  if (args.has("state")) {
    for (const std::string& file : args.positional) {
      if (file == "-") {
        PrintError("replay", "--state cannot resume standard input ('-'): give files");
        return 2;
      }
    }
    auto opened = OpenStore(args.get("state"));
    if (!opened.ok()) {
      PrintError("replay", opened.status().message());
      return 1;
    }
    store = std::move(opened).value();
    Status st = LoadPosition(*store, args.positional, args.get("state"), &resume);
    if (!st.ok()) {
      PrintError("replay", st.message());
      return 1;
    }
    options.checkpoints = true;
  }

  StdoutAlerts out;
  auto pipeline = Pipeline::Create(std::move(*loaded), fields, options, &out);
  if (!pipeline.ok()) {
    PrintError("replay", pipeline.status().message());
    return 1;
  }
  Pipeline& p = **pipeline;
  if (store && max_memory > 0) {
    Status st = p.LimitMemory(max_memory, store.get());
    if (!st.ok()) {
      PrintError("replay", args.get("state") + ": " + st.message());
      return 1;
    }
  }
  if (store) {
    auto restored = p.Restore(*store);
    if (!restored.ok()) {
      PrintError("replay", args.get("state") + ": " + restored.status().message() +
                               " (delete the directory to start fresh)");
      return 1;
    }
  }
  uint64_t since_checkpoint = 0, records = 0, since_evict = 0, evict_wait = 1;
  const char* kill_env = std::getenv("VIGIL_TEST_KILL_AFTER_RECORDS");
  const uint64_t kill_after = kill_env ? std::strtoull(kill_env, nullptr, 10) : 0;
  ReplayPosition at = resume;
  auto checkpoint = [&](bool sync = true) -> bool {
    // Alerts printed so far reach the terminal before the state that says they were.
    std::fflush(stdout);
    cep::StateBatch batch;
    p.AddToCheckpoint(&batch);
    batch.Put(cep::StateFamily::kPositions, "replay", EncodePosition(args.positional, at));
    Status st = store->Write(batch, sync);
    if (!st.ok()) {
      p.CheckpointFailed();
      PrintError("replay", args.get("state") + ": checkpoint failed: " + st.message());
      return false;
    }
    since_checkpoint = 0;
    return true;
  };

  static char stdout_buf[1 << 16];
  std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  auto start = std::chrono::steady_clock::now();
  ProblemReporter problems;
  int rc = 0;
  for (size_t fi = resume.file; fi < args.positional.size() && !resume.done; ++fi) {
    const std::string& file = args.positional[fi];
    ingest::LineReader reader;
    Status st = reader.Open(file);
    if (st.ok() && fi == resume.file && resume.offset > 0) st = reader.Seek(resume.offset, resume.line);
    if (!st.ok()) {
      PrintError("replay", st.message());
      rc = 1;
      continue;
    }
    const std::string name = file == "-" ? "<stdin>" : file;
    ingest::LineReader::Line line;
    while (reader.Next(&line, &st)) {

      std::string where = name + ":" + std::to_string(line.number);
      // After this record, whatever becomes of it, the next one starts here.
      const ReplayPosition next{fi, reader.position(), line.number + 1, false};
      if (line.too_long) {
        problems.Report(where, "line longer than 16 MiB skipped");
        at = next;
        continue;
      }
      switch (p.Process(line.text, file, line.offset, &error)) {
        case RecordOutcome::kMalformed:
        case RecordOutcome::kNoTime: problems.Report(where, error); break;
        case RecordOutcome::kLate: problems.Report(where, "late event (older than the watermark) not matched"); break;
        default: break;
      }
      at = next;
      if (store && ++since_checkpoint >= checkpoint_every && !checkpoint()) return 1;
      // Bounded memory: checkpoint early, then evict. If nothing could go (every key was
      // used since the last sweep), wait a while before the next try.
      if (store && max_memory > 0 && ++since_evict >= evict_wait && p.OverMemoryLimit()) {
        if (!checkpoint(false)) return 1;  // to evict: in order is enough (see daemon.h)
        evict_wait = p.Evict() > 0 ? 1 : 64;
        since_evict = 0;
      }
      if (++records == kill_after) {
        std::fflush(stdout);
        raise(SIGKILL);  // crash tests: VIGIL_TEST_KILL_AFTER_RECORDS
      }
    }
    if (!st.ok()) {
      PrintError("replay", st.message());
      rc = 1;
    }
    at = ReplayPosition{fi + 1, 0, 1, false};
  }
  p.Finish();
  at.done = true;
  if (store && !checkpoint()) return 1;
  std::fflush(stdout);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const PipelineStats& s = p.stats();
  std::fprintf(stderr,
               "replay: %llu events, %llu alerts, %llu late, %llu malformed, %llu without time "
               "in %.3f s (%.0f events/s)\n",
               static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.alerts),
               static_cast<unsigned long long>(s.late), static_cast<unsigned long long>(s.malformed),
               static_cast<unsigned long long>(s.no_time), secs,
               secs > 0 ? static_cast<double>(s.records) / secs : 0.0);
  if (max_memory > 0 && store) {
    const cep::MemoryStats m = p.engine().memory_stats();
    std::fprintf(stderr, "replay: bounded memory %llu bytes: %llu key states evicted, %llu loaded back\n",
                 static_cast<unsigned long long>(max_memory), static_cast<unsigned long long>(m.evictions),
                 static_cast<unsigned long long>(m.loads));
    if (!p.engine().memory_error().ok()) {
      PrintError("replay", args.get("state") + ": evicted state could not be read back or its timers "
                           "written (" + std::to_string(m.load_errors) + " times; alerts of those keys may "
                           "be missing): " + p.engine().memory_error().message());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace vigil::edge
