// Fuzzing support: events whose fields hold awkward values (extremes of int64 and double,
// NaN, empty and non-UTF-8 strings, JSON), so that compiled conditions and templates are
// evaluated on every kind of value, not only the ones the rules expect.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "vigil/cep/condition.h"
#include "vigil/cep/event.h"

namespace vigil::fuzz {

inline cep::Value PaletteValue(size_t i) {
  static const cep::Value kPalette[] = {
      cep::Value::Null(),
      cep::Value::Bool(true),
      cep::Value::Bool(false),
      cep::Value::Int(0),
      cep::Value::Int(-1),
      cep::Value::Int(std::numeric_limits<int64_t>::max()),
      cep::Value::Int(std::numeric_limits<int64_t>::min()),
      cep::Value::Double(0.5),
      cep::Value::Double(-0.0),
      cep::Value::Double(1e308),
      cep::Value::Double(std::numeric_limits<double>::quiet_NaN()),
      cep::Value::Double(-std::numeric_limits<double>::infinity()),
      cep::Value::String(""),
      cep::Value::String("root"),
      cep::Value::String("10.1.2.3"),
      cep::Value::String("fe80::1"),
      cep::Value::String("Ad\xc3\xa9min \xff\xfe"),
      cep::Value::String("ssh_login"),
      cep::Value::Json("{\"a\":[1,2]}"),
  };
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

// An event with every registered field set; `salt` varies the values between events.
inline std::shared_ptr<cep::Event> MakeEvent(const cep::FieldRegistry& fields, uint64_t salt) {
  auto e = std::make_shared<cep::Event>();
  e->ResetFields(fields.size());
  for (cep::FieldId id = 0; id < fields.size(); ++id) {
    std::string_view path = fields.path(id);
    uint64_t h = salt * 0x9e3779b97f4a7c15ull;
    for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
    cep::Value v = PaletteValue(static_cast<size_t>(h % 1000));
    if (v.kind == cep::ValueKind::kString || v.kind == cep::ValueKind::kJson) {
      v.s = e->CopyString(v.s);
    }
    e->SetField(id, v);
  }
  e->set_raw("{}");
  return e;
}

// The events each step of a partial match took: `per_step` events for every step.
class FuzzSteps final : public cep::StepEvents {
 public:
  FuzzSteps(const cep::FieldRegistry& fields, size_t steps, size_t per_step) {
    for (size_t s = 0; s < steps; ++s) {
      by_step_.emplace_back();
      for (size_t i = 0; i < per_step; ++i) by_step_.back().push_back(MakeEvent(fields, s * 7 + i + 1));
    }
  }
  size_t Count(uint32_t step) const override {
    return step < by_step_.size() ? by_step_[step].size() : 0;
  }
  const cep::Event& Get(uint32_t step, size_t i) const override { return *by_step_[step][i]; }

 private:
  std::vector<std::vector<std::shared_ptr<cep::Event>>> by_step_;
};

}  // namespace vigil::fuzz
