// simdjson's On-Demand API runs the kernel the build targets (VIGIL_X86_64_LEVEL in the
// top-level CMakeLists.txt): westmere (SSE4.2) by default on x86-64, NEON on arm64.
#include "vigil/ingest/json_decoder.h"

#include <simdjson.h>

#include <string>
#include <unordered_map>

namespace vigil::ingest {

namespace {

namespace od = simdjson::ondemand;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The registered field paths as a tree of key segments. A JSON key may itself contain dots
// (flat keys such as {"source.ip": ..}); it is split and walks several levels at once.
struct PathTrie {
  struct Node {
    int field = -1;  // FieldId when a registered path ends here
    std::unordered_map<std::string, int, StringHash, std::equal_to<>> children;
  };
  std::vector<Node> nodes{1};

  void Add(std::string_view path, int field) {
    int cur = 0;
    size_t start = 0;
    for (;;) {
      size_t dot = path.find('.', start);
      std::string seg(path.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                       : dot - start));
      auto it = nodes[cur].children.find(seg);
      int next;
      if (it == nodes[cur].children.end()) {
        next = static_cast<int>(nodes.size());
        nodes[cur].children.emplace(std::move(seg), next);
        nodes.emplace_back();
      } else {
        next = it->second;
      }
      cur = next;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    nodes[cur].field = field;
  }

  // Follows `key` (possibly dotted) from `from`; -1 if no registered path goes there.
  int Walk(int from, std::string_view key) const {
    int cur = from;
    size_t start = 0;
    for (;;) {
      size_t dot = key.find('.', start);
      std::string_view seg =
          key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      const auto& ch = nodes[cur].children;
      auto it = ch.find(seg);
      if (it == ch.end()) return -1;
      cur = it->second;
      if (dot == std::string_view::npos) return cur;
      start = dot + 1;
    }
  }
};

class JsonDecoder final : public Decoder {
 public:
  JsonDecoder(cep::FieldRegistry* fields, const TimestampOptions& ts)
      : time_names_(ts.fields), format_(ts.format) {
    for (const std::string& f : ts.fields) time_fields_.push_back(fields->Intern(f));
    field_count_ = fields->size();
    for (size_t i = 0; i < fields->size(); ++i) {
      trie_.Add(fields->path(static_cast<cep::FieldId>(i)), static_cast<int>(i));
    }
  }

  DecodeResult Decode(std::string_view record, cep::Event* event, std::string* error) override {
    // Trailing CR/LF and surrounding blanks are not part of the record.
    while (!record.empty() && (record.back() == '\n' || record.back() == '\r' ||
                               record.back() == ' ' || record.back() == '\t')) {
      record.remove_suffix(1);
    }
    size_t lead = 0;
    while (lead < record.size() && (record[lead] == ' ' || record[lead] == '\t')) ++lead;
    record.remove_prefix(lead);
    if (record.empty()) return DecodeResult::kSkip;

    // The raw copy doubles as simdjson's padded input: no second copy.
    std::string* raw = event->mutable_raw();
    raw->reserve(record.size() + simdjson::SIMDJSON_PADDING);
    raw->assign(record);
    event->raw_is_json = true;
    event->ResetFields(field_count_);
    event->ReserveStrings(record.size());

    od::document doc;
    auto err = parser_.iterate(simdjson::padded_string_view(raw->data(), raw->size(),
                                                            raw->capacity()))
                   .get(doc);
    od::object root;
    if (!err) err = doc.get_object().get(root);
    if (err) {
      *error = err == simdjson::INCORRECT_TYPE ? "not a JSON object"
                                               : std::string("malformed JSON: ") +
                                                     simdjson::error_message(err);
      return DecodeResult::kMalformed;
    }
    if (auto e = Walk(root, 0, event); e) {
      *error = std::string("malformed JSON: ") + simdjson::error_message(e);
      return DecodeResult::kMalformed;
    }
    const char* rest = nullptr;
    if (!doc.current_location().get(rest)) {
      *error = "malformed JSON: trailing content after the object";
      return DecodeResult::kMalformed;
    }
    for (cep::FieldId id : time_fields_) {
      const cep::Value& v = event->field(id);
      if (v.is_null()) continue;
      if (!ExtractTime(v, format_, &event->time)) {
        *error = "time field '" + time_field_name(id) + "' does not parse as " +
                 TimeFormatName(format_) + " time";
        return DecodeResult::kNoTime;
      }
      return DecodeResult::kOk;
    }
    *error = "no time field (" + time_field_list() + ")";
    return DecodeResult::kNoTime;
  }

 private:
  std::string time_field_name(cep::FieldId id) const {
    for (size_t i = 0; i < time_fields_.size(); ++i) {
      if (time_fields_[i] == id) return time_names_[i];
    }
    return std::to_string(id);
  }
  std::string time_field_list() const {
    std::string s;
    for (const std::string& n : time_names_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  simdjson::error_code Walk(od::object obj, int node, cep::Event* event) {
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key); e) return e;
      int child = trie_.Walk(node, key);
      if (child < 0) continue;  // not referenced: On-Demand skips the value
      const PathTrie::Node& n = trie_.nodes[static_cast<size_t>(child)];
      od::value value = field.value();
      od::json_type type;
      if (auto e = value.type().get(type); e) return e;
      if (type == od::json_type::object) {
        od::object inner;
        if (auto e = value.get_object().get(inner); e) return e;
        if (n.field >= 0) {
          std::string_view text;
          if (auto e = inner.raw_json().get(text); e) return e;
          event->SetField(static_cast<cep::FieldId>(n.field), cep::Value::Json(text));
          if (!n.children.empty()) {
            if (auto e = WalkNested(text, child, event); e) return e;
          }
        } else if (!n.children.empty()) {
          if (auto e = Walk(inner, child, event); e) return e;
        }
        continue;
      }
      if (n.field < 0) continue;
      auto id = static_cast<cep::FieldId>(n.field);
      switch (type) {
        case od::json_type::array: {
          od::array arr;
          std::string_view text;
          if (auto e = value.get_array().get(arr); e) return e;
          if (auto e = arr.raw_json().get(text); e) return e;
          event->SetField(id, cep::Value::Json(text));
          break;
        }
        case od::json_type::string: {
          std::string_view s;
          if (auto e = value.get_string().get(s); e) return e;
          event->SetField(id, cep::Value::String(event->CopyString(s)));
          break;
        }
        case od::json_type::number: {
          od::number num;
          if (auto e = value.get_number().get(num); e) return e;
          if (num.is_int64()) {
            event->SetField(id, cep::Value::Int(num.get_int64()));
          } else if (num.is_uint64()) {
            event->SetField(id, cep::Value::Double(static_cast<double>(num.get_uint64())));
          } else {
            event->SetField(id, cep::Value::Double(num.get_double()));
          }
          break;
        }
        case od::json_type::boolean: {
          bool b;
          if (auto e = value.get_bool().get(b); e) return e;
          event->SetField(id, cep::Value::Bool(b));
          break;
        }
        case od::json_type::null: {
          bool is_null;
          if (auto e = value.is_null().get(is_null); e) return e;
          if (!is_null) return simdjson::INCORRECT_TYPE;
          break;
        }
        default: break;
      }
    }
    return simdjson::SUCCESS;
  }

  // Rare: a path and a path below it are both referenced ("a" and "a.b"), so the object
  // was taken whole; read it again for the deeper fields.
  simdjson::error_code WalkNested(std::string_view text, int node, cep::Event* event) {
    std::string copy(text);
    copy.reserve(copy.size() + simdjson::SIMDJSON_PADDING);
    od::document doc;
    if (auto e = nested_parser_.iterate(simdjson::padded_string_view(copy.data(), copy.size(),
                                                                     copy.capacity()))
                     .get(doc);
        e) {
      return e;
    }
    od::object obj;
    if (auto e = doc.get_object().get(obj); e) return e;
    // Strings are copied into the event, so `copy` may go away afterwards; JSON values
    // must point into the event's own memory, so re-home them.
    auto e = Walk(obj, node, event);
    for (size_t i = 0; i < event->field_count(); ++i) {
      const cep::Value& v = event->field(static_cast<cep::FieldId>(i));
      if (v.kind == cep::ValueKind::kJson && v.s.data() >= copy.data() &&
          v.s.data() < copy.data() + copy.size()) {
        event->SetField(static_cast<cep::FieldId>(i), cep::Value::Json(event->CopyString(v.s)));
      }
    }
    return e;
  }

  od::parser parser_;
  od::parser nested_parser_;
  PathTrie trie_;
  std::vector<std::string> time_names_;
  std::vector<cep::FieldId> time_fields_;
  TimeFormat format_;
  size_t field_count_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> NewJsonDecoder(cep::FieldRegistry* fields,
                                        const TimestampOptions& timestamp) {
  return std::make_unique<JsonDecoder>(fields, timestamp);
}

const char* JsonKernelName() { return simdjson::builtin_implementation()->name().data(); }

}  // namespace vigil::ingest
