// Partition keys: the values of a rule's `key:` fields, encoded as one byte string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"

namespace vigil::cep {

// Encodes the values of `fields` of `event` into `out` (replacing its contents): a compact,
// unambiguous byte string, equal for equal key values. Returns false when the event lacks
// one of the fields (absent or null): such an event is not seen by the rule.
bool EncodeKey(const Event& event, const std::vector<FieldId>& fields, std::string* out);

// Appends the encoded key as a JSON object {"<name>": value, ...}. `names` are the key
// field paths in the order they were encoded; an empty key renders as {}.
void AppendKeyJson(std::string_view encoded, const std::vector<std::string>& names,
                   std::string* out);

// Decodes the i-th value of an encoded key. REQUIRES: a key produced by EncodeKey with
// more than i fields. String values point into `encoded`.
Value KeyValueAt(std::string_view encoded, size_t i);

}  // namespace vigil::cep
