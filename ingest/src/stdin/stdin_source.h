// The stdin source: lines of standard input. A pipe cannot be read again, so every line goes
// through the stream's ingest log (LoggedSource) before the engine sees it; the end of input
// ends the stream.
#pragma once

#include <memory>

#include "vigil/ingest/source.h"

namespace vigil::ingest {

// Reads `fd` (0 in production; tests pass a pipe). The source does not close it.
std::unique_ptr<Source> NewStdinSource(const SourceContext& ctx, int fd, size_t max_line);

}  // namespace vigil::ingest
