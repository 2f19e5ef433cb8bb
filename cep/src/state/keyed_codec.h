// Internal: one checkpointed blob of keyed state (a rule's state for one key, the reorder
// buffer): the field names it uses, the events it refers to, then the runtime's own body.
// Fields are stored by name, so a blob restores into a registry that numbers fields
// differently (another rule set, another start); fields the reader's registry does not
// know are dropped (no rule can read them). Events shared inside a blob are stored once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec.h"
#include "vigil/cep/engine.h"
#include "vigil/cep/event.h"

namespace vigil::cep {

class KeyedWriter {
 public:
  explicit KeyedWriter(const FieldRegistry* fields) : fields_(fields), body_(&body_bytes_) {}
  // The body, after the tables.
  Writer& body() { return body_; }
  // Writes a reference to `event` into the body (null allowed).
  void EventRef(const EventPtr& event);
  // The whole blob; the writer can be reused after Clear().
  void Finish(std::string* out);
  void Clear();

 private:
  void EncodeEvent(const Event& e);
  const FieldRegistry* fields_;
  std::string body_bytes_, events_bytes_;
  Writer body_;
  std::unordered_map<const Event*, uint32_t> event_ids_;
  std::vector<uint32_t> field_ids_;     // local index -> FieldId
  std::unordered_map<FieldId, uint32_t> local_field_;  // FieldId -> local index
};

class KeyedReader {
 public:
  // `blob` must outlive the reader.
  KeyedReader(std::string_view blob, const FieldRegistry* fields, const EventPreparer* prepare);
  bool ok() const { return ok_ && body_.ok(); }
  Reader& body() { return body_; }
  EventPtr EventRef();

 private:
  bool ReadEvent(Reader& r, const std::vector<int64_t>& field_map);
  const FieldRegistry* fields_;
  std::vector<EventPtr> events_;
  Reader body_{std::string_view()};
  bool ok_ = true;
};

}  // namespace vigil::cep
