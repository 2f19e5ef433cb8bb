// Array fields through the whole path (decoder, shared predicates, dispatch index, NFA):
// a rule matches an event when any element of an array field satisfies it.
#include <catch2/catch.hpp>

#include "harness.h"

using vigil::testing::EngineHarness;

TEST_CASE("arrays: equality and in rules are dispatched by any element", "[engine][array]") {
  EngineHarness h(R"(
rules:
  - id: network
    key: [host]
    where: 'event.category == "network"'
  - id: web-or-file
    key: [host]
    where: 'event.category in ["web", "file"]'
  - id: private-peer
    key: [host]
    where: 'cidr_match(related.ip, "10.0.0.0/8") and event.type contains "conn"'
)");
  h.Feed(R"({"id": 1, "ts": 1, "host": "a", "event": {"category": ["network", "web"], "type": ["connection"]}, "related": {"ip": ["8.8.8.8", "10.1.2.3"]}})");
  h.Feed(R"({"id": 2, "ts": 2, "host": "a", "event": {"category": ["process"], "type": ["start"]}})");
  h.Feed(R"({"id": 3, "ts": 3, "host": "b", "event": {"category": "network"}})");  // a scalar still works
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{
                         R"(network {"host":"a"} [1] @1)",
                         R"(web-or-file {"host":"a"} [1] @1)",
                         R"(private-peer {"host":"a"} [1] @1)",
                         R"(network {"host":"b"} [3] @3)",
                     });
}

TEST_CASE("arrays: a pattern step on an array field", "[engine][array]") {
  EngineHarness h(R"(
rules:
  - id: auth-then-net
    key: [user]
    pattern:
      - step: auth
        where: 'event.category == "authentication"'
      - step: net
        where: 'event.category == "network"'
)");
  h.Feed(R"({"id": 1, "ts": 1, "user": "u", "event": {"category": ["authentication", "session"]}})");
  h.Feed(R"({"id": 2, "ts": 2, "user": "u", "event": {"category": ["file"]}})");
  h.Feed(R"({"id": 3, "ts": 3, "user": "u", "event": {"category": ["network"]}})");
  h.Finish();
  CHECK(h.matches == std::vector<std::string>{R"(auth-then-net {"user":"u"} [1,3] @3)"});
}
