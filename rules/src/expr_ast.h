// Internal: the syntax tree of rule expressions, and the parser that builds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::rules {

enum class NodeKind {
  kNull, kBool, kNumber, kString, kRegex, kList,
  kPath,        // a dotted name: a field, a macro, or steps.<name>...; resolved later
  kField,       // field("odd name")
  kNot, kAnd, kOr,  // kAnd, kOr: two or more children, one node per chain
  kCompare,     // op: == != < <= > >=
  kIn,          // children: subject, list (kList or kPath naming a list); negated
  kStringOp,    // op: contains startswith endswith; `ignore_case` for the i-forms
  kMatches,     // children: subject, kRegex
  kCall,        // name(args...)
  kArith,       // op: + - * /
  kNegate,
};

struct Node {
  NodeKind kind;
  size_t offset = 0;  // byte offset of the node in the expression text
  std::string text;   // kString value, kPath/kField name, kCall name, kRegex pattern, op
  double number = 0;
  bool is_integer = false;  // kNumber written without fraction or exponent
  int64_t integer = 0;
  bool flag = false;        // kBool value; kIn negated; kStringOp ignore case
  std::string regex_flags;  // kRegex: subset of "ims"
  std::vector<std::unique_ptr<Node>> children;
  // Levels from this node down to its deepest leaf (1 for a leaf); the parser bounds it,
  // so that whatever walks the tree recursively has a bounded stack.
  uint32_t height = 1;

  Node(NodeKind k, size_t off) : kind(k), offset(off) {}
  std::unique_ptr<Node> Clone() const;
};

struct ParseError {
  size_t offset = 0;
  std::string message;
};

// The deepest nesting ParseExpression accepts: parentheses, `not`, unary minus, lists and
// calls inside one another, and chains of arithmetic (`a + b + c` nests to the left).
// Chains of `and` and `or` are one node, so they may be as long as wanted.
inline constexpr uint32_t kMaxExpressionDepth = 100;

// Parses a whole expression. On failure returns null and fills `error`.
std::unique_ptr<Node> ParseExpression(std::string_view text, ParseError* error);

// Renders the tree in a canonical parenthesised form, for tests and for hashing a rule's
// matching semantics: equal strings mean equal expressions.
std::string DebugString(const Node& node);

}  // namespace vigil::rules
