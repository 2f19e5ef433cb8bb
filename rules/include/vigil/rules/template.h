// `output:` templates: text with {{ ... }} placeholders, compiled at load time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vigil/cep/match.h"

namespace vigil::rules {

class Expr;

// Renders "{{ steps.fail.count }} failures from {{ source.ip }}". A placeholder holds a
// field (read from the match's last event), steps.<name>.first/.last.<field>,
// steps.<name>.count, an aggregate such as sum(steps.<name>.<field>), or key.<field>.
// A missing value renders as nothing, never as an error.
// Thread safety: Render is const and may run on several threads.
class Template {
 public:
  struct Part {
    std::string literal;          // text before the placeholder
    std::unique_ptr<Expr> value;  // null for the trailing literal
  };
  Template(std::vector<Part> parts, std::vector<std::string> step_names);
  ~Template();
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  void Render(const cep::Match& match, std::string* out) const;

 private:
  std::vector<Part> parts_;
  std::vector<std::string> step_names_;
};

}  // namespace vigil::rules
