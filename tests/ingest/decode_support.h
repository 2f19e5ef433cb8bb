// Test support for the ingest module: a JSON decoder over a registry of chosen paths, and
// field values rendered as short strings so that a failure reads like a diff.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/value.h"
#include "vigil/ingest/decoder.h"
#include "vigil/ingest/json_decoder.h"

namespace vigil::ingest::testing {

// "null", "true", "int 42", "double 1.5", "string abc", "json [1,2]".
inline std::string Show(const cep::Value& v) {
  switch (v.kind) {
    case cep::ValueKind::kNull:
      return "null";
    case cep::ValueKind::kBool:
      return v.b ? "true" : "false";
    case cep::ValueKind::kInt:
      return "int " + std::to_string(v.i);
    case cep::ValueKind::kDouble: {
      std::string s = "double ";
      cep::AppendDouble(v.d, &s);
      return s;
    }
    case cep::ValueKind::kString:
      return "string " + std::string(v.s);
    case cep::ValueKind::kJson:
      return "json " + std::string(v.s);
  }
  return "?";
}

inline const char* ResultName(DecodeResult r) {
  switch (r) {
    case DecodeResult::kOk:
      return "ok";
    case DecodeResult::kSkip:
      return "skip";
    case DecodeResult::kMalformed:
      return "malformed";
    case DecodeResult::kNoTime:
      return "no-time";
  }
  return "?";
}

struct Decoded {
  std::string result;  // ResultName
  std::string error;
  std::shared_ptr<cep::Event> event;
};

// A JSON decoder whose registry holds `paths` (plus the timestamp fields it adds itself).
class DecoderFixture {
 public:
  explicit DecoderFixture(const std::vector<std::string>& paths,
                          const TimestampOptions& timestamp = TimestampOptions()) {
    for (const std::string& p : paths)
      registry_.Intern(p);
    decoder_ = NewJsonDecoder(&registry_, timestamp);
  }
  DecoderFixture(const DecoderFixture&) = delete;
  DecoderFixture& operator=(const DecoderFixture&) = delete;

  Decoded Decode(std::string_view record) {
    Decoded d;
    d.event = std::make_shared<cep::Event>();
    d.result = ResultName(decoder_->Decode(record, d.event.get(), &d.error));
    return d;
  }

  // The value of registered `path` in `d`, shown.
  std::string Field(const Decoded& d, std::string_view path) const {
    auto id = registry_.Find(path);
    REQUIRE(id.has_value());
    return Show(d.event->field(*id));
  }

  const cep::FieldRegistry& registry() const { return registry_; }

 private:
  cep::FieldRegistry registry_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace vigil::ingest::testing
