// `vigil replay`: the engine over recorded events, alerts to stdout.
#include <chrono>
#include <cstdio>
#include <memory>

#include "args.h"
#include "commands.h"
#include "rules_loading.h"
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

  StdoutAlerts out;
  auto pipeline = Pipeline::Create(std::move(*loaded), fields, options, &out);
  if (!pipeline.ok()) {
    PrintError("replay", pipeline.status().message());
    return 1;
  }
  Pipeline& p = **pipeline;

  static char stdout_buf[1 << 16];
  std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  auto start = std::chrono::steady_clock::now();
  ProblemReporter problems;
  int rc = 0;
  for (const std::string& file : args.positional) {
    ingest::LineReader reader;
    Status st = reader.Open(file);
    if (!st.ok()) {
      PrintError("replay", st.message());
      rc = 1;
      continue;
    }
    const std::string name = file == "-" ? "<stdin>" : file;
    ingest::LineReader::Line line;
    while (reader.Next(&line, &st)) {
      std::string where = name + ":" + std::to_string(line.number);
      if (line.too_long) {
        problems.Report(where, "line longer than 16 MiB skipped");
        continue;
      }
      switch (p.Process(line.text, file, line.offset, &error)) {
        case RecordOutcome::kMalformed:
        case RecordOutcome::kNoTime: problems.Report(where, error); break;
        case RecordOutcome::kLate: problems.Report(where, "late event (older than the watermark) not matched"); break;
        default: break;
      }
    }
    if (!st.ok()) {
      PrintError("replay", st.message());
      rc = 1;
    }
  }
  p.Finish();
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
  return rc;
}

}  // namespace vigil::edge
