// LineReader over real files: line numbers, byte offsets, CRLF, a last line without a
// newline, Seek, over-long lines and I/O errors.
#include "vigil/ingest/line_reader.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace vigil::ingest {
namespace {

using vigil::testing::TempDir;

// Every line as "number@offset:text" ("number@offset:<too long>" for skipped ones), then
// "end" or "error: <message>".
std::vector<std::string> ReadAll(LineReader* reader) {
  std::vector<std::string> out;
  LineReader::Line line;
  Status st;
  while (reader->Next(&line, &st)) {
    std::string text = line.too_long ? "<too long>" : std::string(line.text);
    out.push_back(std::to_string(line.number) + "@" + std::to_string(line.offset) + ":" + text);
  }
  out.push_back(st.ok() ? "end" : "error: " + st.message());
  return out;
}

std::vector<std::string> ReadFile(const std::string& content) {
  TempDir dir;
  std::string path = dir.Write("events.jsonl", content);
  LineReader reader;
  Status st = reader.Open(path);
  REQUIRE(st.ok());
  return ReadAll(&reader);
}

using Lines = std::vector<std::string>;

TEST_CASE("lines: numbers and byte offsets", "[ingest][lines]") {
  CHECK(ReadFile("a\nbb\n\nccc\n") == Lines{"1@0:a", "2@2:bb", "3@5:", "4@6:ccc", "end"});
}

TEST_CASE("lines: the last line may lack its newline", "[ingest][lines]") {
  CHECK(ReadFile("a\nlast") == Lines{"1@0:a", "2@2:last", "end"});
  CHECK(ReadFile("only") == Lines{"1@0:only", "end"});
}

TEST_CASE("lines: empty files and empty lines", "[ingest][lines]") {
  CHECK(ReadFile("") == Lines{"end"});
  CHECK(ReadFile("\n") == Lines{"1@0:", "end"});
  CHECK(ReadFile("\n\n\n") == Lines{"1@0:", "2@1:", "3@2:", "end"});
  CHECK(ReadFile("\r\n") == Lines{"1@0:", "end"});
}

TEST_CASE("lines: CRLF line ends lose their CR", "[ingest][lines]") {
  CHECK(ReadFile("a\r\nbb\r\n") == Lines{"1@0:a", "2@3:bb", "end"});
  CHECK(ReadFile("a\r\nlast\r") == Lines{"1@0:a", "2@3:last", "end"});
  // Only the one CR before the newline; others are data.
  CHECK(ReadFile("a\r\r\nb\rc\n") == Lines{"1@0:a\r", "2@4:b\rc", "end"});
}

TEST_CASE("lines: position is just past the last line returned", "[ingest][lines]") {
  TempDir dir;
  LineReader reader;
  REQUIRE(reader.Open(dir.Write("f", "ab\r\ncd\nef")).ok());
  LineReader::Line line;
  Status st;
  CHECK(reader.position() == 0);
  REQUIRE(reader.Next(&line, &st));
  CHECK(reader.position() == 4);
  REQUIRE(reader.Next(&line, &st));
  CHECK(reader.position() == 7);
  REQUIRE(reader.Next(&line, &st));
  CHECK(line.text == "ef");
  CHECK(reader.position() == 9);
  CHECK_FALSE(reader.Next(&line, &st));
  CHECK(st.ok());
  CHECK(reader.position() == 9);
}

TEST_CASE("lines: Seek resumes at a line start with its number", "[ingest][lines]") {
  TempDir dir;
  std::string path = dir.Write("f", "one\ntwo\nthree\nfour");
  LineReader reader;
  REQUIRE(reader.Open(path).ok());
  LineReader::Line line;
  Status st;
  REQUIRE(reader.Next(&line, &st));
  REQUIRE(reader.Next(&line, &st));
  uint64_t resume = reader.position();  // the start of "three"
  CHECK(resume == 8);

  SECTION("a fresh reader resumes where the last one stopped") {
    LineReader again;
    REQUIRE(again.Open(path).ok());
    REQUIRE(again.Seek(resume, 2).ok());
    CHECK(ReadAll(&again) == Lines{"3@8:three", "4@14:four", "end"});
  }
  SECTION("a reader read to the end can go back") {
    CHECK(ReadAll(&reader) == Lines{"3@8:three", "4@14:four", "end"});
    REQUIRE(reader.Seek(0, 0).ok());
    CHECK(ReadAll(&reader) == Lines{"1@0:one", "2@4:two", "3@8:three", "4@14:four", "end"});
  }
  SECTION("seeking past the end gives no lines") {
    REQUIRE(reader.Seek(100, 10).ok());
    CHECK(ReadAll(&reader) == Lines{"end"});
  }
}

TEST_CASE("lines: a missing file is an error that names it", "[ingest][lines]") {
  TempDir dir;
  LineReader reader;
  Status st = reader.Open(dir.path() + "/missing.jsonl");
  CHECK_FALSE(st.ok());
  CHECK(st.code() == Status::Code::kIOError);
  CHECK_THAT(st.message(), Catch::Contains("missing.jsonl") && Catch::Contains("No such file"));
}

TEST_CASE("lines: reading a directory ends with an error that names it", "[ingest][lines]") {
  TempDir dir;
  LineReader reader;
  Status st = reader.Open(dir.path());
  if (st.ok()) {
    Lines got = ReadAll(&reader);
    REQUIRE(got.size() == 1);
    CHECK_THAT(got[0], Catch::StartsWith("error: " + dir.path()));
  } else {
    CHECK_THAT(st.message(), Catch::Contains(dir.path()));
  }
}

TEST_CASE("lines: many lines across buffer refills keep exact offsets", "[ingest][lines]") {
  std::string content;
  std::vector<uint64_t> offsets;
  for (int i = 0; i < 40000; ++i) {
    offsets.push_back(content.size());
    content += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 97, 'x') + "\"}";
    content += (i % 3 == 0) ? "\r\n" : "\n";
  }
  REQUIRE(content.size() > (2u << 20));  // more than the first buffer
  TempDir dir;
  LineReader reader;
  REQUIRE(reader.Open(dir.Write("big", content)).ok());
  LineReader::Line line;
  Status st;
  size_t n = 0, mismatches = 0;
  while (reader.Next(&line, &st)) {
    std::string want =
        "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + std::string(n % 97, 'x') + "\"}";
    if (line.number != n + 1 || line.offset != offsets[n] || line.text != want) ++mismatches;
    ++n;
  }
  CHECK(st.ok());
  CHECK(n == 40000);
  CHECK(mismatches == 0);
  CHECK(reader.position() == content.size());
}

TEST_CASE("lines: a long line grows the buffer and arrives whole", "[ingest][lines]") {
  std::string big(3u << 20, 'y');
  TempDir dir;
  LineReader reader;
  REQUIRE(reader.Open(dir.Write("f", "a\n" + big + "\nb\n")).ok());
  LineReader::Line line;
  Status st;
  REQUIRE(reader.Next(&line, &st));
  REQUIRE(reader.Next(&line, &st));
  CHECK_FALSE(line.too_long);
  CHECK(line.number == 2);
  CHECK(line.text.size() == big.size());
  CHECK(line.text == big);
  REQUIRE(reader.Next(&line, &st));
  CHECK(line.text == "b");
  CHECK(line.offset == 2 + big.size() + 1);
}

TEST_CASE("lines: lines over the cap are skipped and reported", "[ingest][lines]") {
  const size_t cap = LineReader::kMaxLine;
  TempDir dir;
  SECTION("followed by more lines") {
    std::string content = "first\n" + std::string(cap + 10, 'z') + "\nnext\n";
    LineReader reader;
    REQUIRE(reader.Open(dir.Write("f", content)).ok());
    std::string next_offset = std::to_string(6 + cap + 10 + 1);
    CHECK(ReadAll(&reader) ==
          Lines{"1@0:first", "2@6:<too long>", "3@" + next_offset + ":next", "end"});
  }
  SECTION("twice the cap and more") {
    std::string content = std::string(2 * cap + 3, 'z') + "\nnext";
    LineReader reader;
    REQUIRE(reader.Open(dir.Write("f", content)).ok());
    std::string next_offset = std::to_string(2 * cap + 4);
    CHECK(ReadAll(&reader) == Lines{"1@0:<too long>", "2@" + next_offset + ":next", "end"});
  }
  SECTION("as the last line, without a newline") {
    for (size_t extra : {size_t{1}, size_t{5}}) {
      INFO("line of cap + " << extra);
      LineReader reader;
      REQUIRE(reader.Open(dir.Write("f", "a\n" + std::string(cap + extra, 'z'))).ok());
      CHECK(ReadAll(&reader) == Lines{"1@0:a", "2@2:<too long>", "end"});
    }
  }
  SECTION("a line of exactly the cap is not too long") {
    std::string exact(cap, 'e');
    LineReader reader;
    REQUIRE(reader.Open(dir.Write("f", exact + "\nafter\n")).ok());
    LineReader::Line line;
    Status st;
    REQUIRE(reader.Next(&line, &st));
    CHECK_FALSE(line.too_long);
    CHECK(line.text.size() == cap);
    REQUIRE(reader.Next(&line, &st));
    CHECK(line.text == "after");
    CHECK(line.offset == cap + 1);
  }
  SECTION("nor is one of exactly the cap at the end without a newline") {
    LineReader reader;
    REQUIRE(reader.Open(dir.Write("f", std::string(cap, 'e'))).ok());
    LineReader::Line line;
    Status st;
    REQUIRE(reader.Next(&line, &st));
    CHECK_FALSE(line.too_long);
    CHECK(line.text.size() == cap);
    CHECK_FALSE(reader.Next(&line, &st));
    CHECK(st.ok());
  }
}

}  // namespace
}  // namespace vigil::ingest
