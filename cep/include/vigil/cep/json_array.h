// The elements of a JSON array field, for "any element" semantics. ECS (and
// Sigma, EQL) fields such as event.category or related.ip are arrays, and a detection
// engineer expects `event.category == "network"` to hold when any element is "network".
// A field holding an array reaches rules as its JSON text (ValueKind::kJson); this
// walks its scalar elements without building anything.
#pragma once

#include <string>
#include <string_view>

#include "vigil/cep/value.h"

namespace vigil::cep {

// True if `v` is a JSON array (its text starts with '[').
inline bool IsJsonArray(const Value& v) {
  return v.kind == ValueKind::kJson && !v.s.empty() && v.s.front() == '[';
}

// Calls fn(element) for each scalar element of the array `json` (strings, numbers, true,
// false, null; nested arrays and objects are skipped) until fn returns true. Returns true
// if fn did. Strings with escapes are unescaped into a per-thread buffer that is valid
// only during the call of fn. Malformed text ends the walk (the decoder has already
// checked it).
template <typename F>
bool AnyArrayElement(std::string_view json, F&& fn);

namespace json_array_internal {
// Parses the element at json[*pos] (after whitespace); advances past it and the following
// ',' or ']'. Returns false at the end of the array or on malformed input. *skip is set
// for elements that are not scalars.
bool NextElement(std::string_view json, size_t* pos, Value* out, bool* skip);
}  // namespace json_array_internal

template <typename F>
bool AnyArrayElement(std::string_view json, F&& fn) {
  size_t pos = 1;  // past '['
  Value e;
  bool skip = false;
  while (json_array_internal::NextElement(json, &pos, &e, &skip)) {
    if (!skip && fn(e)) return true;
  }
  return false;
}

// The number of elements of the array `json`.
size_t ArrayLength(std::string_view json);

}  // namespace vigil::cep
