#include "hyperscan.h"

#include <atomic>
#include <mutex>

namespace vigil::rules {

namespace {

// One prototype scratch grown for every database compiled; each thread clones it and
// re-clones when a newer database made the prototype grow.
struct ScratchPrototype {
  std::mutex mu;
  hs_scratch_t* proto = nullptr;
  std::atomic<uint64_t> generation{0};
};

ScratchPrototype& Prototype() {
  static ScratchPrototype* p = new ScratchPrototype();  // never destroyed: threads may outlive
  return *p;
}

struct ThreadScratch {
  hs_scratch_t* scratch = nullptr;
  uint64_t generation = 0;
  ~ThreadScratch() {
    if (scratch) hs_free_scratch(scratch);
  }
};

hs_scratch_t* ScratchForThisThread() {
  thread_local ThreadScratch ts;
  ScratchPrototype& p = Prototype();
  uint64_t gen = p.generation.load(std::memory_order_acquire);
  if (ts.scratch == nullptr || ts.generation != gen) {
    std::lock_guard<std::mutex> lock(p.mu);
    if (ts.scratch) hs_free_scratch(ts.scratch);
    ts.scratch = nullptr;
    if (p.proto == nullptr || hs_clone_scratch(p.proto, &ts.scratch) != HS_SUCCESS) return nullptr;
    ts.generation = p.generation.load(std::memory_order_relaxed);
  }
  return ts.scratch;
}

}  // namespace

HsDatabase::~HsDatabase() { hs_free_database(db_); }

Result<std::unique_ptr<HsDatabase>> HsDatabase::Compile(const std::vector<HsPattern>& patterns,
                                                        size_t* bad_index) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (const HsPattern& p : patterns) {
    exprs.push_back(p.expression.c_str());
    flags.push_back(p.flags);
    ids.push_back(p.id);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db,
                       &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "unknown Hyperscan error";
    if (bad_index) {
      *bad_index = err && err->expression >= 0 ? static_cast<size_t>(err->expression)
                                               : kUnattributed;
    }
    hs_free_compile_error(err);
    return Status::InvalidArgument(msg);
  }
  ScratchPrototype& p = Prototype();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (hs_alloc_scratch(db, &p.proto) != HS_SUCCESS) {
      hs_free_database(db);
      return Status::Unavailable("cannot allocate Hyperscan scratch space");
    }
    p.generation.fetch_add(1, std::memory_order_release);
  }
  return std::unique_ptr<HsDatabase>(new HsDatabase(db));
}

bool HsDatabase::ScanRaw(std::string_view data, RawCallback cb, void* ctx) const {
  hs_scratch_t* scratch = ScratchForThisThread();
  if (!scratch) return false;
  // Hyperscan rejects a null pointer even for zero bytes, and empty views may hold one
  // (an event's empty strings do).
  const char* bytes = data.data() ? data.data() : "";
  hs_error_t rc = hs_scan(db_, bytes, static_cast<unsigned>(data.size()), 0, scratch, cb, ctx);
  return rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED;
}

bool HsDatabase::Matches(std::string_view data) const {
  bool hit = false;
  auto stop = [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) -> int {
    *static_cast<bool*>(ctx) = true;
    return 1;  // stop at the first match
  };
  ScanRaw(data, stop, &hit);
  return hit;
}

std::string HsEscapeLiteral(std::string_view literal) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(literal.size() * 2);
  for (unsigned char c : literal) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == ' ') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace vigil::rules
