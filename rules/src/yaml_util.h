// Internal: reading yaml-cpp nodes without exceptions, with positions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "expr_compiler.h"
#include "vigil/rules/diagnostic.h"

namespace vigil::rules {

// The 1-based position of a node in `file`.
SourcePos PosOf(const std::string& file, const YAML::Node& node);
// Plain (unquoted) scalars are typed by their text; quoted ones are strings.
bool IsPlainScalar(const YAML::Node& node);
// A scalar as a typed literal (YAML 1.2 core schema for plain scalars).
LiteralValue ScalarValue(const YAML::Node& node);
// Appends a node as JSON (maps → objects, sequences → arrays, scalars typed as above).
void AppendNodeJson(const YAML::Node& node, std::string* out);
// The text of a scalar expression and where it starts, for error positions. `doc` is the
// whole document the node was read from (it locates the lines of block scalars).
ExprSource ExprSourceOf(const std::string& file, const YAML::Node& node, std::string_view doc);

}  // namespace vigil::rules
