// A field value of an event, as rules see it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::cep {

enum class ValueKind : uint8_t {
  kNull,    // JSON null, or a field the event does not have
  kBool,
  kInt,     // a JSON number that is an integer fitting int64
  kDouble,  // any other JSON number
  kString,
  kJson,    // an object or array, kept as its JSON text
};

// A small, trivially copyable view. String and JSON values point into memory owned by
// someone else (usually the Event), so a Value must not outlive its owner.
struct Value {
  ValueKind kind = ValueKind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;

  static Value Null() { return Value{}; }
  static Value Bool(bool v) { Value x; x.kind = ValueKind::kBool; x.b = v; return x; }
  static Value Int(int64_t v) { Value x; x.kind = ValueKind::kInt; x.i = v; return x; }
  static Value Double(double v) { Value x; x.kind = ValueKind::kDouble; x.d = v; return x; }
  static Value String(std::string_view v) { Value x; x.kind = ValueKind::kString; x.s = v; return x; }
  static Value Json(std::string_view v) { Value x; x.kind = ValueKind::kJson; x.s = v; return x; }

  bool is_null() const { return kind == ValueKind::kNull; }
  bool is_number() const { return kind == ValueKind::kInt || kind == ValueKind::kDouble; }
  bool is_string() const { return kind == ValueKind::kString; }
  // REQUIRES: is_number()
  double AsDouble() const { return kind == ValueKind::kInt ? static_cast<double>(i) : d; }
};

// Same kind and same value; numbers compare by value across kInt/kDouble.
bool ValuesEqual(const Value& a, const Value& b);

// Appends the value as JSON (strings escaped, kJson verbatim).
void AppendJson(const Value& v, std::string* out);
// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string_view s, std::string* out);
// Appends the value as text for templates: strings unquoted, null as nothing,
// numbers in their shortest form that reads back the same.
void AppendText(const Value& v, std::string* out);
// Shortest decimal form of a double that reads back the same ("3", "0.1", "1e+21").
void AppendDouble(double d, std::string* out);

}  // namespace vigil::cep
