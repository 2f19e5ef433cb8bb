#include "expr_compiler.h"

#include <algorithm>
#include <climits>

#include "hyperscan.h"

namespace vigil::rules {

using cep::Value;
using cep::ValueKind;

SourcePos ExprSource::At(size_t offset) const {
  SourcePos p = start;
  if (p.line == 0) return p;
  if (!byte_positions.empty()) {
    const auto& [line, column] = byte_positions[std::min(offset, byte_positions.size() - 1)];
    p.line = line;
    p.column = column + (offset >= byte_positions.size() ? 1 : 0);
    return p;
  }
  if (!block_lines.empty()) {
    size_t i = 0;
    while (i + 1 < block_lines.size() && block_lines[i + 1] <= offset) {
      ++i;
    }
    p.line += static_cast<int>(i);
    p.column += static_cast<int>(offset - block_lines[i]);
    return p;
  }
  size_t line_start = 0;
  int newlines = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++newlines;
      line_start = i + 1;
    }
  }
  if (newlines == 0) {
    p.column += static_cast<int>(offset) + (quoted ? 1 : 0);
  } else {
    // A multi-line scalar: the line is exact, the column counts from the text's own line.
    p.line += newlines;
    p.column = static_cast<int>(offset - line_start) + 1;
  }
  return p;
}

Value LiteralValue::view() const {
  switch (kind) {
    case ValueKind::kBool: return Value::Bool(b);
    case ValueKind::kInt: return Value::Int(i);
    case ValueKind::kDouble: return Value::Double(d);
    case ValueKind::kString: return Value::String(s);
    default: return Value::Null();
  }
}

namespace {

const char* TypeName(ExprType t) {
  switch (t) {
    case ExprType::kNull: return "null";
    case ExprType::kBool: return "a boolean";
    case ExprType::kNumber: return "a number";
    case ExprType::kString: return "a string";
    case ExprType::kList: return "a list";
    case ExprType::kUnknown: return "a value";
  }
  return "a value";
}

bool IsConditionType(ExprType t) { return t == ExprType::kBool || t == ExprType::kUnknown; }

// The parser bounds each expression's depth; macros expanded inside one another can still
// nest deeper, and Build recurses once per level.
constexpr uint32_t kMaxExpandedDepth = 4 * kMaxExpressionDepth;

class DepthGuard {
 public:
  explicit DepthGuard(uint32_t* depth) : depth_(depth) { ++*depth_; }
  ~DepthGuard() { --*depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  uint32_t* depth_;
};

const std::vector<std::string>& FunctionNames() {
  static const std::vector<std::string> kNames = {"exists", "lower", "upper", "len", "cidr_match",
                                                  "field",  "sum",   "avg",   "min", "max"};
  return kNames;
}

}  // namespace

void ExprCompiler::Error(size_t offset, std::string message) {
  failed_ = true;
  SourcePos pos = sources_.empty() ? SourcePos{} : sources_.back()->At(offset);
  if (macro_stack_.size() > 0) message += " (in macro " + macro_stack_.back() + ")";
  diags_->push_back(Diagnostic{pos, std::move(message)});
}

void ExprCompiler::Error(const Node& n, std::string message) { Error(n.offset, std::move(message)); }

std::shared_ptr<const cep::Condition> ExprCompiler::CompileCondition(const ExprSource& src) {
  bool uses_steps = false;
  sources_.clear();
  macro_stack_.clear();
  failed_ = false;
  too_deep_ = false;
  uses_steps_ = false;
  uses_scratch_ = false;
  share_predicates_ = scope_.predicates != nullptr;
  sources_.push_back(&src);
  ParseError perr;
  auto ast = ParseExpression(src.text, &perr);
  if (!ast) {
    Error(perr.offset, perr.message);
    return nullptr;
  }
  ExprPtr root = BuildCondition(*ast);
  uses_steps = uses_steps_;
  if (!root || failed_) return nullptr;
  return std::make_shared<CompiledCondition>(std::move(root), uses_steps, uses_scratch_);
}

ExprPtr ExprCompiler::CompileValue(const ExprSource& src, bool* uses_steps) {
  sources_.clear();
  macro_stack_.clear();
  failed_ = false;
  too_deep_ = false;
  uses_steps_ = false;
  share_predicates_ = false;
  sources_.push_back(&src);
  ParseError perr;
  auto ast = ParseExpression(src.text, &perr);
  if (!ast) {
    Error(perr.offset, perr.message);
    return nullptr;
  }
  ExprPtr e = Build(*ast);
  if (uses_steps) *uses_steps = uses_steps_;
  if (!e || failed_) return nullptr;
  return e;
}

ExprPtr ExprCompiler::BuildCondition(const Node& n) {
  // A bare name standing as a condition reads a boolean field, unless it is a macro. One
  // that is not a macro but is spelt like one is a mistyped macro, not a field.
  if (n.kind == NodeKind::kPath && n.text.find('.') == std::string::npos && scope_.macros &&
      !scope_.macros->empty() && !scope_.macros->count(n.text)) {
    std::vector<std::string> names;
    for (const auto& [name, def] : *scope_.macros) names.push_back(name);
    std::string hint = SuggestClosest(n.text, names);
    if (!hint.empty()) {
      Error(n, "no macro named '" + n.text + "'; did you mean '" + hint + "'? (for a field of " +
                   "that name write field(\"" + n.text + "\"))");
      return nullptr;
    }
  }
  ExprPtr e = Build(n);
  if (!e) return nullptr;
  if (!IsConditionType(e->type())) {
    Error(n, std::string("expected a condition (true or false), found ") + TypeName(e->type()));
    return nullptr;
  }
  return e;
}

ExprPtr ExprCompiler::Build(const Node& n) {
  DepthGuard guard(&depth_);
  if (depth_ > kMaxExpandedDepth) {
    if (!too_deep_) {
      Error(n, "expression nests too deeply with its macros expanded (more than " +
                   std::to_string(kMaxExpandedDepth) + " levels)");
    }
    too_deep_ = true;
    return nullptr;
  }
  switch (n.kind) {
    case NodeKind::kNull: return ConstExpr::Null();
    case NodeKind::kBool: return ConstExpr::Bool(n.flag);
    case NodeKind::kNumber: return ConstExpr::Number(n.number, n.is_integer, n.integer);
    case NodeKind::kString: return ConstExpr::String(n.text);
    case NodeKind::kRegex:
      Error(n, "a regex can only follow 'matches'");
      return nullptr;
    case NodeKind::kList:
      Error(n, "a list can only follow 'in' or a string operator");
      return nullptr;
    case NodeKind::kPath: return BuildPath(n);
    case NodeKind::kField: return std::make_unique<FieldExpr>(scope_.fields->Intern(n.text));
    case NodeKind::kNot: {
      ExprPtr e = BuildCondition(*n.children[0]);
      if (!e) return nullptr;
      return std::make_unique<NotExpr>(std::move(e));
    }
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      // Flatten chains of the same operator into one node.
      std::vector<ExprPtr> terms;
      std::vector<const Node*> stack{&n};
      std::vector<const Node*> order;
      while (!stack.empty()) {
        const Node* cur = stack.back();
        stack.pop_back();
        if (cur->kind == n.kind) {
          for (auto it = cur->children.rbegin(); it != cur->children.rend(); ++it) {
            stack.push_back(it->get());
          }
        } else {
          order.push_back(cur);
        }
      }
      bool ok = true;
      for (const Node* t : order) {
        ExprPtr e = BuildCondition(*t);
        if (!e) ok = false;
        else terms.push_back(std::move(e));
      }
      if (!ok) return nullptr;
      return std::make_unique<LogicExpr>(n.kind == NodeKind::kAnd, std::move(terms));
    }
    case NodeKind::kCompare: {
      ExprPtr l = Build(*n.children[0]);
      ExprPtr r = Build(*n.children[1]);
      if (!l || !r) return nullptr;
      CompareOp op = n.text == "==" ? CompareOp::kEq
                     : n.text == "!=" ? CompareOp::kNe
                     : n.text == "<"  ? CompareOp::kLt
                     : n.text == "<=" ? CompareOp::kLe
                     : n.text == ">"  ? CompareOp::kGt
                                      : CompareOp::kGe;
      ExprType lt = l->type(), rt = r->type();
      bool ordering = op != CompareOp::kEq && op != CompareOp::kNe;
      if (ordering && (lt == ExprType::kNull || rt == ExprType::kNull)) {
        Error(n, "'" + n.text + "' with null is always false; use == null or != null");
        return nullptr;
      }
      if (ordering && (lt == ExprType::kBool || rt == ExprType::kBool)) {
        Error(n, "'" + n.text + "' does not order booleans");
        return nullptr;
      }
      if (lt != ExprType::kUnknown && rt != ExprType::kUnknown && lt != ExprType::kNull &&
          rt != ExprType::kNull && lt != rt) {
        Error(n, std::string("comparing ") + TypeName(lt) + " with " + TypeName(rt) +
                     " is always false");
        return nullptr;
      }
      // `x == null` and `x != null` test whether x has a value; every other comparison
      // with a null (or missing) value is false, `!=` included (CompareValues).
      if (lt == ExprType::kNull || rt == ExprType::kNull) {
        auto exists =
            std::make_unique<ExistsExpr>(lt == ExprType::kNull ? std::move(r) : std::move(l));
        if (op == CompareOp::kNe) return exists;
        return std::make_unique<NotExpr>(std::move(exists));
      }
      return std::make_unique<CompareExpr>(op, std::move(l), std::move(r));
    }
    case NodeKind::kIn: return BuildIn(n);
    case NodeKind::kStringOp: return BuildStringOp(n);
    case NodeKind::kMatches: return BuildMatches(n);
    case NodeKind::kCall: return BuildCall(n);
    case NodeKind::kArith:
    case NodeKind::kNegate: {
      ExprPtr l = Build(*n.children[0]);
      ExprPtr r = n.kind == NodeKind::kArith ? Build(*n.children[1]) : nullptr;
      if (!l || (n.kind == NodeKind::kArith && !r)) return nullptr;
      for (const Expr* e : {l.get(), r.get()}) {
        if (e && e->type() != ExprType::kUnknown && e->type() != ExprType::kNumber) {
          Error(n, std::string("arithmetic needs numbers, found ") + TypeName(e->type()));
          return nullptr;
        }
      }
      char op = n.kind == NodeKind::kNegate ? 'n' : n.text[0];
      return std::make_unique<ArithExpr>(op, std::move(l), std::move(r));
    }
  }
  return nullptr;
}

ExprPtr ExprCompiler::BuildPath(const Node& n) {
  const std::string& path = n.text;
  if (path == "steps" || path.rfind("steps.", 0) == 0) {
    return BuildStepRef(n, path, false, StepAggregateExpr::Op::kSum);
  }
  if (scope_.key_names && path.rfind("key.", 0) == 0) {
    std::string field = path.substr(4);
    for (const std::string& k : *scope_.key_names) {
      if (k == field) return std::make_unique<FieldExpr>(scope_.fields->Intern(field));
    }
    std::string msg = "the rule's key has no field '" + field + "'";
    std::string hint = SuggestClosest(field, *scope_.key_names);
    if (!hint.empty()) msg += "; did you mean key." + hint + "?";
    Error(n, msg);
    return nullptr;
  }
  if (scope_.macros) {
    auto it = scope_.macros->find(path);
    if (it != scope_.macros->end()) {
      for (size_t i = 0; i < macro_stack_.size(); ++i) {
        if (macro_stack_[i] == path) {
          std::string cycle;
          for (size_t j = i; j < macro_stack_.size(); ++j) cycle += macro_stack_[j] + " -> ";
          Error(n, "macro '" + path + "' refers to itself: " + cycle + path);
          return nullptr;
        }
      }
      if (!it->second.ast) {
        // Its parse error is reported where it is defined, perhaps in another file; this
        // use is an error too, so the file using it does not load without the condition.
        const SourcePos& def = it->second.source.start;
        std::string msg = "macro '" + path + "' has errors";
        if (def.line > 0) msg += " (see " + def.file + ":" + std::to_string(def.line) + ")";
        Error(n, std::move(msg));
        return nullptr;
      }
      macro_stack_.push_back(path);
      sources_.push_back(&it->second.source);
      ExprPtr e = Build(*it->second.ast);
      sources_.pop_back();
      macro_stack_.pop_back();
      return e;
    }
  }
  if (scope_.lists && scope_.lists->count(path)) {
    Error(n, "'" + path + "' is a list; use it as 'x in " + path + "'");
    return nullptr;
  }
  return std::make_unique<FieldExpr>(scope_.fields->Intern(path));
}

ExprPtr ExprCompiler::BuildStepRef(const Node& n, const std::string& path, bool in_aggregate,
                                   StepAggregateExpr::Op op) {
  if (!scope_.steps) {
    Error(n, "'" + path + "': steps.* can only be used in pattern steps and templates" +
                 " (use field(\"" + path + "\") for a field of that name)");
    return nullptr;
  }
  // steps.<name>.<rest>
  size_t dot1 = path.find('.');
  size_t dot2 = dot1 == std::string::npos ? std::string::npos : path.find('.', dot1 + 1);
  std::string name = dot1 == std::string::npos ? "" : path.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string rest = dot2 == std::string::npos ? "" : path.substr(dot2 + 1);
  if (name.empty()) {
    Error(n, "expected steps.<step>.first.<field>, .last.<field> or .count");
    return nullptr;
  }
  int index = -1;
  for (size_t i = 0; i < scope_.steps->size(); ++i) {
    if ((*scope_.steps)[i] == name) index = static_cast<int>(i);
  }
  if (index < 0) {
    std::string msg = "no step named '" + name + "'";
    std::string hint = SuggestClosest(name, *scope_.steps);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    Error(n, msg);
    return nullptr;
  }
  if (index > scope_.visible_through) {
    Error(n, "step '" + name + "' comes later in the pattern; a condition can only read " +
                 "earlier steps and its own");
    return nullptr;
  }
  uses_steps_ = true;
  auto step = static_cast<uint32_t>(index);
  if (in_aggregate) {
    if (rest.empty() || rest == "count" || rest.rfind("first.", 0) == 0 ||
        rest.rfind("last.", 0) == 0) {
      Error(n, "aggregates take steps.<step>.<field>");
      return nullptr;
    }
    return std::make_unique<StepAggregateExpr>(op, step, scope_.fields->Intern(rest));
  }
  if (rest == "count") return std::make_unique<StepCountExpr>(step);
  bool first = rest.rfind("first.", 0) == 0, last = rest.rfind("last.", 0) == 0;
  if (first || last) {
    std::string field = rest.substr(first ? 6 : 5);
    return std::make_unique<StepFieldExpr>(step, last, scope_.fields->Intern(field));
  }
  Error(n, "expected steps." + name + ".first.<field>, steps." + name + ".last.<field> or steps." +
               name + ".count; for every event of the step use sum/avg/min/max(steps." + name +
               ".<field>)");
  return nullptr;
}

ExprPtr ExprCompiler::BuildIn(const Node& n) {
  ExprPtr subject = Build(*n.children[0]);
  if (!subject) return nullptr;
  const Node& list = *n.children[1];
  auto set = std::make_shared<ValueSet>();
  if (list.kind == NodeKind::kList) {
    for (const auto& item : list.children) {
      ExprPtr e = Build(*item);
      if (!e) return nullptr;
      const Value* c = e->constant();
      if (!c) {
        Error(*item, "list items must be literals");
        return nullptr;
      }
      set->Add(*c);  // strings are copied into the set
    }
  } else {
    const ListDef* def = nullptr;
    if (scope_.lists) {
      auto it = scope_.lists->find(list.text);
      if (it != scope_.lists->end()) def = &it->second;
    }
    if (!def) {
      std::string msg = "no list named '" + list.text + "'";
      if (scope_.lists) {
        std::vector<std::string> names;
        for (const auto& [k, v] : *scope_.lists) names.push_back(k);
        std::string hint = SuggestClosest(list.text, names);
        if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      }
      Error(list, msg);
      return nullptr;
    }
    for (const LiteralValue& v : def->items) set->Add(v.view());
  }
  return std::make_unique<InExpr>(std::move(subject), std::move(set), n.flag);
}

ExprPtr ExprCompiler::BuildStringOp(const Node& n) {
  ExprPtr subject = Build(*n.children[0]);
  if (!subject) return nullptr;
  if (subject->type() != ExprType::kUnknown && subject->type() != ExprType::kString) {
    Error(n, "'" + n.text + "' needs a string on its left, found " + TypeName(subject->type()));
    return nullptr;
  }
  const Node& rhs = *n.children[1];
  std::vector<ExprPtr> needles;
  std::vector<const Node*> needle_nodes;
  auto add = [&](const Node& item) -> bool {
    ExprPtr e = Build(item);
    if (!e) return false;
    if (e->type() != ExprType::kUnknown && e->type() != ExprType::kString) {
      Error(item, "'" + n.text + "' needs a string, found " + TypeName(e->type()));
      return false;
    }
    needles.push_back(std::move(e));
    needle_nodes.push_back(&item);
    return true;
  };
  if (rhs.kind == NodeKind::kList) {
    // `x contains ["a", "b"]`: any of them (Sigma's default for value lists).
    for (const auto& item : rhs.children) {
      if (!add(*item)) return nullptr;
    }
  } else if (!add(rhs)) {
    return nullptr;
  }
  StringOp op = n.text == "contains"     ? StringOp::kContains
                : n.text == "startswith" ? StringOp::kStartsWith
                                         : StringOp::kEndsWith;
  const auto* field = dynamic_cast<const FieldExpr*>(subject.get());
  bool literal_needles = !needles.empty();
  for (const ExprPtr& e : needles) literal_needles &= e->constant() != nullptr;
  if (share_predicates_ && field && literal_needles) {
    // One shared predicate per needle; the expression is true if any of them matched.
    std::vector<uint32_t> bits;
    const std::string op_text = (n.flag ? "i" : "") + n.text;
    for (size_t i = 0; i < needles.size(); ++i) {
      std::string_view needle = needles[i]->constant()->s;
      std::string what = "'" + op_text + " \"" + std::string(needle) + "\"'";
      bits.push_back(AddShared(*needle_nodes[i],
                               LiteralPredicate(field->id(), op, n.flag, needle), what));
    }
    return std::make_unique<PredicateBitsExpr>(std::move(bits));
  }
  return std::make_unique<StringOpExpr>(op, n.flag, std::move(subject), std::move(needles));
}

uint32_t ExprCompiler::AddShared(const Node& at, const SharedPredicate& p,
                                 const std::string& what) {
  SourcePos pos = sources_.empty() ? SourcePos{} : sources_.back()->At(at.offset);
  std::string suffix = macro_stack_.empty() ? "" : " (in macro " + macro_stack_.back() + ")";
  return scope_.predicates->Add(p, pos, what, suffix);
}

ExprPtr ExprCompiler::BuildMatches(const Node& n) {
  ExprPtr subject = Build(*n.children[0]);
  if (!subject) return nullptr;
  if (subject->type() != ExprType::kUnknown && subject->type() != ExprType::kString) {
    Error(n, std::string("'matches' needs a string on its left, found ") +
                 TypeName(subject->type()));
    return nullptr;
  }
  const Node& re = *n.children[1];
  const std::string what = "regex /" + re.text + "/";
  if (const auto* field = dynamic_cast<const FieldExpr*>(subject.get());
      share_predicates_ && field) {
    SharedPredicate p = RegexPredicate(field->id(), re.text, re.regex_flags);
    std::string reason = scope_.predicates->Check(p);
    if (!reason.empty()) {
      Error(re, what + " does not compile: " + reason);
      return nullptr;
    }
    return std::make_unique<PredicateBitsExpr>(std::vector<uint32_t>{AddShared(re, p, what)});
  }
  HsPattern p;
  p.expression = re.text;
  p.flags = RegexFlags(re.regex_flags);
  auto db = HsDatabase::Compile({p}, nullptr);
  if (!db.ok()) {
    Error(re, what + " does not compile: " + db.status().message());
    return nullptr;
  }
  return std::make_unique<RegexExpr>(std::move(subject),
                                     std::shared_ptr<const HsDatabase>(std::move(db).value()));
}

ExprPtr ExprCompiler::BuildCall(const Node& n) {
  const std::string& f = n.text;
  auto arity = [&](size_t want) {
    if (n.children.size() == want) return true;
    Error(n, f + "() takes " + std::to_string(want) + " argument" + (want == 1 ? "" : "s") +
                 ", got " + std::to_string(n.children.size()));
    return false;
  };
  if (f == "exists") {
    if (!arity(1)) return nullptr;
    const Node& arg = *n.children[0];
    if (arg.kind != NodeKind::kPath && arg.kind != NodeKind::kField) {
      Error(arg, "exists() takes a field");
      return nullptr;
    }
    ExprPtr e = Build(arg);
    if (!e) return nullptr;
    return std::make_unique<ExistsExpr>(std::move(e));
  }
  if (f == "lower" || f == "upper" || f == "len") {
    if (!arity(1)) return nullptr;
    ExprPtr e = Build(*n.children[0]);
    if (!e) return nullptr;
    if (e->type() != ExprType::kUnknown && e->type() != ExprType::kString) {
      Error(n, f + "() needs a string, found " + TypeName(e->type()));
      return nullptr;
    }
    if (f == "len") return std::make_unique<LenExpr>(std::move(e));
    uses_scratch_ = true;
    return std::make_unique<CaseExpr>(f == "upper", std::move(e));
  }
  if (f == "cidr_match") {
    if (n.children.size() < 2) {
      Error(n, "cidr_match() takes an address and at least one network, e.g. "
               "cidr_match(source.ip, \"10.0.0.0/8\")");
      return nullptr;
    }
    ExprPtr ip = Build(*n.children[0]);
    if (!ip) return nullptr;
    std::vector<Cidr> nets;
    auto add_net = [&](const Node& at, std::string_view text) {
      Cidr c;
      if (!ParseCidr(text, &c)) {
        Error(at, "'" + std::string(text) + "' is not an IPv4 or IPv6 network");
        return false;
      }
      nets.push_back(c);
      return true;
    };
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& arg = *n.children[i];
      if (arg.kind == NodeKind::kString) {
        if (!add_net(arg, arg.text)) return nullptr;
      } else if (arg.kind == NodeKind::kPath && scope_.lists && scope_.lists->count(arg.text)) {
        for (const LiteralValue& v : scope_.lists->at(arg.text).items) {
          if (!add_net(arg, v.s)) return nullptr;
        }
      } else {
        Error(arg, "cidr_match() networks must be quoted literals or a list name");
        return nullptr;
      }
    }
    return std::make_unique<CidrMatchExpr>(std::move(ip), std::move(nets));
  }
  if (f == "sum" || f == "avg" || f == "min" || f == "max") {
    if (!arity(1)) return nullptr;
    const Node& arg = *n.children[0];
    if (arg.kind != NodeKind::kPath || arg.text.rfind("steps.", 0) != 0) {
      Error(arg, f + "() takes steps.<step>.<field>");
      return nullptr;
    }
    auto op = f == "sum"   ? StepAggregateExpr::Op::kSum
              : f == "avg" ? StepAggregateExpr::Op::kAvg
              : f == "min" ? StepAggregateExpr::Op::kMin
                           : StepAggregateExpr::Op::kMax;
    return BuildStepRef(arg, arg.text, true, op);
  }
  std::string msg = "unknown function '" + f + "'";
  std::string hint = SuggestClosest(f, FunctionNames());
  if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
  Error(n, msg);
  return nullptr;
}

namespace {

void ExpandForCanonical(Node* n, const CompileScope& scope, int depth) {
  if (depth > 64) return;  // a macro cycle; compiling reports it
  if (n->kind == NodeKind::kPath && scope.macros) {
    auto it = scope.macros->find(n->text);
    if (it != scope.macros->end() && it->second.ast) {
      std::unique_ptr<Node> copy = it->second.ast->Clone();
      ExpandForCanonical(copy.get(), scope, depth + 1);
      *n = std::move(*copy);
      return;
    }
  }
  if (n->kind == NodeKind::kIn && n->children.size() == 2 &&
      n->children[1]->kind == NodeKind::kPath && scope.lists) {
    auto it = scope.lists->find(n->children[1]->text);
    if (it != scope.lists->end()) {
      auto list = std::make_unique<Node>(NodeKind::kList, n->children[1]->offset);
      for (const LiteralValue& v : it->second.items) {
        auto item = std::make_unique<Node>(NodeKind::kString, 0);
        cep::AppendJson(v.view(), &item->text);  // typed, so 1 and "1" differ
        list->children.push_back(std::move(item));
      }
      n->children[1] = std::move(list);
    }
  }
  for (auto& c : n->children) ExpandForCanonical(c.get(), scope, depth);
}

}  // namespace

std::string CanonicalText(const std::string& text, const CompileScope& scope) {
  ParseError err;
  auto ast = ParseExpression(text, &err);
  if (!ast) return std::string();
  ExpandForCanonical(ast.get(), scope, 0);
  return DebugString(*ast);
}

}  // namespace vigil::rules
