#include <catch2/catch.hpp>

#include "vigil/cep/time.h"

using namespace vigil::cep;

TEST_CASE("durations parse in every unit and reject junk", "[time]") {
  CHECK(*ParseDuration("250ms") == 250 * kMillisecond);
  CHECK(*ParseDuration("30s") == 30 * kSecond);
  CHECK(*ParseDuration("5m") == 5 * kMinute);
  CHECK(*ParseDuration("2h") == 2 * kHour);
  CHECK(*ParseDuration("1d") == kDay);
  CHECK(*ParseDuration("1h30m") == 90 * kMinute);
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("5").ok());
  CHECK_FALSE(ParseDuration("5x").ok());
  CHECK_FALSE(ParseDuration("m5").ok());
  CHECK_FALSE(ParseDuration("99999999999999999999d").ok());
  CHECK(ParseDuration("5x").status().message().find("unit") != std::string::npos);
  CHECK(FormatDuration(90 * kMinute) == "1h30m");
  CHECK(FormatDuration(250 * kMillisecond) == "250ms");
}

TEST_CASE("RFC 3339 timestamps parse with fractions and offsets", "[time]") {
  Timestamp t = 0;
  REQUIRE(ParseRfc3339("2026-11-21T10:15:02.123Z", &t));
  CHECK(FormatRfc3339Millis(t) == "2026-11-21T10:15:02.123Z");
  REQUIRE(ParseRfc3339("2026-11-21T12:15:02+02:00", &t));
  CHECK(FormatRfc3339Millis(t) == "2026-11-21T10:15:02.000Z");
  REQUIRE(ParseRfc3339("1970-01-01T00:00:00.000000001Z", &t));
  CHECK(t == 1);
  REQUIRE(ParseRfc3339("2024-02-29 23:59:59Z", &t));
  CHECK_FALSE(ParseRfc3339("2023-02-29T00:00:00Z", &t));
  CHECK_FALSE(ParseRfc3339("2026-13-01T00:00:00Z", &t));
  CHECK_FALSE(ParseRfc3339("yesterday", &t));
  CHECK_FALSE(ParseRfc3339("2026-11-21T10:15:02Zjunk", &t));
  CHECK(FormatRfc3339Millis(-1) == "1969-12-31T23:59:59.999Z");
}
