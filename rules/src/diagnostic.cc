#include "vigil/rules/diagnostic.h"

#include <algorithm>

namespace vigil::rules {

std::string Diagnostic::ToString() const {
  std::string s = pos.file.empty() ? "<input>" : pos.file;
  if (pos.line > 0) {
    s += ':' + std::to_string(pos.line);
    s += ':' + std::to_string(pos.column > 0 ? pos.column : 1);
  }
  s += ": ";
  s += message;
  return s;
}

namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string SuggestClosest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit && best_d < word.size() ? best : std::string();
}

}  // namespace vigil::rules
