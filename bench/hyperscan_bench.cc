// Shared string predicates (architecture decision 1) against evaluating the same predicates
// one rule at a time. 10, 100 and 1,000 single-event rules, each one predicate on
// `process.command_line` (keywords: contains / icontains / startswith / endswith; regexes:
// command-line indicators), over ~150-byte command lines from a seeded generator of which
// a few percent carry an indicator.
//
// Methods, all over the same pre-decoded events, all counting the same (rule, event) hits:
//   hyperscan          the rules loaded by the real loader; per event the ruleset's
//                      PredicateScanner (one scan of the field) then every rule's condition
//   hyperscan_indexed  the same scan, then only the rules whose start index bits are set
//                      (what the engine's dispatch does)
//   engine             the same scan, then cep::Engine::Process (dispatch index, rule
//                      runtimes, matches)
//   per_rule_hs        the code before the shared scan: keywords in C++, each regex its
//                      own one-pattern Hyperscan database
//   pcre2              every predicate its own PCRE2 regex (JIT), one rule at a time
//   std_regex          every predicate its own std::regex (ECMAScript), one rule at a time
// Each prints one JSON object per line; `hyperscan_speedup` is that method's ns/event over
// the hyperscan method's. The run fails if the methods disagree on the hits.
//
//   build/release/bench/hyperscan_bench [--events N] [--seconds S] [--seed X]
//                                       [--methods hyperscan,pcre2,...]
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "vigil/cep/engine.h"
#include "vigil/cep/event.h"
#include "vigil/rules/ruleset.h"

namespace {

using vigil::cep::Event;
using vigil::cep::Value;

const char* const kTools[] = {
    "mimikatz",  "psexec",   "procdump", "rubeus",     "sharphound", "certutil",    "bitsadmin",
    "regsvr32",  "rundll32", "mshta",    "wmic",       "vssadmin",   "wbadmin",     "bcdedit",
    "schtasks",  "netsh",    "cscript",  "wscript",    "msbuild",    "installutil", "regasm",
    "cmstp",     "odbcconf", "forfiles", "msiexec",    "esentutl",   "extrac32",    "makecab",
    "mavinject", "msdt",     "ntdsutil", "diskshadow", "adfind",     "nltest",      "dsquery",
    "wevtutil",  "winrm",    "comsvcs",  "lazagne",    "nanodump",   "seatbelt",    "sharpup",
    "chisel",    "plink",    "ngrok",    "anydesk",    "rclone",     "megasync",    "7za",
    "winrar"};
const char* const kFlags[] = {
    "urlcache",        "split",    "decode",   "encodedcommand", "noprofile",      "windowstyle",
    "bypass",          "transfer", "download", "shadows",        "minidump",       "accepteula",
    "executionpolicy", "hidden",   "nologo",   "scriptblock",    "dumpcreds",      "kerberoast",
    "asreproast",      "dcsync",   "lsadump",  "sekurlsa",       "logonpasswords", "ticket",
    "golden",          "silver",   "pth",      "remote",         "tunnel",         "reverse",
    "socks",           "exfil",    "upload",   "archive",        "password",       "inject"};
const char* const kShares[] = {"admin", "c", "ipc", "sysvol", "netlogon", "print", "d", "backup"};
const char* const kExts[] = {"ps1", "hta", "exe", "dll", "vbs", "js", "bat", "zip"};
const char* const kBenign[] = {
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe --type=renderer",
    "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s Schedule",
    "C:\\Program Files\\Microsoft VS Code\\Code.exe --ms-enable-electron-run-as-node",
    "C:\\Windows\\explorer.exe /factory,{75dff2b7-6936-4c06-a8bb-676a7b00b24b}",
    "\"C:\\Program Files\\Git\\cmd\\git.exe\" fetch --prune origin",
    "C:\\Windows\\System32\\conhost.exe 0xffffffff -ForceV1",
    "/usr/bin/python3 /opt/app/manage.py runserver 0.0.0.0:8000",
    "/usr/lib/jvm/java-17/bin/java -Xmx2g -jar /srv/app/service.jar --spring.profiles.active=prod"};

// One rule's predicate, with everything each method needs to evaluate it.
struct Predicate {
  enum class Op { kContains, kStartsWith, kEndsWith, kRegex } op;
  bool caseless = false;
  std::string text;    // the needle or the regex
  std::string sample;  // a substring that makes it match (for the generator)
};

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("\\^$.|?*+()[]{}/", c)) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

template <size_t N>
const char* Pick(std::mt19937_64& rng, const char* const (&a)[N]) {
  return a[rng() % N];
}

std::string RandomToken(std::mt19937_64& rng, size_t n, const char* alphabet) {
  std::string s;
  size_t len = std::strlen(alphabet);
  for (size_t i = 0; i < n; ++i)
    s.push_back(alphabet[rng() % len]);
  return s;
}

// `n` distinct predicates: about 60% keywords, 40% regexes.
std::vector<Predicate> MakePredicates(size_t n, std::mt19937_64& rng) {
  std::vector<Predicate> out;
  std::set<std::string> seen;
  while (out.size() < n) {
    std::string tool = Pick(rng, kTools), flag = Pick(rng, kFlags);
    Predicate p;
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
        p = {Predicate::Op::kContains, false, tool + ".exe -" + flag, ""};
        break;
      case 3:
      case 4:
        p = {Predicate::Op::kContains, true, tool + " /" + flag, ""};
        break;
      case 5:
        p = {Predicate::Op::kStartsWith, rng() % 2 == 0,
             "C:\\Users\\Public\\" + tool + RandomToken(rng, 2, "0123456789"), ""};
        break;
      case 6: {
        std::string value = RandomToken(rng, 3, "abcdefghijklmnopqrstuvwxyz0123456789");
        p = {Predicate::Op::kEndsWith, rng() % 2 == 0, " --" + flag + "=" + value, ""};
        break;
      }
      case 7: {
        p.op = Predicate::Op::kRegex;
        p.caseless = true;
        p.text = tool + "(\\.exe)?\\s+.*-" + flag + "[ =:][^ ]{2,}";
        p.sample = tool + ".exe -x -" + flag + "=abcd";
        break;
      }
      case 8: {
        std::string share = Pick(rng, kShares);
        int octet = static_cast<int>(rng() % 256);
        p.op = Predicate::Op::kRegex;
        p.text = "\\\\\\\\10\\." + std::to_string(octet) + "\\.[0-9]{1,3}\\.[0-9]{1,3}\\\\" +
                 share + "\\$";
        p.sample = "\\\\10." + std::to_string(octet) + ".7.21\\" + share + "$";
        break;
      }
      default: {
        std::string ext = Pick(rng, kExts);
        p.op = Predicate::Op::kRegex;
        p.caseless = rng() % 2 == 0;
        p.text = "https?://[a-z0-9.-]+/" + tool + "[a-z0-9_]*\\." + ext + "( |$)";
        p.sample = "http://cdn.example.net/" + tool + "_x1." + ext + " ";
        break;
      }
    }
    if (p.sample.empty()) p.sample = p.text;
    std::string key = std::to_string(static_cast<int>(p.op)) + (p.caseless ? "i" : "") + p.text;
    if (seen.insert(key).second) out.push_back(std::move(p));
  }
  return out;
}

// Rules YAML: one single-event rule per predicate.
std::string RulesYaml(const std::vector<Predicate>& preds) {
  std::string y = "rules:\n";
  for (size_t i = 0; i < preds.size(); ++i) {
    const Predicate& p = preds[i];
    std::string expr = "process.command_line ";
    if (p.op == Predicate::Op::kRegex) {
      std::string re;
      for (char c : p.text) {
        if (c == '/') re.push_back('\\');
        re.push_back(c);
      }
      expr += "matches /" + re + "/" + (p.caseless ? "i" : "");
    } else {
      static const char* const kOps[] = {"contains", "startswith", "endswith"};
      std::string lit;
      for (char c : p.text) {
        if (c == '\\' || c == '"') lit.push_back('\\');
        lit.push_back(c);
      }
      expr +=
          std::string(p.caseless ? "i" : "") + kOps[static_cast<int>(p.op)] + " \"" + lit + "\"";
    }
    std::string quoted;
    for (char c : expr) {
      if (c == '\'') quoted.push_back('\'');
      quoted.push_back(c);
    }
    y += "  - id: r" + std::to_string(i) + "\n    where: '" + quoted + "'\n";
  }
  return y;
}

// ~150-byte command lines; `hit_percent` of them carry some predicate's sample.
std::vector<std::string> MakeValues(size_t n, const std::vector<Predicate>& preds,
                                    unsigned hit_percent, std::mt19937_64& rng) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string v = Pick(rng, kBenign);
    while (v.size() < 150) {
      v += rng() % 2 ? " --field-trial-handle=" : " /prefetch:";
      v += RandomToken(rng, 8 + rng() % 8, "0123456789abcdef,");
    }
    v.resize(150);
    if (rng() % 100 < hit_percent) {
      const Predicate& p = preds[rng() % preds.size()];
      if (p.op == Predicate::Op::kStartsWith)
        v = p.sample + " " + v.substr(0, 120);
      else if (p.op == Predicate::Op::kEndsWith)
        v = v.substr(0, 120) + p.sample;
      else
        v.insert(60 + rng() % 40, " " + p.sample + " ");
    }
    out.push_back(std::move(v));
  }
  return out;
}

bool FindFold(std::string_view hay, std::string_view needle) {
  auto fold = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != hay.end();
}

// One method: `hits(i)` evaluates every rule on value i and returns how many matched.
struct Timing {
  size_t events = 0;
  uint64_t hits = 0;
  double seconds = 0;
};

Timing Run(size_t pool, size_t max_events, double budget_s,
           const std::function<uint64_t(size_t)>& hits) {
  Timing t;
  for (size_t i = 0; i < std::min<size_t>(pool, 200); ++i)
    hits(i);  // warm caches and bits
  auto start = std::chrono::steady_clock::now();
  while (t.events < max_events) {
    // Check the clock every 64 events: slow methods stop at the budget.
    for (size_t k = 0; k < 64 && t.events < max_events; ++k, ++t.events) {
      t.hits += hits(t.events % pool);
    }
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t.seconds >= budget_s) break;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_events = 1'000'000;
  double budget = 3.0;
  uint64_t seed = 42;
  std::string only;  // comma-separated method names; empty: all
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--methods") == 0) only = "," + std::string(argv[i + 1]) + ",";
    if (std::strcmp(argv[i], "--events") == 0) n_events = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0) budget = std::stod(argv[i + 1]);
    if (std::strcmp(argv[i], "--seed") == 0) seed = std::stoull(argv[i + 1]);
  }
  const size_t kPool = 20'000;  // distinct events, cycled
  for (size_t n_patterns : {10, 100, 1000}) {
    std::mt19937_64 rng(seed);
    std::vector<Predicate> preds = MakePredicates(n_patterns, rng);
    std::vector<std::string> values = MakeValues(kPool, preds, 3, rng);

    // --- The shared scan, through the real loader. ---
    auto fields = std::make_shared<vigil::cep::FieldRegistry>();
    vigil::rules::Diagnostics diags;
    auto load_start = std::chrono::steady_clock::now();
    auto rs = vigil::rules::LoadRulesetFromString(RulesYaml(preds), "bench", fields.get(), &diags);
    double load_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    if (!diags.empty() || rs.rules.size() != preds.size()) {
      std::fprintf(stderr, "load failed: %s\n",
                   diags.empty() ? "rules missing" : diags[0].ToString().c_str());
      return 1;
    }
    const vigil::cep::FieldId cmd = *fields->Find("process.command_line");
    std::vector<std::unique_ptr<Event>> events;
    for (const std::string& v : values) {
      auto e = std::make_unique<Event>();
      e->ResetFields(fields->size());
      e->SetField(cmd, Value::String(e->CopyString(v)));
      events.push_back(std::move(e));
    }
    std::vector<const vigil::cep::Condition*> conds;
    for (const auto& r : rs.rules)
      conds.push_back(r.spec.where.get());
    const vigil::rules::PredicateScanner& scanner = *rs.predicates;
    auto shared = [&](size_t i) -> uint64_t {
      Event& e = *events[i];
      scanner.Scan(&e);
      uint64_t n = 0;
      vigil::cep::EvalContext ctx{e, nullptr};
      for (const vigil::cep::Condition* c : conds)
        n += c->Eval(ctx);
      return n;
    };
    // Engine-style: rules indexed by their start bit.
    std::vector<std::vector<uint32_t>> by_bit(scanner.predicate_count() + 64);
    for (uint32_t r = 0; r < conds.size(); ++r) {
      vigil::cep::ConditionIndex ix = conds[r]->Index();
      if (ix.kind != vigil::cep::ConditionIndex::Kind::kPredicateBit) {
        std::fprintf(stderr, "rule r%u is not indexed by a predicate bit\n", r);
        return 1;
      }
      if (ix.bit >= by_bit.size()) by_bit.resize(ix.bit + 1);
      by_bit[ix.bit].push_back(r);
    }
    auto indexed = [&](size_t i) -> uint64_t {
      Event& e = *events[i];
      scanner.Scan(&e);
      uint64_t n = 0;
      vigil::cep::EvalContext ctx{e, nullptr};
      for (size_t w = 0; w < e.predicate_bits.size(); ++w) {
        for (uint64_t bits = e.predicate_bits[w]; bits; bits &= bits - 1) {
          size_t bit = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
          for (uint32_t r : by_bit[bit])
            n += conds[r]->Eval(ctx);
        }
      }
      return n;
    };

    // The whole engine: scan, then cep::Engine::Process with its dispatch index. Events are
    // reused: single-event rules hold none once Process returns (max_delay 0).
    struct CountingSink final : vigil::cep::MatchSink {
      uint64_t matches = 0;
      void OnMatch(const vigil::cep::Match&) override { ++matches; }
    } sink;
    vigil::cep::Engine engine(&sink);
    engine.AddStream("default", {});
    for (const auto& r : rs.rules) {
      if (!engine.AddRule(r.spec).ok()) return 1;
    }
    std::vector<std::shared_ptr<Event>> engine_events;
    for (const std::string& v : values) {
      auto e = std::make_shared<Event>();
      e->ResetFields(fields->size());
      e->SetField(cmd, Value::String(e->CopyString(v)));
      engine_events.push_back(std::move(e));
    }
    vigil::cep::Timestamp now = 0;
    auto through_engine = [&](size_t i) -> uint64_t {
      const std::shared_ptr<Event>& e = engine_events[i];
      e->time = ++now;
      scanner.Scan(e.get());
      uint64_t before = sink.matches;
      engine.Process(e);
      return sink.matches - before;
    };

    // --- Per rule: keywords in C++, each regex its own Hyperscan database. ---
    std::vector<hs_database_t*> hs_dbs(preds.size(), nullptr);
    hs_scratch_t* hs_scratch = nullptr;
    for (size_t r = 0; r < preds.size(); ++r) {
      if (preds[r].op != Predicate::Op::kRegex) continue;
      hs_compile_error_t* err = nullptr;
      unsigned flags =
          HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (preds[r].caseless ? HS_FLAG_CASELESS : 0);
      if (hs_compile(preds[r].text.c_str(), flags, HS_MODE_BLOCK, nullptr, &hs_dbs[r], &err) !=
              HS_SUCCESS ||
          hs_alloc_scratch(hs_dbs[r], &hs_scratch) != HS_SUCCESS) {
        std::fprintf(stderr, "hs_compile %s failed\n", preds[r].text.c_str());
        return 1;
      }
    }
    auto hs_stop = [](unsigned, unsigned long long, unsigned long long, unsigned,
                      void* ctx) -> int {
      *static_cast<bool*>(ctx) = true;
      return 1;
    };
    auto per_rule_hs = [&](size_t i) -> uint64_t {
      std::string_view v = values[i];
      uint64_t n = 0;
      for (size_t r = 0; r < preds.size(); ++r) {
        const Predicate& p = preds[r];
        std::string_view t = p.text;
        bool hit = false;
        switch (p.op) {
          case Predicate::Op::kContains:
            hit = p.caseless ? FindFold(v, t) : v.find(t) != std::string_view::npos;
            break;
          case Predicate::Op::kStartsWith:
            hit = v.size() >= t.size() &&
                  (p.caseless ? FindFold(v.substr(0, t.size()), t) : v.substr(0, t.size()) == t);
            break;
          case Predicate::Op::kEndsWith:
            hit = v.size() >= t.size() && (p.caseless ? FindFold(v.substr(v.size() - t.size()), t)
                                                      : v.substr(v.size() - t.size()) == t);
            break;
          case Predicate::Op::kRegex:
            hs_scan(hs_dbs[r], v.data(), static_cast<unsigned>(v.size()), 0, hs_scratch, hs_stop,
                    &hit);
            break;
        }
        n += hit;
      }
      return n;
    };

    // --- Per rule: every predicate a regex (keywords escaped and anchored). ---
    auto as_regex = [](const Predicate& p, bool pcre) {
      switch (p.op) {
        case Predicate::Op::kContains:
          return RegexEscape(p.text);
        case Predicate::Op::kStartsWith:
          return "^" + RegexEscape(p.text);
        case Predicate::Op::kEndsWith:
          return RegexEscape(p.text) + (pcre ? "\\z" : "$");
        case Predicate::Op::kRegex:
          return p.text;
      }
      return std::string();
    };
    std::vector<pcre2_code*> pcre(preds.size());
    std::vector<pcre2_match_data*> pcre_md(preds.size());
    for (size_t r = 0; r < preds.size(); ++r) {
      std::string re = as_regex(preds[r], true);
      int errcode = 0;
      PCRE2_SIZE erroff = 0;
      pcre[r] = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.c_str()), re.size(),
                              preds[r].caseless ? PCRE2_CASELESS : 0, &errcode, &erroff, nullptr);
      if (!pcre[r] || pcre2_jit_compile(pcre[r], PCRE2_JIT_COMPLETE) != 0) {
        std::fprintf(stderr, "pcre2 %s failed\n", re.c_str());
        return 1;
      }
      pcre_md[r] = pcre2_match_data_create_from_pattern(pcre[r], nullptr);
    }
    auto pcre2 = [&](size_t i) -> uint64_t {
      const std::string& v = values[i];
      uint64_t n = 0;
      for (size_t r = 0; r < preds.size(); ++r) {
        n += pcre2_jit_match(pcre[r], reinterpret_cast<PCRE2_SPTR>(v.data()), v.size(), 0, 0,
                             pcre_md[r], nullptr) >= 0;
      }
      return n;
    };
    std::vector<std::regex> stdre;
    for (const Predicate& p : preds) {
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (p.caseless) flags |= std::regex::icase;
      stdre.emplace_back(as_regex(p, false), flags);
    }
    auto std_regex = [&](size_t i) -> uint64_t {
      const std::string& v = values[i];
      uint64_t n = 0;
      for (const std::regex& re : stdre)
        n += std::regex_search(v, re);
      return n;
    };

    // Hits per event of the reference, to check every method over the events it ran.
    std::vector<uint64_t> prefix(kPool + 1, 0);
    for (size_t i = 0; i < kPool; ++i)
      prefix[i + 1] = prefix[i] + shared(i);
    auto expected = [&](size_t n) { return (n / kPool) * prefix[kPool] + prefix[n % kPool]; };

    struct Method {
      const char* name;
      std::function<uint64_t(size_t)> fn;
    };
    const Method methods[] = {{"hyperscan", shared},      {"hyperscan_indexed", indexed},
                              {"engine", through_engine}, {"per_rule_hs", per_rule_hs},
                              {"pcre2", pcre2},           {"std_regex", std_regex}};
    size_t events_hit = 0;
    for (size_t i = 0; i < kPool; ++i)
      events_hit += prefix[i + 1] != prefix[i];
    double reference_ns = 0;
    bool ok = true;
    for (const Method& m : methods) {
      if (!only.empty() && only.find("," + std::string(m.name) + ",") == std::string::npos)
        continue;
      Timing t = Run(kPool, n_events, budget, m.fn);
      double ns = t.seconds * 1e9 / static_cast<double>(t.events);
      if (reference_ns == 0) reference_ns = ns;
      bool agree = t.hits == expected(t.events);
      ok &= agree;
      std::printf(
          "{\"bench\":\"hyperscan\",\"method\":\"%s\",\"patterns\":%zu,\"field_bytes\":150,"
          "\"events\":%zu,\"hits\":%llu,\"events_with_hits_pct\":%.1f,\"seconds\":%.3f,"
          "\"events_per_s\":%.0f,\"ns_per_event\":%.1f,\"hyperscan_speedup\":%.1f,"
          "\"load_seconds\":%.3f,\"agrees\":%s}\n",
          m.name, n_patterns, t.events, static_cast<unsigned long long>(t.hits),
          100.0 * static_cast<double>(events_hit) / kPool, t.seconds, t.events / t.seconds, ns,
          ns / reference_ns, load_s, agree ? "true" : "false");
      std::fflush(stdout);
    }
    for (auto* db : hs_dbs)
      hs_free_database(db);
    hs_free_scratch(hs_scratch);
    for (size_t r = 0; r < preds.size(); ++r) {
      pcre2_match_data_free(pcre_md[r]);
      pcre2_code_free(pcre[r]);
    }
    if (!ok) {
      std::fprintf(stderr, "methods disagree on the hits (patterns: %zu)\n", n_patterns);
      return 1;
    }
  }
  return 0;
}
