// Internal: compiled expressions. A tree of nodes built once at load time; evaluating it
// allocates nothing per event (computed strings go to a reused per-thread arena).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_set>
#include <vector>

#include "vigil/cep/condition.h"
#include "vigil/cep/event.h"
#include "predicate_set.h"

namespace vigil::rules {

// Static type of an expression, known at load time where possible.
enum class ExprType { kUnknown, kNull, kBool, kNumber, kString, kList };

struct EvalState {
  const cep::EvalContext& ctx;
  // For strings computed during this evaluation; null when the expression computes none.
  cep::StringArena* scratch;
};

class Expr {
 public:
  explicit Expr(ExprType type) : type_(type) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  virtual cep::Value Eval(EvalState& st) const = 0;
  // As a condition: true only for boolean true.
  virtual bool Test(EvalState& st) const {
    cep::Value v = Eval(st);
    return v.kind == cep::ValueKind::kBool && v.b;
  }
  ExprType type() const { return type_; }
  // Constant expressions (literals) can be folded and checked at load time.
  virtual const cep::Value* constant() const { return nullptr; }
  // A necessary condition for Test() to be true, for the engine's rule index.
  virtual cep::ConditionIndex Index() const { return {}; }

 private:
  ExprType type_;
};

using ExprPtr = std::unique_ptr<Expr>;

// A literal; owns its string.
class ConstExpr final : public Expr {
 public:
  static ExprPtr Null();
  static ExprPtr Bool(bool b);
  static ExprPtr Number(double d, bool is_integer, int64_t i);
  static ExprPtr String(std::string s);
  cep::Value Eval(EvalState&) const override { return value_; }
  const cep::Value* constant() const override { return &value_; }

 private:
  ConstExpr(ExprType t, cep::Value v, std::string s);
  std::string storage_;
  cep::Value value_;
};

class FieldExpr final : public Expr {
 public:
  explicit FieldExpr(cep::FieldId id) : Expr(ExprType::kUnknown), id_(id) {}
  cep::Value Eval(EvalState& st) const override { return st.ctx.event.field(id_); }
  cep::FieldId id() const { return id_; }

 private:
  cep::FieldId id_;
};

// steps.<name>.first.<field> / .last.<field>
class StepFieldExpr final : public Expr {
 public:
  StepFieldExpr(uint32_t step, bool last, cep::FieldId id)
      : Expr(ExprType::kUnknown), step_(step), last_(last), id_(id) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  uint32_t step_;
  bool last_;
  cep::FieldId id_;
};

// steps.<name>.count
class StepCountExpr final : public Expr {
 public:
  explicit StepCountExpr(uint32_t step) : Expr(ExprType::kNumber), step_(step) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  uint32_t step_;
};

// sum/avg/min/max(steps.<name>.<field>) over the step's events with a numeric field.
class StepAggregateExpr final : public Expr {
 public:
  enum class Op { kSum, kAvg, kMin, kMax };
  StepAggregateExpr(Op op, uint32_t step, cep::FieldId id)
      : Expr(ExprType::kNumber), op_(op), step_(step), id_(id) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  Op op_;
  uint32_t step_;
  cep::FieldId id_;
};

class NotExpr final : public Expr {
 public:
  explicit NotExpr(ExprPtr e) : Expr(ExprType::kBool), e_(std::move(e)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override { return !e_->Test(st); }

 private:
  ExprPtr e_;
};

class LogicExpr final : public Expr {
 public:
  LogicExpr(bool is_and, std::vector<ExprPtr> terms)
      : Expr(ExprType::kBool), is_and_(is_and), terms_(std::move(terms)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override;
  cep::ConditionIndex Index() const override;

 private:
  bool is_and_;
  std::vector<ExprPtr> terms_;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// The spec's typing: strings compare as strings, numbers as numbers; a comparison with a
// value of another type or with null is false, `!=` included. (`x == null` and
// `x != null` never get here: they compile to presence tests.)
bool CompareValues(CompareOp op, const cep::Value& a, const cep::Value& b);

class CompareExpr final : public Expr {
 public:
  CompareExpr(CompareOp op, ExprPtr l, ExprPtr r)
      : Expr(ExprType::kBool), op_(op), l_(std::move(l)), r_(std::move(r)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override {
    return CompareValues(op_, l_->Eval(st), r_->Eval(st));
  }
  cep::ConditionIndex Index() const override;

 private:
  CompareOp op_;
  ExprPtr l_, r_;
};

struct TransparentStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A list of literal values, for `in`.
class ValueSet {
 public:
  void Add(const cep::Value& v);
  bool Contains(const cep::Value& v) const;
  size_t size() const { return count_; }
  // True when every member is a string; then strings() lists them all.
  bool only_strings() const { return numbers_.empty() && !has_true_ && !has_false_ && !has_null_; }
  const auto& strings() const { return strings_; }

 private:
  std::unordered_set<std::string, TransparentStringHash, std::equal_to<>> strings_;
  std::vector<double> numbers_;
  bool has_true_ = false, has_false_ = false, has_null_ = false;
  size_t count_ = 0;
};

class InExpr final : public Expr {
 public:
  InExpr(ExprPtr subject, std::shared_ptr<const ValueSet> set, bool negated)
      : Expr(ExprType::kBool), subject_(std::move(subject)), set_(std::move(set)),
        negated_(negated) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override;
  cep::ConditionIndex Index() const override;

 private:
  ExprPtr subject_;
  std::shared_ptr<const ValueSet> set_;
  bool negated_;
};

// Evaluates contains/startswith/endswith directly. Used where a predicate cannot come from
// the shared Hyperscan scan (computed subjects or needles, templates).
class StringOpExpr final : public Expr {
 public:
  StringOpExpr(StringOp op, bool ignore_case, ExprPtr subject, std::vector<ExprPtr> needles)
      : Expr(ExprType::kBool), op_(op), ignore_case_(ignore_case), subject_(std::move(subject)),
        needles_(std::move(needles)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override;

 private:
  bool TestOne(const cep::Value& subject, EvalState& st) const;
  StringOp op_;
  bool ignore_case_;
  ExprPtr subject_;
  std::vector<ExprPtr> needles_;  // any of them
};

// Reads the event's shared predicate results (PredicateScanner): true if any of its bits is
// set. A string predicate on a plain field, or several ORed (`x contains ["a", "b"]`).
class PredicateBitsExpr final : public Expr {
 public:
  // REQUIRES: bits is not empty.
  explicit PredicateBitsExpr(std::vector<uint32_t> bits);
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override {
    if (st.ctx.event.predicate_bit(first_)) return true;
    for (uint32_t b : more_) {
      if (st.ctx.event.predicate_bit(b)) return true;
    }
    return false;
  }
  cep::ConditionIndex Index() const override;
  // The bit, when there is only one.
  std::optional<uint32_t> single_bit() const {
    return more_.empty() ? std::optional<uint32_t>(first_) : std::nullopt;
  }

 private:
  uint32_t first_;              // the lowest bit, inline: most predicates have just one
  std::vector<uint32_t> more_;  // the others, ascending
};

class ExistsExpr final : public Expr {
 public:
  explicit ExistsExpr(ExprPtr e) : Expr(ExprType::kBool), e_(std::move(e)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override { return !e_->Eval(st).is_null(); }

 private:
  ExprPtr e_;
};

class CaseExpr final : public Expr {
 public:
  CaseExpr(bool upper, ExprPtr e) : Expr(ExprType::kString), upper_(upper), e_(std::move(e)) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  bool upper_;
  ExprPtr e_;
};

// len(s): the number of characters (UTF-8 code points) of a string, the number of elements
// of an array; null otherwise.
class LenExpr final : public Expr {
 public:
  explicit LenExpr(ExprPtr e) : Expr(ExprType::kNumber), e_(std::move(e)) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  ExprPtr e_;
};

// An IPv4 or IPv6 network.
struct Cidr {
  bool v6 = false;
  uint8_t addr[16] = {};
  int prefix = 0;
};
// Parses "10.0.0.0/8", "fe80::/10" or a single address. Returns false if it is neither.
bool ParseCidr(std::string_view text, Cidr* out);
// Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d). False if not one.
bool ParseIp(std::string_view text, uint8_t out[16], bool* v6);

class CidrMatchExpr final : public Expr {
 public:
  CidrMatchExpr(ExprPtr ip, std::vector<Cidr> nets)
      : Expr(ExprType::kBool), ip_(std::move(ip)), nets_(std::move(nets)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override;

 private:
  bool InAnyNet(std::string_view ip) const;
  ExprPtr ip_;
  std::vector<Cidr> nets_;
};

class ArithExpr final : public Expr {
 public:
  ArithExpr(char op, ExprPtr l, ExprPtr r)
      : Expr(ExprType::kNumber), op_(op), l_(std::move(l)), r_(std::move(r)) {}
  cep::Value Eval(EvalState& st) const override;

 private:
  char op_;  // + - * / and 'n' for negation (r_ unused)
  ExprPtr l_, r_;
};

// Adapts a compiled boolean expression to the engine's Condition.
class CompiledCondition final : public cep::Condition {
 public:
  // `uses_scratch`: some node computes strings (lower, upper) and needs a scratch arena.
  CompiledCondition(ExprPtr root, bool uses_steps, bool uses_scratch);
  bool Eval(const cep::EvalContext& ctx) const override;
  bool UsesSteps() const override { return uses_steps_; }
  cep::ConditionIndex Index() const override { return root_->Index(); }

 private:
  ExprPtr root_;
  bool uses_steps_;
  bool uses_scratch_;
  // The whole condition is one shared predicate: Eval reads its bit without walking the
  // tree (a ruleset of keyword rules is mostly such conditions).
  int64_t single_bit_ = -1;
};

// Evaluates `e` once against `ctx` with a private scratch arena; strings in the result
// point into `scratch`. For templates.
cep::Value EvaluateValue(const Expr& e, const cep::EvalContext& ctx, cep::StringArena* scratch);

}  // namespace vigil::rules

namespace vigil::rules {

class HsDatabase;

// `s matches /re/` evaluated directly with a one-pattern Hyperscan database, for subjects
// the shared scan cannot see (computed values, step references, templates).
class RegexExpr final : public Expr {
 public:
  RegexExpr(ExprPtr subject, std::shared_ptr<const HsDatabase> db)
      : Expr(ExprType::kBool), subject_(std::move(subject)), db_(std::move(db)) {}
  cep::Value Eval(EvalState& st) const override { return cep::Value::Bool(Test(st)); }
  bool Test(EvalState& st) const override;

 private:
  ExprPtr subject_;
  std::shared_ptr<const HsDatabase> db_;
};

}  // namespace vigil::rules
