// Internal: turns expression text into checked, compiled expressions.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "expr_ast.h"
#include "expr_eval.h"
#include "predicate_set.h"
#include "vigil/cep/condition.h"
#include "vigil/cep/event.h"
#include "vigil/rules/diagnostic.h"

namespace vigil::rules {

// Where an expression's text came from, so that byte offsets become file positions.
struct ExprSource {
  SourcePos start;  // the scalar's first character in the file
  bool quoted = false;
  std::string text;
  // Block scalars (| and >): where in `text` each line as written begins; `start` is then
  // the first line's first character after its indentation. Empty for other scalars.
  std::vector<size_t> block_lines;
  // Flow scalars read from a document: the (line, column) of each byte of `text`, exact
  // across folded lines and escapes. Empty: positions are counted from `start`.
  std::vector<std::pair<int, int>> byte_positions;
  SourcePos At(size_t offset) const;
};

// A literal in a named list.
struct LiteralValue {
  cep::ValueKind kind = cep::ValueKind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  cep::Value view() const;
};

struct ListDef {
  std::vector<LiteralValue> items;
  SourcePos pos;
};

struct MacroDef {
  ExprSource source;
  std::unique_ptr<Node> ast;  // null when the text does not parse (already reported)
};

using MacroTable = std::map<std::string, MacroDef>;
using ListTable = std::map<std::string, ListDef>;

// What names an expression may use.
struct CompileScope {
  const MacroTable* macros = nullptr;
  const ListTable* lists = nullptr;
  // Pattern rules: the step names in order. Null elsewhere (steps.* is then an error).
  const std::vector<std::string>* steps = nullptr;
  // The steps an expression may read: index <= visible_through (its own step included,
  // for iterative conditions). Templates see every step.
  int visible_through = -1;
  // Templates: `key.<field>` names a field of the rule's key.
  const std::vector<std::string>* key_names = nullptr;
  cep::FieldRegistry* fields = nullptr;
  // Where conditions put their string predicates on plain fields, to be matched by the
  // ruleset's shared scan (architecture decision 1). Null: every predicate is evaluated
  // directly. Values (templates) never use it: they are evaluated on whichever event an
  // alert renders, not as a condition on a scanned event.
  PredicateSetBuilder* predicates = nullptr;
};

// The canonical text of an expression: macros expanded, named lists inlined. Equal texts
// mean equal semantics, so a rule's state can be kept across reloads when they agree.
// Returns the empty string if the text does not parse.
std::string CanonicalText(const std::string& text, const CompileScope& scope);

class ExprCompiler {
 public:
  ExprCompiler(const CompileScope& scope, Diagnostics* diags) : scope_(scope), diags_(diags) {}

  // Parses and compiles a boolean condition. Returns null after adding diagnostics.
  std::shared_ptr<const cep::Condition> CompileCondition(const ExprSource& src);
  // Parses and compiles a value expression (templates). Null after adding diagnostics.
  ExprPtr CompileValue(const ExprSource& src, bool* uses_steps);

 private:
  ExprPtr Build(const Node& n);
  ExprPtr BuildCondition(const Node& n);
  ExprPtr BuildPath(const Node& n);
  ExprPtr BuildStepRef(const Node& n, const std::string& path, bool in_aggregate,
                       StepAggregateExpr::Op op);
  ExprPtr BuildCall(const Node& n);
  ExprPtr BuildIn(const Node& n);
  ExprPtr BuildStringOp(const Node& n);
  ExprPtr BuildMatches(const Node& n);
  // Adds `p` to the shared predicates; `at` is where it is written, `what` names it.
  uint32_t AddShared(const Node& at, const SharedPredicate& p, const std::string& what);
  void Error(const Node& n, std::string message);
  void Error(size_t offset, std::string message);

  const CompileScope& scope_;
  Diagnostics* diags_;
  std::vector<const ExprSource*> sources_;   // innermost last: where offsets point
  std::vector<std::string> macro_stack_;     // for cycle detection
  uint32_t depth_ = 0;                       // Build's recursion, macros expanded
  bool too_deep_ = false;                    // reported once per expression
  bool uses_steps_ = false;
  bool uses_scratch_ = false;  // a node computes strings (CaseExpr)
  bool failed_ = false;
  bool share_predicates_ = false;  // compiling a condition with scope_.predicates set
};

}  // namespace vigil::rules
