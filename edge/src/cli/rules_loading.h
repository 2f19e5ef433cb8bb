// Internal: loading rules for a command, with errors printed the way every command does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/rules/ruleset.h"

namespace vigil::edge {

// Loads `paths`; on any error prints the first as "vigil <command>: file:line:col: message"
// with a count of the rest, and returns nothing.
std::optional<rules::Ruleset> LoadRulesOrReport(const char* command,
                                                const std::vector<std::string>& paths,
                                                cep::FieldRegistry* fields);

}  // namespace vigil::edge
