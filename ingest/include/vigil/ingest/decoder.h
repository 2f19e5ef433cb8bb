// Decoders turn one received record (a line, a message) into an Event.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/event.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::ingest {

enum class TimeFormat { kAuto, kRfc3339, kEpochS, kEpochMs, kEpochNs };
// Parses rfc3339 | epoch_s | epoch_ms | epoch_ns | auto.
bool ParseTimeFormat(std::string_view text, TimeFormat* out);
const char* TimeFormatName(TimeFormat f);

// Where an event's time comes from.
struct TimestampOptions {
  // Candidate fields; the first one the event has is used.
  std::vector<std::string> fields = {"@timestamp", "timestamp", "ts"};
  TimeFormat format = TimeFormat::kAuto;
};

// Reads an event time from a field value. `auto` takes RFC 3339 strings and epoch numbers
// (or numeric strings) whose unit follows from their magnitude: below 1e11 seconds, below
// 1e14 milliseconds, below 1e17 microseconds, otherwise nanoseconds.
bool ExtractTime(const cep::Value& v, TimeFormat format, cep::Timestamp* out);

enum class DecodeResult {
  kOk,
  kSkip,       // nothing to decode (an empty line)
  kMalformed,  // not a record of this format: dead-lettered
  kNoTime,     // no time field, or one that does not parse
};

// Thread safety: a Decoder is used by one thread at a time.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes `record` into `event` (which the caller has cleared). On kMalformed and kNoTime
  // `error` says what is wrong. Sets the event's raw bytes, fields and time.
  virtual DecodeResult Decode(std::string_view record, cep::Event* event, std::string* error) = 0;
};

// A stable identity for the record at `position` of `source`: alert ids derive from it.
uint64_t EventIdentity(std::string_view source, uint64_t position);

}  // namespace vigil::ingest
