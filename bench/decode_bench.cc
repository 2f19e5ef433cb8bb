// Decoders alone: the Loghub syslog samples (examples/loghub) decoded over and over, with
// the fields a typical SSH ruleset reads registered. Prints one JSON object per decoder.
//
//   build/release/bench/decode_bench [--lines N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "vigil/ingest/syslog_decoder.h"

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> out;
  std::string line;
  std::istringstream split(ss.str());
  while (std::getline(split, line)) out.push_back(line);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 5'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--lines") == 0) n = std::stoul(argv[i + 1]);
  }
  std::vector<std::string> lines;
  for (const char* f : {"OpenSSH_2k.log", "Linux_2k.log"}) {
    auto l = Lines(std::string(VIGIL_SOURCE_DIR) + "/examples/loghub/" + f);
    lines.insert(lines.end(), l.begin(), l.end());
  }
  if (lines.empty()) {
    std::fprintf(stderr, "decode_bench: no sample lines under examples/loghub\n");
    return 1;
  }
  vigil::cep::FieldRegistry fields;
  for (const char* p : {"host", "app", "pid", "message"}) fields.Intern(p);
  vigil::ingest::SyslogOptions options;
  options.year = 2024;
  auto decoder = vigil::ingest::NewSyslogDecoder(&fields, options);
  if (!decoder.ok()) return 1;
  vigil::cep::Event event;  // reused, as a source would
  std::string error;
  size_t bytes = 0, ok = 0;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    const std::string& line = lines[i % lines.size()];
    bytes += line.size();
    event.Clear();
    if ((*decoder)->Decode(line, &event, &error) == vigil::ingest::DecodeResult::kOk) ++ok;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"bench\":\"decode\",\"decoder\":\"syslog\",\"lines\":%zu,\"ok\":%zu,\"seconds\":%.3f,"
              "\"lines_per_s\":%.0f,\"ns_per_line\":%.1f,\"mb_per_s\":%.1f}\n",
              n, ok, secs, n / secs, secs * 1e9 / n, bytes / secs / 1e6);
  return ok == n ? 0 : 1;
}
