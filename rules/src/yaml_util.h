// Internal: reading yaml-cpp nodes without exceptions, with positions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// Aliases are expanded, so a small file can stand for a huge value (each alias repeating
// the one before) or an endless one (an alias inside the node it names): fails, with
// `*error` set, past kMaxJsonDepth levels or once `*budget` bytes are used up (it is
// decremented by what is appended).
inline constexpr int kMaxJsonDepth = 100;
bool AppendNodeJson(const YAML::Node& node, size_t* budget, std::string* out, std::string* error);
// A flow scalar (plain or quoted) read again from the document text: where each byte of its
// value was written (line, column), and whether a quoted one runs to the end of the file
// without its closing quote (yaml-cpp accepts that; it is a syntax error).
struct FlowTrace {
  bool ok = false;  // the text reads back as the node's value
  bool unterminated = false;
  std::vector<std::pair<int, int>> positions;
};
FlowTrace TraceFlowScalar(std::string_view doc, const YAML::Node& node);
// What follows the first YAML document of `text`: nothing (or only empty documents), a
// second document with content (`at`: where it starts), or something the parser cannot
// read on from (`at`: where it is stuck; yaml-cpp does not report it). Throws
// YAML::ParserException on a syntax error after the first document.
enum class LaterDocument { kNone, kSecond, kStuck };
LaterDocument FindLaterDocument(const std::string& text, YAML::Mark* at);
// yaml-cpp ends a quoted scalar left open at the end of the file there, without an error.
// True (and where it opens) if the last scalar of `root` is such a one.
bool UnterminatedQuote(const std::string& file, std::string_view doc, const YAML::Node& root,
                       SourcePos* open);
// The text of a scalar expression and where it starts, for error positions. `doc` is the
// whole document the node was read from (it locates the lines of block scalars).
ExprSource ExprSourceOf(const std::string& file, const YAML::Node& node, std::string_view doc);

}  // namespace vigil::rules
