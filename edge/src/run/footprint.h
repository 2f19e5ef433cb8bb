// Keeping the daemon's resident memory to what it uses (docs/edge.md, "Footprint").
#pragma once

#include <cstdint>

namespace vigil::edge {

// Unmaps the file pages of the code and read-only data touched so far, so what stays
// resident is what the daemon goes on using. Startup (and a rules change) runs code that is
// not needed again (configuration, Hyperscan's compiler, RocksDB's recovery, gRPC's setup),
// and every page fault on a library maps the 64 KiB around it as well (fault-around): most
// of the libraries' resident pages after startup are neither used again nor Vigil's to free.
// Only mappings that are read-only, private, backed by a file and hold no page of their own
// (Anonymous: 0, so never the relocated RELRO part) are touched: their pages are the file's,
// unchanged, and stay in the page cache (reclaimable), so a later use faults them back in
// without I/O. Returns the kilobytes unmapped. Call when no library is being loaded (the
// mappings are read from /proc/self/smaps first).
uint64_t ReleaseStartupPages();

}  // namespace vigil::edge
