// Events as the engine sees them: a timestamp, the fields rules reference, and the raw bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vigil/cep/time.h"
#include "vigil/cep/value.h"

namespace vigil::cep {

using FieldId = uint32_t;

// The field paths that some rule, key, timestamp or template references. Decoders
// materialise only these (architecture decision 2). Paths are dotted ("source.ip").
// Thread safety: build it before decoding starts; afterwards it is read-only and may be
// shared between threads.
class FieldRegistry {
 public:
  FieldRegistry() = default;
  FieldRegistry(const FieldRegistry&) = delete;
  FieldRegistry& operator=(const FieldRegistry&) = delete;

  // Returns the id of `path`, adding it if new. Ids are dense, from 0.
  FieldId Intern(std::string_view path);
  std::optional<FieldId> Find(std::string_view path) const;
  // REQUIRES: id < size()
  const std::string& path(FieldId id) const { return paths_[id]; }
  size_t size() const { return paths_.size(); }

 private:
  std::vector<std::string> paths_;
  std::unordered_map<std::string, FieldId> index_;
};

// Append-only storage for an event's strings: pointers it hands out stay valid until
// Clear() or destruction.
class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Makes room for about `bytes` before the next block is needed.
  void Reserve(size_t bytes);
  std::string_view Copy(std::string_view s);
  // Keeps the first block for reuse.
  void Clear();
  size_t bytes_reserved() const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  char* Allocate(size_t n);
  std::vector<Block> blocks_;
  size_t used_ = 0;  // in blocks_.back()
};

// One decoded event.
//
// Invariants: string and JSON Values in fields point into strings_ or raw(); an Event
// is immutable once handed to the engine (shared through EventPtr).
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Event time.
  Timestamp time = 0;
  // Arrival order in the engine; assigned by Engine::Process.
  uint64_t seq = 0;
  // Index of the stream it came from (see Engine::AddStream) and the source partition
  // inside that stream (one watermark per partition).
  uint32_t stream = 0;
  uint32_t partition = 0;
  // Stable identity of the event in its source: the same input record gives the same
  // identity on every run (a hash of the source's name and the record's position).
  // Alert ids are derived from it.
  uint64_t identity = 0;

  // The bytes as received (for JSON sources: the JSON text), carried into alerts.
  const std::string& raw() const { return raw_; }
  void set_raw(std::string_view raw) { raw_.assign(raw); }
  std::string* mutable_raw() { return &raw_; }
  // True when raw() is a JSON object that alerts may embed as-is.
  bool raw_is_json = true;

  // The value of a registered field; null when the event does not have it.
  const Value& field(FieldId id) const { return id < fields_.size() ? fields_[id] : kNullValue; }
  // Sizes the field table for `count` registered fields, all null.
  void ResetFields(size_t count);
  // REQUIRES: id < the count given to ResetFields. String/JSON values must already point
  // into memory this event owns (use CopyString).
  void SetField(FieldId id, const Value& v) { fields_[id] = v; }
  size_t field_count() const { return fields_.size(); }
  // Copies `s` into this event's storage.
  std::string_view CopyString(std::string_view s) { return strings_.Copy(s); }
  void ReserveStrings(size_t bytes) { strings_.Reserve(bytes); }

  // Per-event results of the rule set's shared predicates (Hyperscan matches), one bit each.
  std::vector<uint64_t> predicate_bits;
  bool predicate_bit(uint32_t i) const {
    return (i >> 6) < predicate_bits.size() && ((predicate_bits[i >> 6] >> (i & 63)) & 1) != 0;
  }

  // Approximate heap bytes held, for state accounting.
  size_t MemoryUsage() const;

  // Returns the event to the state of a default-constructed one, keeping capacity.
  void Clear();

 private:
  static const Value kNullValue;
  std::string raw_;
  std::vector<Value> fields_;
  StringArena strings_;
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace vigil::cep
