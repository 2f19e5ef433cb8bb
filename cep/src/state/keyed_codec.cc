#include "state/keyed_codec.h"

namespace vigil::cep {

void KeyedWriter::EventRef(const EventPtr& event) {
  if (!event) {
    body_.Varint(0);
    return;
  }
  auto [it, fresh] = event_ids_.try_emplace(event.get(), static_cast<uint32_t>(event_ids_.size()));
  if (fresh) EncodeEvent(*event);
  body_.Varint(it->second + 1);
}

void KeyedWriter::EncodeEvent(const Event& e) {
  Writer w(&events_bytes_);
  w.Svarint(e.time);
  w.Varint(e.seq);
  w.Varint(e.stream);
  w.Varint(e.partition);
  w.Varint(e.identity);
  w.U8(e.raw_is_json ? 1 : 0);
  w.Bytes(e.raw());
  uint32_t present = 0;
  for (FieldId f = 0; f < e.field_count(); ++f) present += e.field(f).is_null() ? 0 : 1;
  w.Varint(present);
  for (FieldId f = 0; f < e.field_count(); ++f) {
    const Value& v = e.field(f);
    if (v.is_null()) continue;
    auto [it, fresh] = local_field_.try_emplace(f, static_cast<uint32_t>(field_ids_.size()));
    if (fresh) field_ids_.push_back(f);
    w.Varint(it->second);
    w.U8(static_cast<uint8_t>(v.kind));
    switch (v.kind) {
      case ValueKind::kBool: w.U8(v.b ? 1 : 0); break;
      case ValueKind::kInt: w.Svarint(v.i); break;
      case ValueKind::kDouble: w.Double(v.d); break;
      case ValueKind::kString:
      case ValueKind::kJson: w.Bytes(v.s); break;
      case ValueKind::kNull: break;
    }
  }
}

void KeyedWriter::Finish(std::string* out) {
  out->clear();
  Writer w(out);
  w.Varint(field_ids_.size());
  for (FieldId f : field_ids_) w.Bytes(fields_->path(f));
  w.Varint(event_ids_.size());
  out->append(events_bytes_);
  out->append(body_bytes_);
}

void KeyedWriter::Clear() {
  body_bytes_.clear();
  events_bytes_.clear();
  event_ids_.clear();
  field_ids_.clear();
  local_field_.clear();
}

KeyedReader::KeyedReader(std::string_view blob, const FieldRegistry* fields,
                         const EventPreparer* prepare)
    : fields_(fields) {
  Reader r(blob);
  const uint64_t n_fields = r.Count();
  std::vector<int64_t> field_map;  // local index -> FieldId, or -1: unknown here
  field_map.reserve(n_fields);
  for (uint64_t i = 0; i < n_fields && r.ok(); ++i) {
    std::string_view name = r.Bytes();
    std::optional<FieldId> id = fields->Find(name);
    field_map.push_back(id ? static_cast<int64_t>(*id) : -1);
  }
  const uint64_t n_events = r.Count();
  events_.reserve(n_events);
  for (uint64_t i = 0; i < n_events && r.ok(); ++i) {
    if (!ReadEvent(r, field_map)) {
      ok_ = false;
      return;
    }
  }
  if (!r.ok()) {
    ok_ = false;
    return;
  }
  for (const EventPtr& e : events_) {
    if (prepare != nullptr && *prepare) (*prepare)(const_cast<Event*>(e.get()));
  }
  // The rest of the blob is the body.
  std::string_view rest = blob.substr(blob.size() - r.remaining());
  body_ = Reader(rest);
}

bool KeyedReader::ReadEvent(Reader& r, const std::vector<int64_t>& field_map) {
  auto e = std::make_shared<Event>();
  e->time = r.Svarint();
  e->seq = r.Varint();
  e->stream = static_cast<uint32_t>(r.Varint());
  e->partition = static_cast<uint32_t>(r.Varint());
  e->identity = r.Varint();
  e->raw_is_json = r.U8() != 0;
  e->set_raw(r.Bytes());
  e->ResetFields(fields_->size());
  const uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    const uint64_t local = r.Varint();
    const auto kind = static_cast<ValueKind>(r.U8());
    Value v;
    switch (kind) {
      case ValueKind::kBool: v = Value::Bool(r.U8() != 0); break;
      case ValueKind::kInt: v = Value::Int(r.Svarint()); break;
      case ValueKind::kDouble: v = Value::Double(r.Double()); break;
      case ValueKind::kString: v = Value::String(e->CopyString(r.Bytes())); break;
      case ValueKind::kJson: v = Value::Json(e->CopyString(r.Bytes())); break;
      default: return false;
    }
    if (local >= field_map.size()) return false;
    if (field_map[local] >= 0) e->SetField(static_cast<FieldId>(field_map[local]), v);
  }
  if (!r.ok()) return false;
  events_.push_back(std::move(e));
  return true;
}

EventPtr KeyedReader::EventRef() {
  const uint64_t id = body_.Varint();
  if (id == 0) return nullptr;
  if (id > events_.size()) {
    body_.Fail();
    return nullptr;
  }
  return events_[id - 1];
}

}  // namespace vigil::cep
