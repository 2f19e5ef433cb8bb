// Positions in rule files and the errors that point at them.
#pragma once

#include <string>
#include <vector>

namespace vigil::rules {

// A place in a file; line and column are 1-based (0 = unknown).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  SourcePos pos;
  std::string message;
  // "file:line:column: message"
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

// The closest of `candidates` to `word` when it is close enough to be a likely typo
// (edit distance at most 2, or 1/3 of the word's length), else empty.
std::string SuggestClosest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace vigil::rules
