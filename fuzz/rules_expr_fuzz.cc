// libFuzzer target: any bytes as one rule expression, through the parser and the compiler
// (rules/src/expr_parser, expr_compiler) in the scopes rules use them: a pattern step's
// condition and an output template, with macros (one of them a cycle, one that does not
// parse), named lists, steps and key fields defined. Whatever compiles is evaluated over
// events holding awkward values. Nothing may crash, hang or trip a sanitizer, and an
// expression that fails must say why.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "expr_ast.h"
#include "expr_compiler.h"
#include "expr_eval.h"
#include "fuzz_events.h"
#include "vigil/cep/event.h"

namespace {

using vigil::rules::CompileScope;
using vigil::rules::Diagnostics;
using vigil::rules::ExprCompiler;
using vigil::rules::ExprSource;

[[noreturn]] void Broken(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "invariant broken: %s\n  %s\n", what.c_str(), detail.c_str());
  std::abort();
}

struct Definitions {
  vigil::rules::MacroTable macros;
  vigil::rules::ListTable lists;
  std::vector<std::string> steps = {"fail", "success", "later"};
  std::vector<std::string> keys = {"source.ip", "user.name"};

  Definitions() {
    auto macro = [&](const std::string& name, const std::string& text, int line) {
      vigil::rules::MacroDef def;
      def.source.start = {"macros.yaml", line, 10};
      def.source.text = text;
      vigil::rules::ParseError err;
      def.ast = vigil::rules::ParseExpression(text, &err);
      macros[name] = std::move(def);
    };
    macro("login", "event.action == \"ssh_login\"", 1);
    macro("failed", "login and event.outcome == 'failure'", 2);
    macro("loop_a", "loop_b or x", 3);
    macro("loop_b", "not loop_a", 4);
    macro("broken", "x ==", 5);
    macro("numeric", "len(user.name) * 2 + steps.fail.count", 6);
    auto list = [&](const std::string& name, std::vector<vigil::cep::Value> items) {
      vigil::rules::ListDef def;
      def.pos = {"lists.yaml", 1, 3};
      for (const vigil::cep::Value& v : items) {
        vigil::rules::LiteralValue lit;
        lit.kind = v.kind;
        lit.b = v.b;
        lit.i = v.i;
        lit.d = v.d;
        lit.s = std::string(v.s);
        def.items.push_back(std::move(lit));
      }
      lists[name] = std::move(def);
    };
    list("admins", {vigil::cep::Value::String("root"), vigil::cep::Value::String("admin")});
    list("mixed", {vigil::cep::Value::Int(1), vigil::cep::Value::Double(2.5),
                   vigil::cep::Value::Bool(true), vigil::cep::Value::Null()});
    list("nets", {vigil::cep::Value::String("10.0.0.0/8"), vigil::cep::Value::String("fe80::/10")});
  }
};

const Definitions& Defs() {
  static const Definitions* d = new Definitions();
  return *d;
}

void CheckFailure(const Diagnostics& diags, const std::string& where) {
  if (diags.empty()) Broken("a compile failure without a diagnostic", where);
  for (const vigil::rules::Diagnostic& d : diags) {
    if (d.message.empty()) Broken("a diagnostic without a message", d.ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const Definitions& defs = Defs();

  // The syntax tree: its canonical text, and a clone that prints the same.
  vigil::rules::ParseError perr;
  auto ast = vigil::rules::ParseExpression(text, &perr);
  if (ast) {
    const std::string printed = vigil::rules::DebugString(*ast);
    if (vigil::rules::DebugString(*ast->Clone()) != printed) Broken("a clone prints differently", printed);
  } else {
    if (perr.message.empty()) Broken("a parse error without a message", text);
    if (perr.offset > text.size()) Broken("a parse error past the end of the text", perr.message);
  }

  vigil::cep::FieldRegistry fields;
  CompileScope scope;
  scope.macros = &defs.macros;
  scope.lists = &defs.lists;
  scope.fields = &fields;
  (void)vigil::rules::CanonicalText(text, scope);

  ExprSource src;
  src.start = {"fuzz.yaml", 3, 12};
  src.text = text;

  // As the condition of the second step of a pattern.
  CompileScope step_scope = scope;
  step_scope.steps = &defs.steps;
  step_scope.visible_through = 1;
  Diagnostics diags;
  auto cond = ExprCompiler(step_scope, &diags).CompileCondition(src);
  if (!cond) CheckFailure(diags, "condition");
  else if (!diags.empty()) Broken("a condition compiled with diagnostics", diags.front().ToString());

  // As an output template placeholder: every step visible, key.<field> allowed.
  CompileScope template_scope = scope;
  template_scope.steps = &defs.steps;
  template_scope.visible_through = static_cast<int>(defs.steps.size());
  template_scope.key_names = &defs.keys;
  Diagnostics value_diags;
  bool uses_steps = false;
  vigil::rules::ExprPtr value = ExprCompiler(template_scope, &value_diags).CompileValue(src, &uses_steps);
  if (!value) CheckFailure(value_diags, "value");

  vigil::fuzz::FuzzSteps steps(fields, defs.steps.size(), 3);
  vigil::fuzz::FuzzSteps no_events(fields, defs.steps.size(), 0);
  for (uint64_t salt = 0; salt < 4; ++salt) {
    auto event = vigil::fuzz::MakeEvent(fields, salt);
    const vigil::cep::StepEvents* seen = salt % 2 ? &steps : &no_events;
    if (cond) {
      (void)cond->Eval(vigil::cep::EvalContext{*event, cond->UsesSteps() ? seen : nullptr});
      (void)cond->Index();
    }
    if (value) {
      vigil::cep::StringArena scratch;
      std::string out;
      vigil::cep::AppendText(
          vigil::rules::EvaluateValue(*value, vigil::cep::EvalContext{*event, seen}, &scratch), &out);
    }
  }
  return 0;
}
