#include "vigil/cep/event.h"

#include <algorithm>
#include <cstring>

namespace vigil::cep {

const Value Event::kNullValue{};

FieldId FieldRegistry::Intern(std::string_view path) {
  auto it = index_.find(std::string(path));
  if (it != index_.end()) return it->second;
  FieldId id = static_cast<FieldId>(paths_.size());
  paths_.emplace_back(path);
  index_.emplace(paths_.back(), id);
  return id;
}

std::optional<FieldId> FieldRegistry::Find(std::string_view path) const {
  auto it = index_.find(std::string(path));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void StringArena::Reserve(size_t bytes) {
  if (!blocks_.empty() && blocks_.back().size - used_ >= bytes) return;
  if (blocks_.size() == 1 && used_ == 0) {
    blocks_.clear();  // an unused first block that is too small
  }
  Block b;
  b.size = std::max<size_t>(bytes, 64);
  b.data.reset(new char[b.size]);
  blocks_.push_back(std::move(b));
  used_ = 0;
}

char* StringArena::Allocate(size_t n) {
  if (blocks_.empty() || blocks_.back().size - used_ < n) {
    size_t last = blocks_.empty() ? 0 : blocks_.back().size;
    Block b;
    b.size = std::max<size_t>({n, 256, last * 2});
    b.data.reset(new char[b.size]);
    blocks_.push_back(std::move(b));
    used_ = 0;
  }
  char* p = blocks_.back().data.get() + used_;
  used_ += n;
  return p;
}

std::string_view StringArena::Copy(std::string_view s) {
  if (s.empty()) return std::string_view();
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return std::string_view(p, s.size());
}

void StringArena::Clear() {
  if (blocks_.size() > 1) {
    // Keep the largest block (the last one) for the next event.
    Block keep = std::move(blocks_.back());
    blocks_.clear();
    blocks_.push_back(std::move(keep));
  }
  used_ = 0;
}

size_t StringArena::bytes_reserved() const {
  size_t n = 0;
  for (const Block& b : blocks_) n += b.size;
  return n;
}

void Event::ResetFields(size_t count) { fields_.assign(count, Value{}); }

size_t Event::MemoryUsage() const {
  return sizeof(Event) + raw_.capacity() + fields_.capacity() * sizeof(Value) +
         strings_.bytes_reserved() + predicate_bits.capacity() * sizeof(uint64_t);
}

void Event::Clear() {
  time = 0;
  seq = 0;
  stream = 0;
  partition = 0;
  identity = 0;
  raw_.clear();
  raw_is_json = true;
  fields_.clear();
  strings_.Clear();
  predicate_bits.clear();
}

}  // namespace vigil::cep

#include <algorithm>

#include "vigil/cep/condition.h"

namespace vigil::cep {

ConditionIndex ConditionIndex::Union(const ConditionIndex& a, const ConditionIndex& b) {
  if (a.kind == Kind::kFieldEquals && b.kind == Kind::kFieldEquals && a.field == b.field) {
    ConditionIndex u = a;
    u.values.insert(u.values.end(), b.values.begin(), b.values.end());
    std::sort(u.values.begin(), u.values.end());
    u.values.erase(std::unique(u.values.begin(), u.values.end()), u.values.end());
    return u;
  }
  auto bits_of = [](const ConditionIndex& i, std::vector<uint32_t>* out) {
    if (i.kind == Kind::kPredicateBit) out->push_back(i.bit);
    if (i.kind == Kind::kAnyPredicateBit) out->insert(out->end(), i.bits.begin(), i.bits.end());
    return i.kind == Kind::kPredicateBit || i.kind == Kind::kAnyPredicateBit;
  };
  ConditionIndex u;
  if (bits_of(a, &u.bits) && bits_of(b, &u.bits)) {
    std::sort(u.bits.begin(), u.bits.end());
    u.bits.erase(std::unique(u.bits.begin(), u.bits.end()), u.bits.end());
    if (u.bits.size() == 1) {
      u.kind = Kind::kPredicateBit;
      u.bit = u.bits.front();
      u.bits.clear();
    } else {
      u.kind = Kind::kAnyPredicateBit;
    }
    return u;
  }
  return ConditionIndex{};
}

}  // namespace vigil::cep
