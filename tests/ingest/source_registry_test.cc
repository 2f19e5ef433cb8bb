// The source registry and what every source shares: type names, option checks with key
// paths, the generated reference (docs/sources.md), positions, identities, dead letters,
// metadata fields on decoded events.
#include "vigil/ingest/source_registry.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "source_support.h"
#include "vigil/ingest/dead_letter.h"
#include "vigil/ingest/json_decoder.h"

namespace vigil::ingest {
namespace {

using testing::Options;

TEST_CASE("sources: the registered types", "[ingest][sources]") {
  CHECK(SourceTypeNames() == std::vector<std::string>{"kafka", "mqtt", "grpc", "file", "stdin"});
  CHECK(FindSourceType("kafka") != nullptr);
  CHECK(FindSourceType("amqp") == nullptr);
  CHECK(CheckSource(Options({{"type", "stdin"}}), "streams.default.source").ok());
  CHECK(CheckSource(Options({{"type", "grpc"}}), "streams.devices.source").ok());
  CHECK(CheckSource(Options({{"type", "file"}, {"path", "/var/log/auth.log"}}),
                    "streams.local.source")
            .ok());
  CHECK(CheckSource(Options({{"type", "kafka"}, {"brokers", "k:9092"}, {"topic", "t"}}),
                    "streams.auth.source")
            .ok());
  cep::ConfigNode mqtt =
      Options({{"type", "mqtt"}, {"url", "tcp://127.0.0.1:1883"}, {"topics", "a/#"}});
  CHECK(CheckSource(mqtt, "streams.sensors.source").ok());
  CHECK(CheckSource(Options({}), "streams.x.source").message() ==
        "streams.x.source.type: required (one of kafka, mqtt, grpc, file, stdin)");
  CHECK(CheckSource(cep::ConfigNode::Scalar("kafka"), "streams.x.source").message() ==
        "streams.x.source: expected a map with a `type`");
}

TEST_CASE("sources: errors carry the file position when the tree has one", "[ingest][sources]") {
  cep::ConfigNode m = cep::ConfigNode::Map(3, 13);
  m.Set("type", cep::ConfigNode::Scalar("kafka", 3, 21));
  m.Set("topic", cep::ConfigNode::Scalar("t", 3, 35));
  CHECK(CheckSource(m, "streams.auth.source").message() ==
        "3:13: streams.auth.source.brokers: required");
}

// docs/sources.md is the hand-written introduction, then everything after this marker is
// generated from the option tables. VIGIL_WRITE_DOCS=1 rewrites it.
constexpr const char* kMarker =
    "<!-- Generated from the option tables (SourcesReferenceMarkdown); do not edit below. -->\n";

TEST_CASE("sources: docs/sources.md is the generated reference", "[ingest][sources]") {
  const std::string path = std::string(VIGIL_SOURCE_DIR) + "/docs/sources.md";
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  size_t at = doc.find(kMarker);
  REQUIRE(at != std::string::npos);
  std::string generated = SourcesReferenceMarkdown();
  if (const char* w = std::getenv("VIGIL_WRITE_DOCS"); w && std::string(w) == "1") {
    std::ofstream out(path, std::ios::binary);
    out << doc.substr(0, at) << kMarker << "\n" << generated;
    return;
  }
  INFO(
      "regenerate with: VIGIL_WRITE_DOCS=1 build/release/tests/ingest_test 'sources: "
      "docs/sources.md is the generated reference'");
  CHECK(doc.substr(at + std::string(kMarker).size()) == "\n" + generated);
  CHECK(generated.find("### `kafka`") != std::string::npos);
  CHECK(generated.find("| `brokers` | string | required |") != std::string::npos);
  CHECK(generated.find("| `sasl.password_env / sasl.password_file` | secret |") !=
        std::string::npos);
  CHECK(generated.find("| `qos` | integer | `1` |") != std::string::npos);
  CHECK(generated.find("| `follow` | bool | `true` |") != std::string::npos);
}

TEST_CASE("sources: positions are readable name=value pairs", "[ingest][sources]") {
  std::string p = EncodePosition({{"dev", 2049}, {"ino", 77}, {"offset", 0}});
  CHECK(p == "dev=2049;ino=77;offset=0");
  uint64_t v = 99;
  CHECK(DecodePositionField(p, "ino", &v));
  CHECK(v == 77);
  CHECK(DecodePositionField(p, "offset", &v));
  CHECK(v == 0);
  CHECK_FALSE(DecodePositionField(p, "line", &v));
  CHECK_FALSE(DecodePositionField("offset=12x", "offset", &v));
  CHECK(PositionKey("auth", 3) == "auth/3");
}

TEST_CASE("sources: identities differ across partitions and positions, and repeat across runs",
          "[ingest][sources]") {
  Record a, b, c;
  a.partition = 0;
  a.position = 5;
  b.partition = 1;
  b.position = 5;
  c.partition = 0;
  c.position = 6;
  CHECK(RecordIdentity("auth", a) != RecordIdentity("auth", b));
  CHECK(RecordIdentity("auth", a) != RecordIdentity("auth", c));
  CHECK(RecordIdentity("auth", a) != RecordIdentity("other", a));
  CHECK(RecordIdentity("auth", a) == RecordIdentity("auth", a));
}

TEST_CASE("sources: dead letters are counted per stream, the first are logged, then every n-th",
          "[ingest][sources]") {
  testing::LogCapture logs;
  DeadLetterOptions o;
  o.log_first = 2;
  o.log_every = 3;
  o.keep = 2;
  o.sample_bytes = 4;
  DeadLetters dead(logs.fn(), o);
  for (int i = 1; i <= 6; ++i)
    dead.Add("auth", "partition 0 offset " + std::to_string(i), "not JSON", "garbage");
  dead.Add("local", "line 9 of x.log", "no time", "{}");
  CHECK(dead.count() == 7);
  CHECK(dead.count("auth") == 6);
  CHECK(dead.count("none") == 0);
  auto lines = logs.lines();
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "warning: streams.auth: dead letter at partition 0 offset 1: not JSON");
  CHECK(lines[1] ==
        "warning: streams.auth: dead letter at partition 0 offset 2: not JSON (2 so far); from now "
        "on one in 3 is logged");
  CHECK(lines[2] ==
        "warning: streams.auth: dead letter at partition 0 offset 3: not JSON (3 so far)");
  CHECK(lines[3] ==
        "warning: streams.auth: dead letter at partition 0 offset 6: not JSON (6 so far)");
  CHECK(lines[4] == "warning: streams.local: dead letter at line 9 of x.log: no time");
  auto recent = dead.recent();
  REQUIRE(recent.size() == 2);
  CHECK(recent[0].sample == "garb");
  CHECK(recent[1].where == "line 9 of x.log");
}

TEST_CASE("sources: metadata fields reach the decoded event only when a rule reads them",
          "[ingest][sources]") {
  Record r;
  r.data = R"({"ts":1700000000000,"mqtt":{"topic":"spoofed"},"temp":21})";
  r.metadata = {"site/7/sensors/temp"};
  cep::FieldRegistry fields;
  cep::FieldId topic = fields.Intern("mqtt.topic");
  cep::FieldId temp = fields.Intern("temp");
  TimestampOptions ts;
  ts.fields = {"ts"};
  auto decoder = NewJsonDecoder(&fields, ts);
  cep::Event e;
  std::string error;
  REQUIRE(decoder->Decode(r.data, &e, &error) == DecodeResult::kOk);
  CHECK(e.field(topic).s == "spoofed");
  MetadataBinder({"mqtt.topic"}, fields).Apply(r, &e);
  CHECK(e.field(topic).s == "site/7/sensors/temp");  // the broker's word, not the payload's
  CHECK(e.field(temp).i == 21);
  cep::FieldRegistry unread;
  unread.Intern("temp");
  CHECK(MetadataBinder({"mqtt.topic"}, unread).empty());
}

}  // namespace
}  // namespace vigil::ingest
