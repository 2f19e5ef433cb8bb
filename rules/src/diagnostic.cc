#include "vigil/rules/diagnostic.h"

#include "vigil/cep/options.h"

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

std::string SuggestClosest(const std::string& word, const std::vector<std::string>& candidates) {
  return cep::DidYouMean(word, candidates);
}

}  // namespace vigil::rules
