#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "expr_ast.h"
#include "vigil/cep/value.h"

namespace vigil::rules {

std::unique_ptr<Node> Node::Clone() const {
  auto n = std::make_unique<Node>(kind, offset);
  n->text = text;
  n->number = number;
  n->is_integer = is_integer;
  n->integer = integer;
  n->flag = flag;
  n->regex_flags = regex_flags;
  n->height = height;
  for (const auto& c : children) n->children.push_back(c->Clone());
  return n;
}

namespace {

enum class Tok {
  kEnd, kIdent, kString, kNumber, kLParen, kRParen, kLBracket, kRBracket, kComma,
  kEq, kNe, kLt, kLe, kGt, kGe, kPlus, kMinus, kStar, kSlash, kError,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string text;  // identifier, decoded string, number text, or error message
};

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '@' || c == '$';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

class Parser {
 public:
  explicit Parser(std::string_view text) : src_(text) { Advance(); }

  std::unique_ptr<Node> ParseAll(ParseError* error) {
    auto node = ParseOr();
    if (node && tok_.kind != Tok::kEnd) {
      Fail(tok_.offset, tok_.kind == Tok::kError ? tok_.text : "unexpected " + Describe(tok_));
      node.reset();
    }
    if (!node) *error = error_;
    return node;
  }

 private:
  // ---- lexer ----
  void SkipSpace() {
    while (pos_ < src_.size() &&
           (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r')) {
      ++pos_;
    }
  }

  void Advance() {
    SkipSpace();
    tok_ = Token{};
    tok_.offset = pos_;
    if (pos_ >= src_.size()) {
      tok_.kind = Tok::kEnd;
      return;
    }
    char c = src_[pos_];
    if (IsIdentStart(c)) {
      size_t start = pos_;
      ++pos_;
      for (;;) {
        while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
        if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsIdentChar(src_[pos_ + 1])) {
          ++pos_;
          continue;
        }
        break;
      }
      tok_.kind = Tok::kIdent;
      tok_.text.assign(src_.substr(start, pos_ - start));
      return;
    }
    if ((c >= '0' && c <= '9') || (c == '.' && pos_ + 1 < src_.size() && src_[pos_ + 1] >= '0' &&
                                   src_[pos_ + 1] <= '9')) {
      size_t start = pos_;
      while (pos_ < src_.size() &&
             ((src_[pos_] >= '0' && src_[pos_] <= '9') || src_[pos_] == '.' || src_[pos_] == 'e' ||
              src_[pos_] == 'E' ||
              ((src_[pos_] == '+' || src_[pos_] == '-') &&
               (src_[pos_ - 1] == 'e' || src_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      if (pos_ < src_.size() && IsIdentStart(src_[pos_])) {
        while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
        tok_.kind = Tok::kError;
        tok_.text = "invalid number '" + std::string(src_.substr(start, pos_ - start)) + "'";
        return;
      }
      tok_.kind = Tok::kNumber;
      tok_.text.assign(src_.substr(start, pos_ - start));
      return;
    }
    if (c == '"' || c == '\'') {
      LexString(c);
      return;
    }
    ++pos_;
    auto two = [&](char next, Tok yes, Tok no) {
      if (pos_ < src_.size() && src_[pos_] == next) {
        ++pos_;
        tok_.kind = yes;
      } else {
        tok_.kind = no;
      }
    };
    switch (c) {
      case '(': tok_.kind = Tok::kLParen; break;
      case ')': tok_.kind = Tok::kRParen; break;
      case '[': tok_.kind = Tok::kLBracket; break;
      case ']': tok_.kind = Tok::kRBracket; break;
      case ',': tok_.kind = Tok::kComma; break;
      case '+': tok_.kind = Tok::kPlus; break;
      case '-': tok_.kind = Tok::kMinus; break;
      case '*': tok_.kind = Tok::kStar; break;
      case '/': tok_.kind = Tok::kSlash; break;
      case '<': two('=', Tok::kLe, Tok::kLt); break;
      case '>': two('=', Tok::kGe, Tok::kGt); break;
      case '=':
        if (pos_ < src_.size() && src_[pos_] == '=') {
          ++pos_;
          tok_.kind = Tok::kEq;
        } else {
          tok_.kind = Tok::kError;
          tok_.text = "'=' is not an operator; use '==' to compare";
        }
        break;
      case '!':
        if (pos_ < src_.size() && src_[pos_] == '=') {
          ++pos_;
          tok_.kind = Tok::kNe;
        } else {
          tok_.kind = Tok::kError;
          tok_.text = "'!' is not an operator; use 'not' or '!='";
        }
        break;
      case '&':
      case '|':
        tok_.kind = Tok::kError;
        tok_.text = std::string("'") + c + "' is not an operator; use '" +
                    (c == '&' ? "and" : "or") + "'";
        if (pos_ < src_.size() && src_[pos_] == c) ++pos_;
        break;
      default:
        tok_.kind = Tok::kError;
        tok_.text = std::string("unexpected character '") + c + "'";
    }
  }

  void LexString(char quote) {
    size_t start = pos_++;
    std::string out;
    while (pos_ < src_.size() && src_[pos_] != quote) {
      char c = src_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= src_.size()) break;
      char e = src_[pos_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '0': out.push_back('\0'); break;
        case '\\': out.push_back('\\'); break;
        case '"': out.push_back('"'); break;
        case '\'': out.push_back('\''); break;
        default:
          // Unknown escapes are kept as written, so Windows paths read naturally.
          out.push_back('\\');
          out.push_back(e);
      }
    }
    if (pos_ >= src_.size()) {
      tok_.kind = Tok::kError;
      tok_.offset = start;
      tok_.text = "unterminated string";
      return;
    }
    ++pos_;
    tok_.kind = Tok::kString;
    tok_.text = std::move(out);
  }

  // Reads /pattern/flags starting at the current token (which must be '/').
  std::unique_ptr<Node> LexRegex() {
    size_t start = tok_.offset;
    size_t p = start + 1;
    std::string pattern;
    while (p < src_.size() && src_[p] != '/') {
      if (src_[p] == '\\' && p + 1 < src_.size() && src_[p + 1] == '/') {
        pattern.push_back('/');
        p += 2;
        continue;
      }
      if (src_[p] == '\\' && p + 1 < src_.size()) {
        pattern.push_back(src_[p]);
        pattern.push_back(src_[p + 1]);
        p += 2;
        continue;
      }
      pattern.push_back(src_[p++]);
    }
    if (p >= src_.size()) return Fail(start, "unterminated regex: expected a closing '/'");
    ++p;
    std::string flags;
    while (p < src_.size() && IsIdentChar(src_[p])) {
      char f = src_[p];
      if (f != 'i' && f != 'm' && f != 's') {
        return Fail(p, std::string("unknown regex flag '") + f + "' (flags are i, m, s)");
      }
      if (flags.find(f) == std::string::npos) flags.push_back(f);
      ++p;
    }
    auto n = std::make_unique<Node>(NodeKind::kRegex, start);
    n->text = std::move(pattern);
    n->regex_flags = std::move(flags);
    pos_ = p;
    Advance();
    return n;
  }

  // ---- parser ----
  std::unique_ptr<Node> Fail(size_t offset, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_.offset = offset;
      error_.message = std::move(message);
    }
    return nullptr;
  }

  // Fails at the current token: "expected <what>, found <token>", or the lexer's own
  // message when the token is a lexical error (e.g. '=' for '==').
  std::unique_ptr<Node> FailExpected(const std::string& what) {
    if (tok_.kind == Tok::kError) return Fail(tok_.offset, tok_.text);
    return Fail(tok_.offset, "expected " + what + ", found " + Describe(tok_));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of expression";
      case Tok::kIdent: return "'" + t.text + "'";
      case Tok::kString: return "string";
      case Tok::kNumber: return "number " + t.text;
      case Tok::kError: return t.text;
      case Tok::kLParen: return "'('";
      case Tok::kRParen: return "')'";
      case Tok::kLBracket: return "'['";
      case Tok::kRBracket: return "']'";
      case Tok::kComma: return "','";
      default: return "operator";
    }
  }

  bool IsKeyword(std::string_view word) const {
    return tok_.kind == Tok::kIdent && tok_.text == word;
  }

  // ---- nesting: bounded, so that nothing walking the tree recursively runs out of stack ----
  std::unique_ptr<Node> TooDeep(size_t offset) {
    return Fail(offset, "expression nests too deeply (more than " +
                            std::to_string(kMaxExpressionDepth) + " levels)");
  }

  // Sets the height of `n` from its children; fails if the tree gets too deep.
  std::unique_ptr<Node> Sized(std::unique_ptr<Node> n) {
    uint32_t below = 0;
    for (const auto& c : n->children) below = std::max(below, c->height);
    n->height = below + 1;
    if (n->height > kMaxExpressionDepth) return TooDeep(n->offset);
    return n;
  }

  // One level of the parser's recursion (parentheses, lists, calls, `not`, unary minus).
  class Nesting {
   public:
    explicit Nesting(uint32_t* depth) : depth_(depth) { ++*depth_; }
    ~Nesting() { --*depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    bool too_deep() const { return *depth_ > kMaxExpressionDepth; }

   private:
    uint32_t* depth_;
  };

  std::unique_ptr<Node> Binary(NodeKind kind, std::unique_ptr<Node> l, std::unique_ptr<Node> r,
                               size_t offset, std::string op = {}) {
    auto n = std::make_unique<Node>(kind, offset);
    n->text = std::move(op);
    n->children.push_back(std::move(l));
    n->children.push_back(std::move(r));
    return Sized(std::move(n));
  }

  // `a or b or c` (and the same for `and`): one node whose children are the operands, at
  // the first operator, so that long chains do not nest.
  template <typename ParseOperand>
  std::unique_ptr<Node> Chain(NodeKind kind, std::string_view keyword, ParseOperand operand) {
    auto left = operand();
    if (!left || !IsKeyword(keyword)) return left;
    auto chain = std::make_unique<Node>(kind, tok_.offset);
    chain->children.push_back(std::move(left));
    while (IsKeyword(keyword)) {
      Advance();
      auto right = operand();
      if (!right) return nullptr;
      chain->children.push_back(std::move(right));
    }
    return Sized(std::move(chain));
  }

  std::unique_ptr<Node> ParseOr() {
    return Chain(NodeKind::kOr, "or", [this] { return ParseAnd(); });
  }

  std::unique_ptr<Node> ParseAnd() {
    return Chain(NodeKind::kAnd, "and", [this] { return ParseNot(); });
  }

  std::unique_ptr<Node> ParseNot() {
    if (IsKeyword("not")) {
      size_t off = tok_.offset;
      Nesting nesting(&depth_);
      if (nesting.too_deep()) return TooDeep(off);
      Advance();
      auto operand = ParseNot();
      if (!operand) return nullptr;
      auto n = std::make_unique<Node>(NodeKind::kNot, off);
      n->children.push_back(std::move(operand));
      return Sized(std::move(n));
    }
    return ParseComparison();
  }

  std::unique_ptr<Node> ParseComparison() {
    auto left = ParseAdditive();
    if (!left) return nullptr;
    size_t off = tok_.offset;
    const char* op = nullptr;
    switch (tok_.kind) {
      case Tok::kEq: op = "=="; break;
      case Tok::kNe: op = "!="; break;
      case Tok::kLt: op = "<"; break;
      case Tok::kLe: op = "<="; break;
      case Tok::kGt: op = ">"; break;
      case Tok::kGe: op = ">="; break;
      default: break;
    }
    if (op) {
      Advance();
      auto right = ParseAdditive();
      if (!right) return nullptr;
      return Binary(NodeKind::kCompare, std::move(left), std::move(right), off, op);
    }
    if (tok_.kind != Tok::kIdent) return left;
    bool negated = false;
    if (tok_.text == "not") {
      // `x not in [...]`; anything else after `not` here is an error.
      Advance();
      if (!IsKeyword("in")) return Fail(tok_.offset, "expected 'in' after 'not'");
      negated = true;
    }
    const std::string word = tok_.text;
    if (word == "in") {
      Advance();
      std::unique_ptr<Node> list;
      if (tok_.kind == Tok::kLBracket) {
        list = ParseList();
      } else if (tok_.kind == Tok::kIdent) {
        list = std::make_unique<Node>(NodeKind::kPath, tok_.offset);
        list->text = tok_.text;
        Advance();
      } else {
        return Fail(tok_.offset, "expected a list [..] or a list name after 'in'");
      }
      if (!list) return nullptr;
      auto n = Binary(NodeKind::kIn, std::move(left), std::move(list), off);
      if (n) n->flag = negated;
      return n;
    }
    static constexpr std::string_view kStringOps[] = {"contains", "startswith", "endswith"};
    for (std::string_view sop : kStringOps) {
      bool ci = word.size() == sop.size() + 1 && word[0] == 'i' && word.substr(1) == sop;
      if (word == sop || ci) {
        Advance();
        auto right = ParseAdditive();
        if (!right) return nullptr;
        auto n = Binary(NodeKind::kStringOp, std::move(left), std::move(right), off,
                        std::string(sop));
        if (n) n->flag = ci;
        return n;
      }
    }
    if (word == "matches") {
      Advance();
      if (tok_.kind != Tok::kSlash) {
        return Fail(tok_.offset, "expected a regex /.../ after 'matches'");
      }
      auto re = LexRegex();
      if (!re) return nullptr;
      return Binary(NodeKind::kMatches, std::move(left), std::move(re), off, "matches");
    }
    return left;
  }

  std::unique_ptr<Node> ParseAdditive() {
    auto left = ParseMultiplicative();
    while (left && (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus)) {
      size_t off = tok_.offset;
      std::string op = tok_.kind == Tok::kPlus ? "+" : "-";
      Advance();
      auto right = ParseMultiplicative();
      if (!right) return nullptr;
      left = Binary(NodeKind::kArith, std::move(left), std::move(right), off, op);
    }
    return left;
  }

  std::unique_ptr<Node> ParseMultiplicative() {
    auto left = ParseUnary();
    while (left && (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash)) {
      size_t off = tok_.offset;
      std::string op = tok_.kind == Tok::kStar ? "*" : "/";
      Advance();
      auto right = ParseUnary();
      if (!right) return nullptr;
      left = Binary(NodeKind::kArith, std::move(left), std::move(right), off, op);
    }
    return left;
  }

  std::unique_ptr<Node> ParseUnary() {
    Nesting nesting(&depth_);
    if (nesting.too_deep()) return TooDeep(tok_.offset);
    if (tok_.kind == Tok::kMinus) {
      size_t off = tok_.offset;
      Advance();
      auto operand = ParseUnary();
      if (!operand) return nullptr;
      if (operand->kind == NodeKind::kNumber) {  // fold literal negation
        operand->number = -operand->number;
        operand->integer = -operand->integer;
        operand->offset = off;
        return operand;
      }
      auto n = std::make_unique<Node>(NodeKind::kNegate, off);
      n->children.push_back(std::move(operand));
      return Sized(std::move(n));
    }
    return ParsePrimary();
  }

  std::unique_ptr<Node> ParseList() {
    auto list = std::make_unique<Node>(NodeKind::kList, tok_.offset);
    Advance();  // [
    if (tok_.kind == Tok::kRBracket) {
      Advance();
      return list;
    }
    for (;;) {
      auto item = ParseUnary();
      if (!item) return nullptr;
      list->children.push_back(std::move(item));
      if (tok_.kind == Tok::kComma) {
        Advance();
        continue;
      }
      if (tok_.kind == Tok::kRBracket) {
        Advance();
        return Sized(std::move(list));
      }
      return FailExpected("',' or ']' in list");
    }
  }

  std::unique_ptr<Node> ParsePrimary() {
    size_t off = tok_.offset;
    switch (tok_.kind) {
      case Tok::kLParen: {
        Advance();
        auto inner = ParseOr();
        if (!inner) return nullptr;
        if (tok_.kind != Tok::kRParen) {
          return FailExpected("')'");
        }
        Advance();
        return inner;
      }
      case Tok::kLBracket: return ParseList();
      case Tok::kString: {
        auto n = std::make_unique<Node>(NodeKind::kString, off);
        n->text = tok_.text;
        Advance();
        return n;
      }
      case Tok::kNumber: {
        auto n = std::make_unique<Node>(NodeKind::kNumber, off);
        const std::string& t = tok_.text;
        char* end = nullptr;
        n->number = std::strtod(t.c_str(), &end);
        if (end != t.c_str() + t.size() || !std::isfinite(n->number)) {
          return Fail(off, "invalid number '" + t + "'");
        }
        if (t.find_first_of(".eE") == std::string::npos) {
          errno = 0;
          long long v = std::strtoll(t.c_str(), nullptr, 10);
          if (errno == 0) {
            n->is_integer = true;
            n->integer = v;
          }
        }
        Advance();
        return n;
      }
      case Tok::kSlash: return LexRegex();
      case Tok::kIdent: {
        std::string name = tok_.text;
        if (name == "true" || name == "false") {
          auto n = std::make_unique<Node>(NodeKind::kBool, off);
          n->flag = name == "true";
          Advance();
          return n;
        }
        if (name == "null") {
          Advance();
          return std::make_unique<Node>(NodeKind::kNull, off);
        }
        static constexpr std::string_view kReserved[] = {
            "and", "or", "not", "in", "contains", "icontains", "startswith", "istartswith",
            "endswith", "iendswith", "matches"};
        for (std::string_view r : kReserved) {
          if (name == r) return Fail(off, "expected a value before '" + name + "'");
        }
        Advance();
        if (tok_.kind == Tok::kLParen) return ParseCall(std::move(name), off);
        auto n = std::make_unique<Node>(NodeKind::kPath, off);
        n->text = std::move(name);
        return n;
      }
      case Tok::kEnd: return Fail(off, "expression ends where a value was expected");
      case Tok::kError: return Fail(off, tok_.text);
      default: return Fail(off, "expected a value, found " + Describe(tok_));
    }
  }

  std::unique_ptr<Node> ParseCall(std::string name, size_t off) {
    Advance();  // (
    if (name == "field") {
      if (tok_.kind != Tok::kString) {
        return Fail(tok_.offset, "field(...) takes one quoted field name");
      }
      auto n = std::make_unique<Node>(NodeKind::kField, off);
      n->text = tok_.text;
      Advance();
      if (tok_.kind != Tok::kRParen) return Fail(tok_.offset, "expected ')' after field name");
      Advance();
      return n;
    }
    auto call = std::make_unique<Node>(NodeKind::kCall, off);
    call->text = std::move(name);
    if (tok_.kind == Tok::kRParen) {
      Advance();
      return call;
    }
    for (;;) {
      auto arg = ParseOr();
      if (!arg) return nullptr;
      call->children.push_back(std::move(arg));
      if (tok_.kind == Tok::kComma) {
        Advance();
        continue;
      }
      if (tok_.kind == Tok::kRParen) {
        Advance();
        return Sized(std::move(call));
      }
      return FailExpected("',' or ')' in call to " + call->text);
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  Token tok_;
  uint32_t depth_ = 0;  // current recursion, in Nesting levels
  bool failed_ = false;
  ParseError error_;
};

}  // namespace

std::unique_ptr<Node> ParseExpression(std::string_view text, ParseError* error) {
  Parser p(text);
  return p.ParseAll(error);
}

std::string DebugString(const Node& n) {
  std::string out;
  auto kids = [&](std::string_view sep) {
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i) out += sep;
      out += DebugString(*n.children[i]);
    }
  };
  switch (n.kind) {
    case NodeKind::kNull: return "null";
    case NodeKind::kBool: return n.flag ? "true" : "false";
    case NodeKind::kNumber:
      if (n.is_integer) return std::to_string(n.integer);
      cep::AppendDouble(n.number, &out);
      return out;
    case NodeKind::kString: cep::AppendJsonString(n.text, &out); return out;
    case NodeKind::kRegex: return "/" + n.text + "/" + n.regex_flags;
    case NodeKind::kList:
      out = "[";
      kids(", ");
      return out + "]";
    case NodeKind::kPath: return n.text;
    case NodeKind::kField:
      out = "field(";
      cep::AppendJsonString(n.text, &out);
      return out + ")";
    case NodeKind::kNot: return "(not " + DebugString(*n.children[0]) + ")";
    case NodeKind::kAnd:
    case NodeKind::kOr:
      // Nested to the left, as binary operators print: ((a and b) and c).
      out.assign(n.children.size() - 1, '(');
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out += n.kind == NodeKind::kAnd ? " and " : " or ";
        out += DebugString(*n.children[i]);
        if (i) out += ')';
      }
      return out;
    case NodeKind::kCompare:
    case NodeKind::kArith:
      return "(" + DebugString(*n.children[0]) + " " + n.text + " " +
             DebugString(*n.children[1]) + ")";
    case NodeKind::kIn:
      return "(" + DebugString(*n.children[0]) + (n.flag ? " not in " : " in ") +
             DebugString(*n.children[1]) + ")";
    case NodeKind::kStringOp:
      return "(" + DebugString(*n.children[0]) + " " + (n.flag ? "i" : "") + n.text + " " +
             DebugString(*n.children[1]) + ")";
    case NodeKind::kMatches:
      return "(" + DebugString(*n.children[0]) + " matches " + DebugString(*n.children[1]) + ")";
    case NodeKind::kCall:
      out = n.text + "(";
      kids(", ");
      return out + ")";
    case NodeKind::kNegate: return "(-" + DebugString(*n.children[0]) + ")";
  }
  return out;
}

}  // namespace vigil::rules
