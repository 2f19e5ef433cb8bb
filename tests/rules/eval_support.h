// Test support for the rules module: compiles expressions the way the loader does and
// builds real events to evaluate them against.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "expr_compiler.h"
#include "predicate_set.h"
#include "vigil/cep/condition.h"
#include "vigil/cep/event.h"
#include "vigil/cep/value.h"

namespace vigil::rules::testing {

// A field value for MakeEvent; strings are copied into the event.
inline cep::Value S(std::string_view s) {
  return cep::Value::String(s);
}
inline cep::Value I(int64_t i) {
  return cep::Value::Int(i);
}
inline cep::Value D(double d) {
  return cep::Value::Double(d);
}
inline cep::Value B(bool b) {
  return cep::Value::Bool(b);
}
inline cep::Value N() {
  return cep::Value::Null();
}

using Fields = std::vector<std::pair<std::string, cep::Value>>;

// Named lists, macros and step names for compiling, plus the field registry.
class ExprFixture {
 public:
  ExprFixture() {
    scope_.macros = &macros;
    scope_.lists = &lists;
    scope_.fields = &fields;
  }
  ExprFixture(const ExprFixture&) = delete;
  ExprFixture& operator=(const ExprFixture&) = delete;

  void AddList(const std::string& name, std::vector<cep::Value> items) {
    ListDef def;
    for (const cep::Value& v : items) {
      LiteralValue lit;
      lit.kind = v.kind;
      lit.b = v.b;
      lit.i = v.i;
      lit.d = v.d;
      lit.s = std::string(v.s);
      def.items.push_back(std::move(lit));
    }
    lists[name] = std::move(def);
  }

  // `at`: where the macro's text starts in its (pretend) file.
  void AddMacro(const std::string& name, const std::string& text, SourcePos at = {},
                bool quoted = false) {
    MacroDef def;
    def.source.start = std::move(at);
    def.source.quoted = quoted;
    def.source.text = text;
    ParseError err;
    def.ast = ParseExpression(text, &err);
    macros[name] = std::move(def);
  }

  // Pattern scope: steps.* may read steps[0..visible_through].
  void SetSteps(std::vector<std::string> names, int visible_through) {
    steps = std::move(names);
    scope_.steps = &steps;
    scope_.visible_through = visible_through;
  }

  // Compiles a condition with every predicate evaluated directly; null (with diags
  // filled) when it does not compile.
  std::shared_ptr<const cep::Condition> Condition(const std::string& text) {
    ExprSource src = Source(text);
    return ExprCompiler(scope_, &diags).CompileCondition(src);
  }

  // A condition compiled as the loader compiles it: string predicates on plain fields go
  // to a shared Hyperscan scan, and events must be scanned before they are evaluated.
  struct Shared {
    std::shared_ptr<const cep::Condition> condition;  // null: did not compile
    std::unique_ptr<PredicateScanner> scanner;
  };
  Shared SharedCondition(const std::string& text) {
    ExprSource src = Source(text);
    PredicateSetBuilder builder;
    CompileScope scope = scope_;
    scope.predicates = &builder;
    Shared out;
    out.condition = ExprCompiler(scope, &diags).CompileCondition(src);
    std::vector<PredicateSetBuilder::Rejection> rejected;
    out.scanner = builder.Build([](uint32_t) { return true; }, &rejected);
    for (auto& r : rejected) diags.push_back(std::move(r.diag));
    if (!rejected.empty()) out.condition = nullptr;
    return out;
  }

  ExprPtr Value(const std::string& text) {
    ExprSource src = Source(text);
    return ExprCompiler(scope_, &diags).CompileValue(src, nullptr);
  }

  // Where the next expressions start in their (pretend) file; line 0: no position.
  void SetStart(SourcePos at, bool quoted) {
    start_ = std::move(at);
    quoted_ = quoted;
  }

  // An event with `values` set; every field interned so far is sized in.
  std::shared_ptr<cep::Event> MakeEvent(const Fields& values) {
    for (const auto& [path, v] : values)
      fields.Intern(path);
    auto e = std::make_shared<cep::Event>();
    e->ResetFields(fields.size());
    for (const auto& [path, v] : values) {
      cep::Value copy = v;
      if (copy.kind == cep::ValueKind::kString || copy.kind == cep::ValueKind::kJson) {
        copy.s = e->CopyString(v.s);
      }
      e->SetField(*fields.Find(path), copy);
    }
    return e;
  }

  std::string DiagText() const {
    std::string out;
    for (const Diagnostic& d : diags)
      out += d.ToString() + "\n";
    return out;
  }

  cep::FieldRegistry fields;
  ListTable lists;
  MacroTable macros;
  std::vector<std::string> steps;
  Diagnostics diags;

 private:
  ExprSource Source(const std::string& text) const {
    ExprSource src;
    src.start = start_;
    src.quoted = quoted_;
    src.text = text;
    return src;
  }

  CompileScope scope_;
  SourcePos start_;
  bool quoted_ = false;
};

// The events each step of a partial match has taken, for iterative conditions.
class FakeSteps final : public cep::StepEvents {
 public:
  explicit FakeSteps(size_t steps) : by_step_(steps) {}
  void Add(uint32_t step, std::shared_ptr<const cep::Event> e) {
    by_step_[step].push_back(std::move(e));
  }
  size_t Count(uint32_t step) const override {
    return step < by_step_.size() ? by_step_[step].size() : 0;
  }
  const cep::Event& Get(uint32_t step, size_t i) const override { return *by_step_[step][i]; }

 private:
  std::vector<std::vector<std::shared_ptr<const cep::Event>>> by_step_;
};

}  // namespace vigil::rules::testing
