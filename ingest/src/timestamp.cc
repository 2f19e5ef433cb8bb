#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "vigil/cep/hash.h"
#include "vigil/ingest/decoder.h"

namespace vigil::ingest {

bool ParseTimeFormat(std::string_view text, TimeFormat* out) {
  if (text == "auto") *out = TimeFormat::kAuto;
  else if (text == "rfc3339") *out = TimeFormat::kRfc3339;
  else if (text == "epoch_s") *out = TimeFormat::kEpochS;
  else if (text == "epoch_ms") *out = TimeFormat::kEpochMs;
  else if (text == "epoch_ns") *out = TimeFormat::kEpochNs;
  else return false;
  return true;
}

const char* TimeFormatName(TimeFormat f) {
  switch (f) {
    case TimeFormat::kAuto: return "auto";
    case TimeFormat::kRfc3339: return "rfc3339";
    case TimeFormat::kEpochS: return "epoch_s";
    case TimeFormat::kEpochMs: return "epoch_ms";
    case TimeFormat::kEpochNs: return "epoch_ns";
  }
  return "auto";
}

namespace {

bool FromEpoch(double v, cep::Duration unit, cep::Timestamp* out) {
  double ns = v * static_cast<double>(unit);
  if (!std::isfinite(ns) || std::fabs(ns) >= 9.2e18) return false;
  *out = static_cast<cep::Timestamp>(std::llround(ns));
  return true;
}

bool FromEpochInt(int64_t v, cep::Duration unit, cep::Timestamp* out) {
  return !__builtin_mul_overflow(v, unit, out);
}

cep::Duration AutoUnit(double magnitude) {
  magnitude = std::fabs(magnitude);
  if (magnitude < 1e11) return cep::kSecond;
  if (magnitude < 1e14) return cep::kMillisecond;
  if (magnitude < 1e17) return cep::kMicrosecond;
  return cep::kNanosecond;
}

// A decimal number: strtod alone would also take blanks, hex, "inf" and "nan".
bool ParseNumber(std::string_view s, cep::Value* out) {
  if (s.empty() || s.size() > 40) return false;
  if (s.find_first_not_of("0123456789+-.eE") != std::string_view::npos) return false;
  char buf[48];
  s.copy(buf, s.size());
  buf[s.size()] = 0;
  char* end = nullptr;
  if (s.find_first_of(".eE") == std::string_view::npos) {
    errno = 0;
    long long v = std::strtoll(buf, &end, 10);
    if (errno == 0 && end == buf + s.size()) {
      *out = cep::Value::Int(v);
      return true;
    }
  }
  double d = std::strtod(buf, &end);
  if (end != buf + s.size() || !std::isfinite(d)) return false;
  *out = cep::Value::Double(d);
  return true;
}

bool FromNumber(const cep::Value& v, TimeFormat format, cep::Timestamp* out) {
  cep::Duration unit;
  switch (format) {
    case TimeFormat::kEpochS: unit = cep::kSecond; break;
    case TimeFormat::kEpochMs: unit = cep::kMillisecond; break;
    case TimeFormat::kEpochNs: unit = cep::kNanosecond; break;
    case TimeFormat::kAuto: unit = AutoUnit(v.AsDouble()); break;
    default: return false;
  }
  if (v.kind == cep::ValueKind::kInt) return FromEpochInt(v.i, unit, out);
  return FromEpoch(v.d, unit, out);
}

}  // namespace

bool ExtractTime(const cep::Value& v, TimeFormat format, cep::Timestamp* out) {
  if (v.is_number()) return format != TimeFormat::kRfc3339 && FromNumber(v, format, out);
  if (v.kind != cep::ValueKind::kString) return false;
  if (format == TimeFormat::kRfc3339 || format == TimeFormat::kAuto) {
    if (cep::ParseRfc3339(v.s, out)) return true;
    if (format == TimeFormat::kRfc3339) return false;
  }
  cep::Value n;
  return ParseNumber(v.s, &n) && FromNumber(n, format, out);
}

uint64_t EventIdentity(std::string_view source, uint64_t position) {
  return cep::HashCombine(cep::Hash64(source, 0x5649474c /* "VIGL" */), position);
}

}  // namespace vigil::ingest
