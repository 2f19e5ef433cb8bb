// The JSON decoder: which fields it materialises, how each JSON type becomes a Value, how
// nested and dotted keys reach a path, and what it refuses.
#include <catch2/catch.hpp>
#include <string>

#include "decode_support.h"

namespace vigil::ingest::testing {
namespace {

TEST_CASE("json: every JSON value type becomes the matching Value", "[ingest][json]") {
  DecoderFixture f({"s", "i", "neg", "max", "min", "big", "f", "exp", "t", "no", "nul", "obj",
                    "arr", "empty_obj", "empty_arr"});
  Decoded d = f.Decode(R"({"ts":1,"s":"abc","i":42,"neg":-7,"max":9223372036854775807,)"
                       R"("min":-9223372036854775808,"big":18446744073709551615,"f":1.5,"exp":1e3,)"
                       R"("t":true,"no":false,"nul":null,"obj":{"x": [1, 2], "y": {"z": null}},)"
                       R"("arr":[1, "two", {"3": null}],"empty_obj":{},"empty_arr":[]})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "s") == "string abc");
  CHECK(f.Field(d, "i") == "int 42");
  CHECK(f.Field(d, "neg") == "int -7");
  CHECK(f.Field(d, "max") == "int 9223372036854775807");
  CHECK(f.Field(d, "min") == "int -9223372036854775808");
  // Above int64: a double, the nearest one.
  CHECK(f.Field(d, "big") == "double 18446744073709551616");
  CHECK(f.Field(d, "f") == "double 1.5");
  CHECK(f.Field(d, "exp") == "double 1000");
  CHECK(f.Field(d, "t") == "true");
  CHECK(f.Field(d, "no") == "false");
  CHECK(f.Field(d, "nul") == "null");
  // Objects and arrays are kept as their JSON text, spacing included.
  CHECK(f.Field(d, "obj") == R"(json {"x": [1, 2], "y": {"z": null}})");
  CHECK(f.Field(d, "arr") == R"(json [1, "two", {"3": null}])");
  CHECK(f.Field(d, "empty_obj") == "json {}");
  CHECK(f.Field(d, "empty_arr") == "json []");
}

TEST_CASE("json: one above int64 max is a double", "[ingest][json]") {
  DecoderFixture f({"n"});
  Decoded d = f.Decode(R"({"ts":1,"n":9223372036854775808})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "n") == "double 9223372036854775808");
}

TEST_CASE("json: strings are unescaped", "[ingest][json]") {
  DecoderFixture f({"s", "u", "e"});
  Decoded d =
      f.Decode(R"({"ts":1,"s":"q\"b\\s\/n\nt\tr\r","u":"caf\u00e9 \ud83d\ude00 \u00001","e":""})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "s") == "string q\"b\\s/n\nt\tr\r");
  CHECK(f.Field(d, "u") == std::string("string caf\xc3\xa9 \xf0\x9f\x98\x80 ") + '\0' + "1");
  CHECK(f.Field(d, "e") == "string ");
}

TEST_CASE("json: raw UTF-8 passes through untouched", "[ingest][json]") {
  DecoderFixture f({"name"});
  Decoded d = f.Decode("{\"ts\":1,\"name\":\"J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac\"}");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "name") == "string J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac");
}

TEST_CASE("json: only registered fields are materialised", "[ingest][json]") {
  DecoderFixture f({"user.name", "absent"});
  Decoded d =
      f.Decode(R"({"ts":1,"user":{"name":"root","id":0},"host":{"name":"web1"},"name":"top"})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "user.name") == "string root");
  CHECK(f.Field(d, "absent") == "null");
  // Every registered path has a slot; nothing else does.
  CHECK(d.event->field_count() == f.registry().size());
  CHECK_FALSE(f.registry().Find("host.name").has_value());
  CHECK_FALSE(f.registry().Find("user.id").has_value());
  // Ids past the table read as null.
  CHECK(d.event->field(static_cast<cep::FieldId>(f.registry().size() + 5)).is_null());
}

TEST_CASE("json: the decoder registers the timestamp fields itself", "[ingest][json]") {
  DecoderFixture f({"a"});
  CHECK(f.registry().Find("@timestamp").has_value());
  CHECK(f.registry().Find("timestamp").has_value());
  CHECK(f.registry().Find("ts").has_value());
  Decoded d = f.Decode(R"({"ts":1700000000,"a":1})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "ts") == "int 1700000000");
}

TEST_CASE("json: raw bytes are the record without surrounding blanks", "[ingest][json]") {
  DecoderFixture f({"a"});
  Decoded d = f.Decode(" \t{\"ts\":1, \"a\": \"x\"}\t \r\n");
  REQUIRE(d.result == "ok");
  CHECK(d.event->raw() == "{\"ts\":1, \"a\": \"x\"}");
  CHECK(d.event->raw_is_json);
  CHECK(f.Field(d, "a") == "string x");
}

TEST_CASE("json: nested, flat and mixed dotted keys reach the same path", "[ingest][json]") {
  DecoderFixture f({"source.ip", "source.port", "a.b.c"});
  SECTION("nested") {
    Decoded d = f.Decode(R"({"ts":1,"source":{"ip":"10.0.0.9","port":22}})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "string 10.0.0.9");
    CHECK(f.Field(d, "source.port") == "int 22");
  }
  SECTION("flat") {
    Decoded d = f.Decode(R"({"ts":1,"source.ip":"10.0.0.9","source.port":22})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "string 10.0.0.9");
    CHECK(f.Field(d, "source.port") == "int 22");
  }
  SECTION("mixed in one record") {
    Decoded d = f.Decode(R"({"ts":1,"source":{"ip":"10.0.0.9"},"source.port":22})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "string 10.0.0.9");
    CHECK(f.Field(d, "source.port") == "int 22");
  }
  SECTION("a dotted key inside an object, and an object under a dotted key") {
    Decoded d1 = f.Decode(R"({"ts":1,"a":{"b.c":1}})");
    Decoded d2 = f.Decode(R"({"ts":1,"a.b":{"c":2}})");
    Decoded d3 = f.Decode(R"({"ts":1,"a.b.c":3})");
    CHECK(f.Field(d1, "a.b.c") == "int 1");
    CHECK(f.Field(d2, "a.b.c") == "int 2");
    CHECK(f.Field(d3, "a.b.c") == "int 3");
  }
  SECTION("escaped key characters are unescaped before matching") {
    Decoded d = f.Decode(R"({"ts":1,"sou\u0072ce":{"\u0069p":"1.2.3.4"}})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "string 1.2.3.4");
  }
  SECTION("unregistered siblings, however deep, are skipped") {
    Decoded d = f.Decode(
        R"({"ts":1,"source":{"geo":{"x":[1,{"ip":"no"}],"ip":"no"},"ip":"yes"},"ip":"no"})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "string yes");
  }
  SECTION("a scalar where an object is expected leaves the deeper path null") {
    Decoded d = f.Decode(R"({"ts":1,"source":"10.0.0.9","a":[{"b":{"c":1}}]})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "null");
    CHECK(f.Field(d, "a.b.c") == "null");
  }
  SECTION("keys that only share a prefix do not match") {
    Decoded d = f.Decode(R"({"ts":1,"sourc":{"ip":"x"},"source.ipv6":"y","source.":"z"})");
    REQUIRE(d.result == "ok");
    CHECK(f.Field(d, "source.ip") == "null");
  }
}

TEST_CASE("json: a field registered with a deeper path gets both", "[ingest][json]") {
  DecoderFixture f({"a", "a.b", "a.c.d", "a.obj"});
  Decoded d = f.Decode(R"({"ts":1,"a":{"b":1,"c":{"d":"deep"},"obj":{"k":[true]},"z":0}})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "a") == R"(json {"b":1,"c":{"d":"deep"},"obj":{"k":[true]},"z":0})");
  CHECK(f.Field(d, "a.b") == "int 1");
  CHECK(f.Field(d, "a.c.d") == "string deep");
  CHECK(f.Field(d, "a.obj") == R"(json {"k":[true]})");

  // The deeper values live in the event, not in the decoder: decoding more records with the
  // same decoder leaves them intact (ASan builds check the memory too).
  Decoded other = f.Decode(R"({"ts":1,"a":{"b":2,"c":{"d":"other"},"obj":[]}})");
  REQUIRE(other.result == "ok");
  CHECK(f.Field(d, "a.c.d") == "string deep");
  CHECK(f.Field(d, "a.obj") == R"(json {"k":[true]})");
  CHECK(f.Field(other, "a.c.d") == "string other");
  CHECK(f.Field(other, "a.obj") == "json []");

  SECTION("a flat key reaches the deeper path without the parent") {
    Decoded flat = f.Decode(R"({"ts":1,"a.b":5})");
    REQUIRE(flat.result == "ok");
    CHECK(f.Field(flat, "a") == "null");
    CHECK(f.Field(flat, "a.b") == "int 5");
  }
  SECTION("a scalar parent is kept as a scalar") {
    Decoded scalar = f.Decode(R"({"ts":1,"a":"text"})");
    REQUIRE(scalar.result == "ok");
    CHECK(f.Field(scalar, "a") == "string text");
    CHECK(f.Field(scalar, "a.b") == "null");
  }
}

TEST_CASE("json: values stay valid after the decoder moves on", "[ingest][json]") {
  DecoderFixture f({"s", "o"});
  Decoded first = f.Decode(R"({"ts":1,"s":"first \"escaped\"","o":{"k":"v"}})");
  for (int i = 0; i < 50; ++i) {
    Decoded d = f.Decode(R"({"ts":2,"s":"later string that is longer","o":[0,1,2,3,4,5]})");
    REQUIRE(d.result == "ok");
  }
  CHECK(f.Field(first, "s") == "string first \"escaped\"");
  CHECK(f.Field(first, "o") == R"(json {"k":"v"})");
}

TEST_CASE("json: with duplicate keys the last one wins", "[ingest][json]") {
  DecoderFixture f({"k", "source.ip"});
  Decoded d =
      f.Decode(R"({"ts":1,"k":"first","k":2,"source":{"ip":"a"},"source":{"ip":"b"},"k":"last"})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "k") == "string last");
  CHECK(f.Field(d, "source.ip") == "string b");

  Decoded mixed = f.Decode(R"({"ts":1,"source.ip":"flat","source":{"ip":"nested"}})");
  CHECK(f.Field(mixed, "source.ip") == "string nested");
}

TEST_CASE("json: empty and blank records are skipped", "[ingest][json]") {
  DecoderFixture f({"a"});
  for (const char* blank : {"", " ", "\t\t", "\r\n", "\n", "  \r\n"}) {
    INFO("record: '" << blank << "'");
    Decoded d = f.Decode(blank);
    CHECK(d.result == "skip");
    CHECK(d.error.empty());
  }
}

TEST_CASE("json: malformed records are refused with a reason", "[ingest][json]") {
  DecoderFixture f({"a", "b"});
  struct Case {
    std::string record;
    std::string error_contains;
  };
  const std::vector<Case> cases = {
      {R"({"ts":1,"a":1)", "malformed JSON"},
      {R"({"ts":1,"a":{"b":1)", "malformed JSON"},
      {R"({"ts":1,"a":"unterminated})", "malformed JSON"},
      {R"({"ts":1,"a" 1})", "malformed JSON"},
      {R"({"ts":1,"a":tru})", "malformed JSON"},
      {R"({"ts":1,"a":01})", "malformed JSON"},
      {R"({"ts":1,"a":1,})", "malformed JSON"},
      {R"({ts:1})", "malformed JSON"},
      {"{", "malformed JSON"},
      {"}", "not a JSON object"},
      {"not json at all", "not a JSON object"},
      {R"([1])", "not a JSON object"},
      {R"([{"ts":1}])", "not a JSON object"},
      {R"("x")", "not a JSON object"},
      {"42", "not a JSON object"},
      {"true", "not a JSON object"},
      {"null", "not a JSON object"},
      // Trailing garbage: simdjson finds most of it before the object is read.
      {R"({"ts":1,"a":1} x)", "malformed JSON"},
      {R"({"ts":1,"a":1},)", "malformed JSON"},
      {R"({"ts":1,"a":1}{"ts":2})", "malformed JSON: trailing content after the object"},
      {R"({"ts":1,"a":1} {})", "malformed JSON: trailing content after the object"},
  };
  for (const Case& c : cases) {
    INFO("record: " << c.record);
    Decoded d = f.Decode(c.record);
    CHECK(d.result == "malformed");
    CHECK_THAT(d.error, Catch::Contains(c.error_contains));
  }
}

TEST_CASE("json: invalid UTF-8 anywhere in the record is malformed", "[ingest][json]") {
  DecoderFixture f({"a"});
  for (const std::string& record : {
           std::string("{\"ts\":1,\"a\":\"\xff\"}"),          // in a registered string
           std::string("{\"ts\":1,\"other\":\"caf\xe9\"}"),   // in a skipped value
           std::string("{\"ts\":1,\"k\xc3\":1}"),             // in a key
           std::string("{\"ts\":1,\"a\":\"\xed\xa0\x80\"}"),  // an encoded surrogate
           std::string("{\"ts\":1,\"a\":\"\xc0\xaf\"}"),      // an overlong form
       }) {
    Decoded d = f.Decode(record);
    CHECK(d.result == "malformed");
    CHECK_THAT(d.error, Catch::Contains("malformed JSON"));
  }
}

TEST_CASE("json: a malformed record does not spoil the next one", "[ingest][json]") {
  DecoderFixture f({"a"});
  CHECK(f.Decode(R"({"ts":1,"a":{"x":)").result == "malformed");
  CHECK(f.Decode(R"([1,2)").result == "malformed");
  Decoded d = f.Decode(R"({"ts":1,"a":"fine"})");
  REQUIRE(d.result == "ok");
  CHECK(f.Field(d, "a") == "string fine");
}

TEST_CASE("json: the kernel has a name", "[ingest][json]") {
  std::string name = JsonKernelName();
  CHECK_FALSE(name.empty());
}

}  // namespace
}  // namespace vigil::ingest::testing
