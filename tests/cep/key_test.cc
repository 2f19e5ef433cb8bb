#include <catch2/catch.hpp>

#include "vigil/cep/event.h"
#include "vigil/cep/key.h"

using namespace vigil::cep;

TEST_CASE("keys encode field values and render as JSON", "[key]") {
  Event e;
  e.ResetFields(3);
  e.SetField(0, Value::String(e.CopyString("10.0.0.9")));
  e.SetField(1, Value::Int(22));
  std::string key;
  REQUIRE(EncodeKey(e, {0, 1}, &key));
  std::string json;
  AppendKeyJson(key, {"source.ip", "destination.port"}, &json);
  CHECK(json == R"({"source.ip":"10.0.0.9","destination.port":22})");
  CHECK(KeyValueAt(key, 1).i == 22);
  // A missing key field: the rule does not see the event.
  CHECK_FALSE(EncodeKey(e, {0, 2}, &key));
  // No key fields: one global key.
  REQUIRE(EncodeKey(e, {}, &key));
  json.clear();
  AppendKeyJson(key, {}, &json);
  CHECK(json == "{}");
}

TEST_CASE("1 and 1.0 are the same key, the string 1 is not", "[key]") {
  Event a, b, c;
  a.ResetFields(1);
  b.ResetFields(1);
  c.ResetFields(1);
  a.SetField(0, Value::Int(1));
  b.SetField(0, Value::Double(1.0));
  c.SetField(0, Value::String(c.CopyString("1")));
  std::string ka, kb, kc;
  EncodeKey(a, {0}, &ka);
  EncodeKey(b, {0}, &kb);
  EncodeKey(c, {0}, &kc);
  CHECK(ka == kb);
  CHECK(ka != kc);
}
