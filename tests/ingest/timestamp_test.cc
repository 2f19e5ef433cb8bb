// Event time: ExtractTime for every format (and auto's magnitude heuristics), and how the
// JSON decoder picks the time field and reports a missing or unparsable one.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decode_support.h"
#include "vigil/cep/time.h"

namespace vigil::ingest::testing {
namespace {

using cep::kMicrosecond;
using cep::kMillisecond;
using cep::kSecond;
using cep::Timestamp;
using cep::Value;

// 2026-11-21T10:15:02Z
constexpr int64_t kEpochSeconds = 1795256102;
constexpr Timestamp kT = kEpochSeconds * kSecond;

// The time `v` gives in `format`, or "fails".
std::string Time(const Value& v, TimeFormat format) {
  Timestamp t = 0;
  if (!ExtractTime(v, format, &t)) return "fails";
  return std::to_string(t);
}
std::string At(Timestamp t) {
  return std::to_string(t);
}

TEST_CASE("time: format names parse and print", "[ingest][time]") {
  for (TimeFormat f : {TimeFormat::kAuto, TimeFormat::kRfc3339, TimeFormat::kEpochS,
                       TimeFormat::kEpochMs, TimeFormat::kEpochNs}) {
    TimeFormat back = TimeFormat::kAuto;
    REQUIRE(ParseTimeFormat(TimeFormatName(f), &back));
    CHECK(back == f);
  }
  CHECK(std::string(TimeFormatName(TimeFormat::kEpochMs)) == "epoch_ms");
  TimeFormat out = TimeFormat::kEpochNs;
  for (const char* bad : {"", "Auto", "RFC3339", "epoch_us", "epoch", "ms", "auto "}) {
    INFO(bad);
    CHECK_FALSE(ParseTimeFormat(bad, &out));
  }
  CHECK(out == TimeFormat::kEpochNs);  // untouched on failure
}

TEST_CASE("time: rfc3339 strings", "[ingest][time]") {
  CHECK(Time(Value::String("2026-11-21T10:15:02Z"), TimeFormat::kRfc3339) == At(kT));
  CHECK(Time(Value::String("2026-11-21T10:15:02.123Z"), TimeFormat::kRfc3339) ==
        At(kT + 123 * kMillisecond));
  CHECK(Time(Value::String("2026-11-21T10:15:02.123456789Z"), TimeFormat::kRfc3339) ==
        At(kT + 123456789));
  CHECK(Time(Value::String("2026-11-21T12:15:02+02:00"), TimeFormat::kRfc3339) == At(kT));
  CHECK(Time(Value::String("2026-11-21T10:15:02Z"), TimeFormat::kAuto) == At(kT));
  // rfc3339 takes nothing else: not numbers, not numeric strings.
  CHECK(Time(Value::Int(kEpochSeconds), TimeFormat::kRfc3339) == "fails");
  CHECK(Time(Value::String("1795256102"), TimeFormat::kRfc3339) == "fails");
  CHECK(Time(Value::String("21/11/2026"), TimeFormat::kRfc3339) == "fails");
}

TEST_CASE("time: explicit epoch units, numbers and numeric strings", "[ingest][time]") {
  CHECK(Time(Value::Int(kEpochSeconds), TimeFormat::kEpochS) == At(kT));
  CHECK(Time(Value::String("1795256102"), TimeFormat::kEpochS) == At(kT));
  CHECK(Time(Value::Int(kEpochSeconds * 1000 + 5), TimeFormat::kEpochMs) ==
        At(kT + 5 * kMillisecond));
  CHECK(Time(Value::String("1795256102005"), TimeFormat::kEpochMs) == At(kT + 5 * kMillisecond));
  CHECK(Time(Value::Int(kT + 7), TimeFormat::kEpochNs) == At(kT + 7));
  CHECK(Time(Value::String(std::to_string(kT + 7)), TimeFormat::kEpochNs) == At(kT + 7));
  // The unit is not guessed when it is given: a small number in ms stays small.
  CHECK(Time(Value::Int(1500), TimeFormat::kEpochMs) == At(1500 * kMillisecond));
  CHECK(Time(Value::Int(0), TimeFormat::kEpochS) == "0");
  CHECK(Time(Value::Int(-1), TimeFormat::kEpochS) == At(-kSecond));
  // Epoch formats do not read RFC 3339.
  CHECK(Time(Value::String("2026-11-21T10:15:02Z"), TimeFormat::kEpochS) == "fails");
}

TEST_CASE("time: fractional seconds", "[ingest][time]") {
  Timestamp t = 0;
  REQUIRE(ExtractTime(Value::Double(1795256102.5), TimeFormat::kEpochS, &t));
  CHECK(t == kT + 500 * kMillisecond);  // exact in binary
  REQUIRE(ExtractTime(Value::Double(1795256102.25), TimeFormat::kEpochS, &t));
  CHECK(std::llabs(t - (kT + 250 * kMillisecond)) < kMicrosecond);
  REQUIRE(ExtractTime(Value::String("1795256102.123"), TimeFormat::kEpochS, &t));
  // A double holds about 16 digits: the nanoseconds are approximate, the microseconds not.
  CHECK(std::llabs(t - (kT + 123 * kMillisecond)) < kMicrosecond);
  REQUIRE(ExtractTime(Value::Double(1795256102.5), TimeFormat::kAuto, &t));
  CHECK(t == kT + 500 * kMillisecond);
  REQUIRE(ExtractTime(Value::Double(1795256102005.5), TimeFormat::kEpochMs, &t));
  CHECK(std::llabs(t - (kT + 5 * kMillisecond + 500 * kMicrosecond)) < kMicrosecond);
  REQUIRE(ExtractTime(Value::String("1.795256102e9"), TimeFormat::kAuto, &t));
  CHECK(t == kT);
}

TEST_CASE("time: auto picks the unit from the magnitude", "[ingest][time]") {
  // The same instant in seconds, milliseconds, microseconds and nanoseconds.
  CHECK(Time(Value::Int(kEpochSeconds), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::Int(kEpochSeconds * 1000), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::Int(kEpochSeconds * 1000000), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::Int(kT), TimeFormat::kAuto) == At(kT));
  // ... and as numeric strings.
  CHECK(Time(Value::String("1795256102"), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::String("1795256102000"), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::String("1795256102000000"), TimeFormat::kAuto) == At(kT));
  CHECK(Time(Value::String("1795256102000000000"), TimeFormat::kAuto) == At(kT));
  // ... and as doubles.
  CHECK(Time(Value::Double(1795256102000.0), TimeFormat::kAuto) == At(kT));

  SECTION("the boundaries: below 1e11 s, below 1e14 ms, below 1e17 us, else ns") {
    // Just below each boundary the smaller unit is taken, and lands past 2262: no time.
    CHECK(Time(Value::Int(99999999999), TimeFormat::kAuto) == "fails");
    CHECK(Time(Value::Int(99999999999999), TimeFormat::kAuto) == "fails");
    CHECK(Time(Value::Int(99999999999999900), TimeFormat::kAuto) == "fails");
    // At each boundary the next unit is taken: 1e11 ms, 1e14 us and 1e17 ns are one instant.
    CHECK(Time(Value::Int(100000000000), TimeFormat::kAuto) == At(100000000000000000));
    CHECK(Time(Value::Int(100000000000000), TimeFormat::kAuto) == At(100000000000000000));
    CHECK(Time(Value::Int(100000000000000000), TimeFormat::kAuto) == At(100000000000000000));
    // In-range values of each unit.
    CHECK(Time(Value::Int(9000000000), TimeFormat::kAuto) == At(9000000000 * kSecond));
    CHECK(Time(Value::Int(9000000000000), TimeFormat::kAuto) == At(9000000000000 * kMillisecond));
    CHECK(Time(Value::Int(9000000000000000), TimeFormat::kAuto) ==
          At(9000000000000000 * kMicrosecond));
  }
  SECTION("negative times use the magnitude too") {
    CHECK(Time(Value::Int(-60), TimeFormat::kAuto) == At(-60 * kSecond));
    CHECK(Time(Value::Int(-100000000000), TimeFormat::kAuto) == At(-100000000000 * kMillisecond));
  }
}

TEST_CASE("time: values that are no time", "[ingest][time]") {
  for (TimeFormat f : {TimeFormat::kAuto, TimeFormat::kEpochS, TimeFormat::kEpochMs,
                       TimeFormat::kEpochNs, TimeFormat::kRfc3339}) {
    INFO(TimeFormatName(f));
    CHECK(Time(Value::Null(), f) == "fails");
    CHECK(Time(Value::Bool(true), f) == "fails");
    CHECK(Time(Value::Json("{\"s\":1}"), f) == "fails");
    CHECK(Time(Value::Json("[1]"), f) == "fails");
    CHECK(Time(Value::String(""), f) == "fails");
    CHECK(Time(Value::String("yesterday"), f) == "fails");
    CHECK(Time(Value::String("12abc"), f) == "fails");
    CHECK(Time(Value::String("nan"), f) == "fails");
    CHECK(Time(Value::String("inf"), f) == "fails");
  }
  // Numeric strings are decimal: no hex, no surrounding blanks.
  CHECK(Time(Value::String("0x6b0c2226"), TimeFormat::kAuto) == "fails");
  CHECK(Time(Value::String("0x1p3"), TimeFormat::kEpochS) == "fails");
  CHECK(Time(Value::String(" 1795256102"), TimeFormat::kAuto) == "fails");
  CHECK(Time(Value::String("1795256102 "), TimeFormat::kAuto) == "fails");
}

TEST_CASE("time: out-of-range values fail instead of wrapping", "[ingest][time]") {
  // Timestamps cover about 1678..2262.
  CHECK(Time(Value::Int(INT64_MAX), TimeFormat::kEpochS) == "fails");
  CHECK(Time(Value::Int(INT64_MIN), TimeFormat::kEpochMs) == "fails");
  CHECK(Time(Value::Int(10000000000), TimeFormat::kEpochS) == "fails");  // year 2286
  CHECK(Time(Value::Double(1e300), TimeFormat::kEpochS) == "fails");
  CHECK(Time(Value::Double(1.8446744073709552e19), TimeFormat::kAuto) == "fails");
  CHECK(Time(Value::String("99999999999999999999"), TimeFormat::kAuto) == "fails");
  CHECK(Time(Value::String("1e400"), TimeFormat::kEpochS) == "fails");
  CHECK(Time(Value::Int(INT64_MAX), TimeFormat::kEpochNs) == At(INT64_MAX));
}

TEST_CASE("time: the decoder reads the first candidate field the event has", "[ingest][time]") {
  DecoderFixture f({});
  SECTION("@timestamp") {
    Decoded d = f.Decode(R"({"@timestamp":"2026-11-21T10:15:02Z"})");
    REQUIRE(d.result == "ok");
    CHECK(d.event->time == kT);
  }
  SECTION("timestamp") {
    Decoded d = f.Decode(R"({"timestamp":1795256102000})");
    REQUIRE(d.result == "ok");
    CHECK(d.event->time == kT);
  }
  SECTION("ts") {
    Decoded d = f.Decode(R"({"ts":"1795256102"})");
    REQUIRE(d.result == "ok");
    CHECK(d.event->time == kT);
  }
  SECTION("@timestamp before timestamp before ts, wherever they are in the record") {
    Decoded d = f.Decode(R"({"ts":1,"timestamp":2,"@timestamp":"2026-11-21T10:15:02Z"})");
    REQUIRE(d.result == "ok");
    CHECK(d.event->time == kT);
    Decoded d2 = f.Decode(R"({"ts":1,"timestamp":1795256102})");
    REQUIRE(d2.result == "ok");
    CHECK(d2.event->time == kT);
  }
  SECTION("a null field counts as absent") {
    Decoded d = f.Decode(R"({"@timestamp":null,"ts":1795256102})");
    REQUIRE(d.result == "ok");
    CHECK(d.event->time == kT);
  }
  SECTION("the first present field decides, even when it does not parse") {
    Decoded d = f.Decode(R"({"@timestamp":"soon","ts":1795256102})");
    CHECK(d.result == "no-time");
    CHECK(d.error == "time field '@timestamp' does not parse as auto time");
  }
}

TEST_CASE("time: configured fields and formats", "[ingest][time]") {
  TimestampOptions ts;
  ts.fields = {"event.created"};
  ts.format = TimeFormat::kEpochMs;
  DecoderFixture f({"event.action"}, ts);
  Decoded nested = f.Decode(R"({"event":{"action":"x","created":1795256102005}})");
  REQUIRE(nested.result == "ok");
  CHECK(nested.event->time == kT + 5 * kMillisecond);
  Decoded flat = f.Decode(R"({"event.created":"1795256102005"})");
  REQUIRE(flat.result == "ok");
  CHECK(flat.event->time == kT + 5 * kMillisecond);
  // The default candidates are not consulted any more.
  Decoded other = f.Decode(R"({"@timestamp":"2026-11-21T10:15:02Z"})");
  CHECK(other.result == "no-time");
  CHECK(other.error == "no time field (event.created)");
  Decoded rfc = f.Decode(R"({"event":{"created":"2026-11-21T10:15:02Z"}})");
  CHECK(rfc.result == "no-time");
  CHECK(rfc.error == "time field 'event.created' does not parse as epoch_ms time");
}

TEST_CASE("time: unparsable time names the field and the format", "[ingest][time]") {
  DecoderFixture f({"a"});
  for (const char* record : {
           R"({"@timestamp":"yesterday"})",
           R"({"@timestamp":true})",
           R"({"@timestamp":{"sec":1}})",
           R"({"@timestamp":[1795256102]})",
           R"({"@timestamp":""})",
           R"({"@timestamp":1e300})",
       }) {
    INFO(record);
    Decoded d = f.Decode(record);
    CHECK(d.result == "no-time");
    CHECK(d.error == "time field '@timestamp' does not parse as auto time");
  }
  TimestampOptions rfc;
  rfc.format = TimeFormat::kRfc3339;
  DecoderFixture g({}, rfc);
  Decoded d = g.Decode(R"({"ts":1795256102})");
  CHECK(d.result == "no-time");
  CHECK(d.error == "time field 'ts' does not parse as rfc3339 time");
}

TEST_CASE("time: a missing time lists the candidates", "[ingest][time]") {
  DecoderFixture f({"a"});
  Decoded d = f.Decode(R"({"a":1,"time":"2026-11-21T10:15:02Z","meta":{"ts":1}})");
  CHECK(d.result == "no-time");
  CHECK(d.error == "no time field (@timestamp, timestamp, ts)");
  // The fields were decoded all the same.
  CHECK(f.Field(d, "a") == "int 1");
  Decoded empty = f.Decode("{}");
  CHECK(empty.result == "no-time");
  CHECK(empty.error == "no time field (@timestamp, timestamp, ts)");
}

TEST_CASE("time: event identities are stable and tell records apart", "[ingest][time]") {
  CHECK(EventIdentity("events.jsonl", 0) == EventIdentity("events.jsonl", 0));
  CHECK(EventIdentity("events.jsonl", 0) != EventIdentity("events.jsonl", 1));
  CHECK(EventIdentity("events.jsonl", 120) != EventIdentity("other.jsonl", 120));
  CHECK(EventIdentity("", 0) != EventIdentity("", 1));
}

}  // namespace
}  // namespace vigil::ingest::testing
