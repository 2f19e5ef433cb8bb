// Test support: random pattern rules and events (every step option, contiguity, skip
// strategy, within, reset_on, max_partial_matches, absences, iterative conditions; several
// keys, equal timestamps, disorder within a max delay). Deterministic per seed: the
// reference test's expected file depends on exactly this generator.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::testing::random_cases {

// Deterministic across platforms: raw mt19937 output only (the standard distributions are
// implementation-defined).
class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(g_() % n); }
  bool Chance(uint32_t percent) { return Below(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(static_cast<uint32_t>(v.size()))]; }

 private:
  std::mt19937 g_;
};

inline const std::vector<std::string> kActions = {"a", "b", "c", "d"};

inline std::string Condition(Rng& rng, const std::vector<std::string>& earlier, const std::string& own) {
  const std::string act = kActions[rng.Below(3)];
  switch (rng.Below(10)) {
    case 0: return "action in [\"" + kActions[rng.Below(4)] + "\", \"" + kActions[rng.Below(4)] + "\"]";
    case 1: return "true";
    case 2: return "action != \"" + kActions[rng.Below(4)] + "\"";
    case 3:
      if (!earlier.empty()) {
        return "action == \"" + act + "\" and v >= steps." + rng.Pick(earlier) + ".last.v";
      }
      return "action == \"" + act + "\"";
    case 4: return "action == \"" + act + "\" and steps." + own + ".count < 3";
    case 5: return "v > " + std::to_string(rng.Below(10));
    default: return "action == \"" + act + "\"";
  }
}

inline std::string Rule(Rng& rng, int id) {
  const int steps = 1 + static_cast<int>(rng.Below(4));
  std::ostringstream y;
  y << "  - id: r" << id << "\n";
  if (rng.Chance(80)) y << "    key: [host]\n";
  const bool within = rng.Chance(70);
  if (within) y << "    within: " << std::vector<int>{5, 10, 20, 40}[rng.Below(4)] << "ms\n";
  const std::vector<std::string> skips = {"no_skip", "to_next", "past_last_event",
                                          "past_last_event", "to_first", "to_last"};
  std::string skip = rng.Pick(skips);
  if (skip == "to_first" || skip == "to_last") skip += ":s" + std::to_string(rng.Below(steps));
  y << "    skip: " << skip << "\n";
  if (rng.Chance(15)) y << "    reset_on: 'action == \"d\"'\n";
  if (rng.Chance(10)) y << "    max_partial_matches: " << 1 + rng.Below(4) << "\n";
  y << "    pattern:\n";
  std::vector<std::string> taken;  // earlier steps that are not absent
  bool prev_absent = false, prev_optional = false;
  for (int i = 0; i < steps; ++i) {
    const std::string name = "s" + std::to_string(i);
    y << "      - step: " << name << "\n";
    const bool last = i == steps - 1;
    const bool absent = i > 0 && !prev_absent && !prev_optional && rng.Chance(15) && (!last || within);
    // An absent step's condition may not read steps; any other may.
    std::string cond = Condition(rng, absent ? std::vector<std::string>{} : taken, name);
    if (absent && cond.find("steps.") != std::string::npos) cond = "action == \"b\"";
    y << "        where: '" << cond << "'\n";
    if (i > 0) {
      y << "        contiguity: "
        << std::vector<std::string>{"strict", "relaxed", "relaxed", "any"}[rng.Below(4)] << "\n";
    }
    prev_absent = absent;
    prev_optional = false;
    if (absent) {
      y << "        absent: true\n";
      continue;
    }
    bool looping = false;
    const uint32_t shape = rng.Below(100);
    if (shape < 15) {
      y << "        count: " << 2 + rng.Below(2) << "\n";
      looping = true;
    } else if (shape < 30) {
      y << "        count: {min: " << 1 + rng.Below(2) << "}\n";
      looping = true;
    } else if (shape < 38) {
      const uint32_t lo = 1 + rng.Below(2);
      y << "        count: {min: " << lo << ", max: " << lo + 1 + rng.Below(2) << "}\n";
      looping = true;
    } else if (shape < 42 && i > 0) {
      y << "        count: {min: 0}\n";
      looping = true;
      prev_optional = true;
    }
    if (i > 0 && rng.Chance(20)) {
      y << "        optional: true\n";
      prev_optional = true;
    }
    if (looping) {
      if (rng.Chance(25)) y << "        greedy: true\n";
      const uint32_t inner = rng.Below(10);
      if (inner < 2) y << "        consecutive: true\n";
      else if (inner < 4) y << "        combinations: true\n";
      if (rng.Chance(20)) y << "        until: 'action == \"" << kActions[rng.Below(4)] << "\"'\n";
    }
    taken.push_back(name);
  }
  return y.str();
}

struct Case {
  std::string rules;
  std::vector<std::string> events;
  int64_t max_delay_ms = 0;
};

inline Case Generate(uint32_t seed) {
  Rng rng(seed);
  Case c;
  c.rules = "rules:\n";
  const int rules = 1 + static_cast<int>(rng.Below(3));
  for (int r = 0; r < rules; ++r) c.rules += Rule(rng, r);
  const bool disorder = rng.Chance(30);
  if (disorder) c.max_delay_ms = rng.Below(7);
  const int n = 50 + static_cast<int>(rng.Below(250));
  const uint32_t hosts = 1 + rng.Below(5);
  int64_t ts = 0;
  for (int i = 0; i < n; ++i) {
    ts += std::vector<int>{0, 1, 1, 1, 2, 3, 5, 8}[rng.Below(8)];
    int64_t t = ts;
    if (disorder && rng.Chance(20)) t = std::max<int64_t>(0, ts - rng.Below(7));
    std::string e = "{\"id\":" + std::to_string(i + 1) + ",\"ts\":" + std::to_string(t) +
                    ",\"action\":\"" + kActions[rng.Below(4)] + "\",\"v\":" +
                    std::to_string(rng.Below(10));
    if (rng.Chance(97)) e += ",\"host\":\"h" + std::to_string(rng.Below(hosts)) + "\"";
    c.events.push_back(e + "}");
  }
  return c;
}

}  // namespace vigil::testing::random_cases
