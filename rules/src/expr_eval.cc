#include "expr_eval.h"

#include "vigil/cep/json_array.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vigil::rules {

using cep::Value;
using cep::ValueKind;

ConstExpr::ConstExpr(ExprType t, Value v, std::string s)
    : Expr(t), storage_(std::move(s)), value_(v) {
  if (value_.kind == ValueKind::kString) value_.s = storage_;
}

ExprPtr ConstExpr::Null() { return ExprPtr(new ConstExpr(ExprType::kNull, Value::Null(), {})); }
ExprPtr ConstExpr::Bool(bool b) {
  return ExprPtr(new ConstExpr(ExprType::kBool, Value::Bool(b), {}));
}
ExprPtr ConstExpr::Number(double d, bool is_integer, int64_t i) {
  return ExprPtr(
      new ConstExpr(ExprType::kNumber, is_integer ? Value::Int(i) : Value::Double(d), {}));
}
ExprPtr ConstExpr::String(std::string s) {
  return ExprPtr(new ConstExpr(ExprType::kString, Value::String({}), std::move(s)));
}

Value StepFieldExpr::Eval(EvalState& st) const {
  const cep::StepEvents* steps = st.ctx.steps;
  if (!steps) return Value::Null();
  size_t n = steps->Count(step_);
  if (n == 0) return Value::Null();
  return steps->Get(step_, last_ ? n - 1 : 0).field(id_);
}

Value StepCountExpr::Eval(EvalState& st) const {
  const cep::StepEvents* steps = st.ctx.steps;
  return Value::Int(steps ? static_cast<int64_t>(steps->Count(step_)) : 0);
}

Value StepAggregateExpr::Eval(EvalState& st) const {
  const cep::StepEvents* steps = st.ctx.steps;
  size_t n = steps ? steps->Count(step_) : 0;
  double acc = 0;
  size_t counted = 0;
  bool all_int = true;
  int64_t int_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const Value& v = steps->Get(step_, i).field(id_);
    if (!v.is_number()) continue;
    double d = v.AsDouble();
    if (counted == 0) {
      acc = op_ == Op::kSum || op_ == Op::kAvg ? 0 : d;
    }
    switch (op_) {
      case Op::kSum:
      case Op::kAvg:
        acc += d;
        if (v.kind == ValueKind::kInt && all_int) {
          if (__builtin_add_overflow(int_sum, v.i, &int_sum)) all_int = false;
        } else {
          all_int = false;
        }
        break;
      case Op::kMin: acc = std::min(acc, d); break;
      case Op::kMax: acc = std::max(acc, d); break;
    }
    ++counted;
  }
  switch (op_) {
    case Op::kSum: return all_int ? Value::Int(int_sum) : Value::Double(acc);
    case Op::kAvg: return counted ? Value::Double(acc / static_cast<double>(counted)) : Value::Null();
    default:
      if (counted == 0) return Value::Null();
      if (acc == std::trunc(acc) && std::fabs(acc) < 9e15) {
        return Value::Int(static_cast<int64_t>(acc));
      }
      return Value::Double(acc);
  }
}

bool LogicExpr::Test(EvalState& st) const {
  if (is_and_) {
    for (const ExprPtr& t : terms_) {
      if (!t->Test(st)) return false;
    }
    return true;
  }
  for (const ExprPtr& t : terms_) {
    if (t->Test(st)) return true;
  }
  return false;
}

namespace {

bool SameTypeClass(const Value& a, const Value& b) {
  return (a.is_number() && b.is_number()) || (a.kind == b.kind && !a.is_null());
}

}  // namespace

bool CompareValues(CompareOp op, const Value& a, const Value& b) {
  // A missing value compares false with anything; the compiler turns `== null` and
  // `!= null` into presence tests.
  if (a.is_null() || b.is_null()) return false;
  // An array against a scalar: any element (ECS, Sigma and EQL semantics). `!=` holds
  // when some element has the scalar's type and none is equal to it.
  const bool a_array = cep::IsJsonArray(a), b_array = cep::IsJsonArray(b);
  if (a_array != b_array) {
    const Value& arr = a_array ? a : b;
    const Value& scalar = a_array ? b : a;
    if (op == CompareOp::kNe) {
      bool comparable = false;
      bool equal = cep::AnyArrayElement(arr.s, [&](const Value& e) {
        comparable = comparable || SameTypeClass(e, scalar);
        return CompareValues(CompareOp::kEq, e, scalar);
      });
      return comparable && !equal;
    }
    return cep::AnyArrayElement(arr.s, [&](const Value& e) {
      return a_array ? CompareValues(op, e, scalar) : CompareValues(op, scalar, e);
    });
  }
  int c;
  if (a.is_number() && b.is_number()) {
    if (a.kind == ValueKind::kInt && b.kind == ValueKind::kInt) {
      c = a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    } else {
      double x = a.AsDouble(), y = b.AsDouble();
      if (std::isnan(x) || std::isnan(y)) return op == CompareOp::kNe;
      c = x < y ? -1 : (x > y ? 1 : 0);
    }
  } else if ((a.kind == ValueKind::kString || a.kind == ValueKind::kJson) && a.kind == b.kind) {
    int r = a.s.compare(b.s);
    c = r < 0 ? -1 : (r > 0 ? 1 : 0);
  } else if (a.kind == ValueKind::kBool && b.kind == ValueKind::kBool) {
    if (op == CompareOp::kEq) return a.b == b.b;
    if (op == CompareOp::kNe) return a.b != b.b;
    return false;
  } else {
    return false;  // different types
  }
  switch (op) {
    case CompareOp::kEq: return c == 0;
    case CompareOp::kNe: return c != 0;
    case CompareOp::kLt: return c < 0;
    case CompareOp::kLe: return c <= 0;
    case CompareOp::kGt: return c > 0;
    case CompareOp::kGe: return c >= 0;
  }
  return false;
}

void ValueSet::Add(const Value& v) {
  ++count_;
  switch (v.kind) {
    case ValueKind::kNull: has_null_ = true; break;
    case ValueKind::kBool: (v.b ? has_true_ : has_false_) = true; break;
    case ValueKind::kInt:
    case ValueKind::kDouble: numbers_.push_back(v.AsDouble()); break;
    case ValueKind::kString:
    case ValueKind::kJson: strings_.emplace(v.s); break;
  }
}

bool ValueSet::Contains(const Value& v) const {
  switch (v.kind) {
    case ValueKind::kNull: return has_null_;
    case ValueKind::kBool: return v.b ? has_true_ : has_false_;
    case ValueKind::kInt:
    case ValueKind::kDouble: {
      double d = v.AsDouble();
      for (double n : numbers_) {
        if (n == d) return true;
      }
      return false;
    }
    case ValueKind::kString: {
      return strings_.find(v.s) != strings_.end();
    }
    case ValueKind::kJson: return false;
  }
  return false;
}

bool InExpr::Test(EvalState& st) const {
  Value v = subject_->Eval(st);
  if (cep::IsJsonArray(v)) {  // any element in the list; `not in`: none is
    bool any = cep::AnyArrayElement(v.s, [&](const Value& e) { return set_->Contains(e); });
    return any != negated_;
  }
  if (v.is_null() && !set_->Contains(v)) {
    return false;  // a missing field is in no list, and "not in" is a comparison too
  }
  return set_->Contains(v) != negated_;
}

namespace {

inline char FoldAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(a[i]) != FoldAscii(b[i])) return false;
  }
  return true;
}

size_t FindFold(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return 0;
  if (needle.size() > hay.size()) return std::string_view::npos;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (EqualFold(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

}  // namespace

bool StringOpExpr::Test(EvalState& st) const {
  Value s = subject_->Eval(st);
  if (cep::IsJsonArray(s)) {
    return cep::AnyArrayElement(s.s, [&](const Value& e) { return e.kind == ValueKind::kString && TestOne(e, st); });
  }
  if (s.kind != ValueKind::kString) return false;
  return TestOne(s, st);
}

bool StringOpExpr::TestOne(const Value& s, EvalState& st) const {
  for (const ExprPtr& n : needles_) {
    Value nv = n->Eval(st);
    if (nv.kind != ValueKind::kString) continue;
    std::string_view hay = s.s, needle = nv.s;
    bool hit = false;
    switch (op_) {
      case StringOp::kContains:
        hit = ignore_case_ ? FindFold(hay, needle) != std::string_view::npos
                           : hay.find(needle) != std::string_view::npos;
        break;
      case StringOp::kStartsWith:
        hit = hay.size() >= needle.size() &&
              (ignore_case_ ? EqualFold(hay.substr(0, needle.size()), needle)
                            : hay.substr(0, needle.size()) == needle);
        break;
      case StringOp::kEndsWith:
        hit = hay.size() >= needle.size() &&
              (ignore_case_ ? EqualFold(hay.substr(hay.size() - needle.size()), needle)
                            : hay.substr(hay.size() - needle.size()) == needle);
        break;
    }
    if (hit) return true;
  }
  return false;
}

Value CaseExpr::Eval(EvalState& st) const {
  Value v = e_->Eval(st);
  if (v.kind != ValueKind::kString) return Value::Null();
  bool change = false;
  for (char c : v.s) {
    if (upper_ ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) {
      change = true;
      break;
    }
  }
  if (!change) return v;
  std::string_view copy = st.scratch->Copy(v.s);
  char* p = const_cast<char*>(copy.data());  // the arena's own memory
  for (size_t i = 0; i < copy.size(); ++i) {
    char c = p[i];
    if (upper_ && c >= 'a' && c <= 'z') p[i] = static_cast<char>(c - 32);
    if (!upper_ && c >= 'A' && c <= 'Z') p[i] = static_cast<char>(c + 32);
  }
  return Value::String(copy);
}

Value LenExpr::Eval(EvalState& st) const {
  Value v = e_->Eval(st);
  if (cep::IsJsonArray(v)) return Value::Int(static_cast<int64_t>(cep::ArrayLength(v.s)));
  if (v.kind != ValueKind::kString) return Value::Null();
  int64_t n = 0;
  for (unsigned char c : v.s) {
    if ((c & 0xC0) != 0x80) ++n;  // count every byte that is not a continuation byte
  }
  return Value::Int(n);
}

bool ParseIp(std::string_view text, uint8_t out[16], bool* v6) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  // Strip an IPv6 zone ("fe80::1%eth0").
  if (char* pct = std::strchr(buf, '%')) *pct = 0;
  uint8_t v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, v4, 4);
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

bool ParseCidr(std::string_view text, Cidr* out) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (!ParseIp(addr, out->addr, &out->v6)) return false;
  int max = out->v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    out->prefix = max;
  } else {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    int n = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    if (n > max) return false;
    out->prefix = n;
  }
  if (!out->v6) out->prefix += 96;  // IPv4 lives in the last 32 bits of the mapped form
  return true;
}

bool CidrMatchExpr::Test(EvalState& st) const {
  Value v = ip_->Eval(st);
  if (cep::IsJsonArray(v)) {  // related.ip and friends: any element
    return cep::AnyArrayElement(v.s, [&](const Value& e) { return e.kind == ValueKind::kString && InAnyNet(e.s); });
  }
  if (v.kind != ValueKind::kString) return false;
  return InAnyNet(v.s);
}

bool CidrMatchExpr::InAnyNet(std::string_view ip) const {
  uint8_t addr[16];
  bool v6;
  if (!ParseIp(ip, addr, &v6)) return false;
  for (const Cidr& net : nets_) {
    int bits = net.prefix;
    int i = 0;
    for (; bits >= 8; bits -= 8, ++i) {
      if (addr[i] != net.addr[i]) goto next;
    }
    if (bits > 0) {
      uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
      if ((addr[i] & mask) != (net.addr[i] & mask)) goto next;
    }
    return true;
  next:;
  }
  return false;
}

Value ArithExpr::Eval(EvalState& st) const {
  Value a = l_->Eval(st);
  if (!a.is_number()) return Value::Null();
  if (op_ == 'n') {
    if (a.kind == ValueKind::kInt && a.i != INT64_MIN) return Value::Int(-a.i);
    return Value::Double(-a.AsDouble());
  }
  Value b = r_->Eval(st);
  if (!b.is_number()) return Value::Null();
  if (a.kind == ValueKind::kInt && b.kind == ValueKind::kInt && op_ != '/') {
    int64_t r;
    bool overflow = op_ == '+'   ? __builtin_add_overflow(a.i, b.i, &r)
                    : op_ == '-' ? __builtin_sub_overflow(a.i, b.i, &r)
                                 : __builtin_mul_overflow(a.i, b.i, &r);
    if (!overflow) return Value::Int(r);
  }
  double x = a.AsDouble(), y = b.AsDouble();
  switch (op_) {
    case '+': return Value::Double(x + y);
    case '-': return Value::Double(x - y);
    case '*': return Value::Double(x * y);
    case '/': return y == 0 ? Value::Null() : Value::Double(x / y);
  }
  return Value::Null();
}

namespace {
cep::StringArena& ThreadScratch() {
  thread_local cep::StringArena arena;
  return arena;
}
}  // namespace

CompiledCondition::CompiledCondition(ExprPtr root, bool uses_steps, bool uses_scratch)
    : root_(std::move(root)), uses_steps_(uses_steps), uses_scratch_(uses_scratch) {
  if (const auto* p = dynamic_cast<const PredicateBitsExpr*>(root_.get())) {
    if (auto bit = p->single_bit()) single_bit_ = *bit;
  }
}

bool CompiledCondition::Eval(const cep::EvalContext& ctx) const {
  if (single_bit_ >= 0) return ctx.event.predicate_bit(static_cast<uint32_t>(single_bit_));
  if (!uses_scratch_) {
    // Most conditions (bits, comparisons, lists) compute no strings: skip the per-thread
    // arena, whose lookup and reset would cost as much as the rest of such a condition.
    EvalState st{ctx, nullptr};
    return root_->Test(st);
  }
  cep::StringArena& scratch = ThreadScratch();
  EvalState st{ctx, &scratch};
  bool r = root_->Test(st);
  scratch.Clear();
  return r;
}

Value EvaluateValue(const Expr& e, const cep::EvalContext& ctx, cep::StringArena* scratch) {
  EvalState st{ctx, scratch};
  return e.Eval(st);
}

}  // namespace vigil::rules

#include "hyperscan.h"

namespace vigil::rules {

bool RegexExpr::Test(EvalState& st) const {
  Value v = subject_->Eval(st);
  if (cep::IsJsonArray(v)) {
    return cep::AnyArrayElement(v.s, [&](const Value& e) { return e.kind == ValueKind::kString && db_->Matches(e.s); });
  }
  if (v.kind != ValueKind::kString) return false;
  return db_->Matches(v.s);
}

}  // namespace vigil::rules

namespace vigil::rules {

cep::ConditionIndex LogicExpr::Index() const {
  if (terms_.empty()) return {};
  if (is_and_) {
    // Any term of a conjunction is necessary; prefer an equality (cheapest to look up).
    cep::ConditionIndex best;
    for (const ExprPtr& t : terms_) {
      cep::ConditionIndex i = t->Index();
      if (i.kind == cep::ConditionIndex::Kind::kFieldEquals) return i;
      if (best.kind == cep::ConditionIndex::Kind::kNone) best = std::move(i);
    }
    return best;
  }
  cep::ConditionIndex u = terms_[0]->Index();
  for (size_t i = 1; i < terms_.size() && u.kind != cep::ConditionIndex::Kind::kNone; ++i) {
    u = cep::ConditionIndex::Union(u, terms_[i]->Index());
  }
  return u;
}

PredicateBitsExpr::PredicateBitsExpr(std::vector<uint32_t> bits)
    : Expr(ExprType::kBool), more_(std::move(bits)) {
  std::sort(more_.begin(), more_.end());
  more_.erase(std::unique(more_.begin(), more_.end()), more_.end());
  first_ = more_.front();
  more_.erase(more_.begin());
}

cep::ConditionIndex PredicateBitsExpr::Index() const {
  cep::ConditionIndex i;
  if (more_.empty()) {
    i.kind = cep::ConditionIndex::Kind::kPredicateBit;
    i.bit = first_;
  } else {
    i.kind = cep::ConditionIndex::Kind::kAnyPredicateBit;
    i.bits.push_back(first_);
    i.bits.insert(i.bits.end(), more_.begin(), more_.end());
  }
  return i;
}

cep::ConditionIndex CompareExpr::Index() const {
  if (op_ != CompareOp::kEq) return {};
  const Expr* field = l_.get();
  const Expr* lit = r_.get();
  if (!dynamic_cast<const FieldExpr*>(field)) std::swap(field, lit);
  const auto* f = dynamic_cast<const FieldExpr*>(field);
  const cep::Value* c = lit->constant();
  if (!f || !c || c->kind != ValueKind::kString) return {};
  cep::ConditionIndex i;
  i.kind = cep::ConditionIndex::Kind::kFieldEquals;
  i.field = f->id();
  i.values.emplace_back(c->s);
  return i;
}

cep::ConditionIndex InExpr::Index() const {
  const auto* f = dynamic_cast<const FieldExpr*>(subject_.get());
  if (negated_ || !f || !set_->only_strings() || set_->size() == 0) return {};
  cep::ConditionIndex i;
  i.kind = cep::ConditionIndex::Kind::kFieldEquals;
  i.field = f->id();
  for (const std::string& s : set_->strings()) i.values.push_back(s);
  std::sort(i.values.begin(), i.values.end());
  return i;
}

}  // namespace vigil::rules
