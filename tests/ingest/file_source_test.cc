// The file source: reading to the end, following a growing file, rotation (rename + create,
// copytruncate, rotated while stopped), resuming from a checkpoint, over-long lines,
// back-pressure, and option errors with their key paths.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "source_support.h"
#include "support/temp_dir.h"
#include "vigil/ingest/dead_letter.h"

namespace vigil::ingest {
namespace {

using testing::Checkpoint;
using testing::Consumer;
using testing::Eventually;
using testing::MakeSource;
using testing::Options;
using vigil::testing::TempDir;

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f << text;
}

cep::ConfigNode FileOptions(const std::string& path,
                            std::vector<std::pair<std::string, std::string>> extra = {}) {
  extra.insert(extra.begin(), {"type", "file"});
  extra.emplace_back("path", path);
  extra.emplace_back("poll_interval", "5ms");
  return Options(extra);
}

struct Harness {
  explicit Harness(const cep::ConfigNode& options, cep::StateStore* store = nullptr,
                   QueueLimits limits = QueueLimits(), const cep::Clock* clock = nullptr)
      : queue(limits), consumer(&queue) {
    SourceContext ctx;
    ctx.stream = "local";
    ctx.clock = clock;
    ctx.store = store;
    ctx.log = logs.fn();
    ctx.dead_letters = &dead;
    source = MakeSource(options, ctx);
    if (store) REQUIRE(source->Seek(*store).ok());
    uint32_t index = queue.AddSource("local");
    consumer.sources = {source.get()};
    REQUIRE(source->Start(&queue, index).ok());
  }
  ~Harness() { source->Stop(); }

  // "line:text" of every record so far.
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (const Record& r : consumer.data)
      out.push_back(std::to_string(r.line) + ":" + r.data);
    return out;
  }

  testing::LogCapture logs;
  DeadLetters dead{logs.fn()};
  RecordQueue queue;
  Consumer consumer;
  std::unique_ptr<Source> source;
};

using Lines = std::vector<std::string>;

TEST_CASE("file: follow false reads every line, then the stream ends", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("auth.log", "one\ntwo\r\n\nlast without newline");
  Harness h(FileOptions(path, {{"follow", "false"}}));
  REQUIRE(h.consumer.PopEnd());
  CHECK(h.Lines() == Lines{"1:one", "2:two", "3:", "4:last without newline"});
  // Positions are byte offsets; each record's end is the next one's position.
  const auto& d = h.consumer.data;
  CHECK(d[0].position == 0);
  CHECK(d[1].position == 4);
  CHECK(d[1].end == 9);
  CHECK(d[2].position == 9);
  CHECK(d[3].end == 10 + std::string("last without newline").size());
  CHECK(Eventually([&] { return h.source->status().state == SourceState::kFinished; }));
  CHECK(h.source->DescribePosition(d[1]) == "line 2 of " + path + " (byte 4)");
}

TEST_CASE("file: a checkpoint's position makes the next start resume after it", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("a.log", "l1\nl2\nl3\n");
  auto store = cep::NewMemoryStore();
  // Three lines read, two processed when the checkpoint is taken.
  {
    Harness h(FileOptions(path, {{"follow", "false"}}), nullptr);
    h.consumer.mark_processed = false;
    REQUIRE(h.consumer.PopEnd());
    h.source->Processed(h.consumer.data[0]);
    h.source->Processed(h.consumer.data[1]);
    Checkpoint(store.get(), {h.source.get()});
  }
  std::string pos = testing::Get(*store, cep::StateFamily::kPositions, "local/0");
  CHECK(pos.find("offset=6;line=2;pos=6") != std::string::npos);
  Append(path, "l4\n");
  Harness again(FileOptions(path, {{"follow", "false"}}), store.get());
  REQUIRE(again.consumer.PopEnd());
  CHECK(again.Lines() == Lines{"3:l3", "4:l4"});
  CHECK(again.consumer.data[0].position == 6);
}

TEST_CASE("file: following a file sees appended lines and waits for a partial line to end",
          "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("f.log", "a\n");
  Harness h(FileOptions(path));
  REQUIRE(h.consumer.PopData(1));
  Append(path, "b\nhalf");
  REQUIRE(h.consumer.PopData(2));
  Append(path, " done\n");
  REQUIRE(h.consumer.PopData(3));
  CHECK(h.Lines() == Lines{"1:a", "2:b", "3:half done"});
  CHECK(h.source->status().state == SourceState::kRunning);
}

TEST_CASE("file: rename and create is followed, with positions that keep growing",
          "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("app.log", "old1\nold2\n");
  Harness h(FileOptions(path, {{"rotate_wait", "1h"}}));
  REQUIRE(h.consumer.PopData(2));
  std::filesystem::rename(path, path + ".1");
  Append(path + ".1", "old3 written after the rename\n");  // the writer has not reopened yet
  REQUIRE(h.consumer.PopData(3));
  Append(path, "new1\nnew2\n");  // the writer reopened: the new file has data
  REQUIRE(h.consumer.PopData(5));
  CHECK(h.Lines() ==
        Lines{"1:old1", "2:old2", "3:old3 written after the rename", "1:new1", "2:new2"});
  std::set<uint64_t> positions;
  uint64_t last = 0;
  for (const Record& r : h.consumer.data) {
    CHECK((positions.empty() || r.position > last));
    last = r.position;
    positions.insert(r.position);
  }
  // new1 starts where the old file ended.
  CHECK(h.consumer.data[3].position ==
        std::string("old1\nold2\nold3 written after the rename\n").size());
}

TEST_CASE("file: after rotate_wait the reader moves to the new file even while it is empty",
          "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("app.log", "old\n");
  cep::ManualClock clock(1'000'000 * cep::kSecond);
  Harness h(FileOptions(path, {{"rotate_wait", "10s"}}), nullptr, QueueLimits(), &clock);
  REQUIRE(h.consumer.PopData(1));
  std::filesystem::rename(path, path + ".1");
  dir.Write("app.log", "");  // created, but the writer has not reopened yet
  Append(path + ".1", "late in the old file\n");
  REQUIRE(h.consumer.PopData(2));  // still read: the new file is empty
  // Time passes (the injected clock) until the reader gives up on the old file.
  REQUIRE(Eventually([&] {
    clock.Advance(11 * cep::kSecond);
    return h.logs.Contains("info: streams.local (file " + path +
                           "): rotated: reading the new file");
  }));
  Append(path, "new\n");
  REQUIRE(h.consumer.PopData(3));
  CHECK(h.Lines() == Lines{"1:old", "2:late in the old file", "1:new"});
}

TEST_CASE("file: copytruncate starts the same file again from its beginning", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("app.log", "before1\nbefore2\n");
  Harness h(FileOptions(path));
  REQUIRE(h.consumer.PopData(2));
  std::filesystem::copy_file(path, path + ".1");
  std::filesystem::resize_file(path, 0);
  REQUIRE(Eventually([&] {
    h.consumer.PopOnce(std::chrono::milliseconds(10));
    return h.source->status().partitions.at(0).next > 0;
  }));
  Append(path, "after\n");
  REQUIRE(h.consumer.PopData(3));
  CHECK(h.Lines() == Lines{"1:before1", "2:before2", "1:after"});
  CHECK(h.consumer.data[2].position == 16);  // continues after the 16 bytes read before
}

TEST_CASE("file: rotated while stopped, the rest of the old file is read first", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("app.log", "a\nb\n");
  auto store = cep::NewMemoryStore();
  {
    Harness h(FileOptions(path), store.get());
    REQUIRE(h.consumer.PopData(2));
    h.source->Stop();
    Checkpoint(store.get(), {h.source.get()});
  }
  Append(path, "c\n");  // written before the rotation
  std::filesystem::rename(path, path + ".1");
  Append(path, "d\n");
  Harness h(FileOptions(path), store.get());
  REQUIRE(h.consumer.PopData(2));
  CHECK(h.Lines() == Lines{"3:c", "1:d"});
  CHECK(h.logs.Contains("rotated while stopped: reading the rest of " + path + ".1 first"));
}

TEST_CASE("file: an over-long line is dead-lettered with its line number and the stream goes on",
          "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("big.log", "ok1\n" + std::string(5000, 'x') + "\nok2\n");
  Harness h(FileOptions(path, {{"follow", "false"}, {"max_line", "1KB"}}));
  REQUIRE(h.consumer.PopEnd());
  CHECK(h.Lines() == Lines{"1:ok1", "3:ok2"});
  CHECK(h.dead.count("local") == 1);
  REQUIRE(h.dead.recent().size() == 1);
  CHECK(h.dead.recent()[0].where == "line 2 of " + path);
  CHECK(h.logs.Contains("streams.local: dead letter at line 2 of " + path +
                        ": line longer than max_line"));
  CHECK(h.source->status().dead_letters == 1);
}

TEST_CASE("file: start_at end skips what is there and reads what comes", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.Write("f.log", "old\nhalf-written");
  Harness h(FileOptions(path, {{"start_at", "end"}}));
  REQUIRE(Eventually([&] { return h.source->status().state == SourceState::kRunning; }));
  Append(path, " line\nnew\n");
  REQUIRE(h.consumer.PopData(2));
  CHECK(h.consumer.Texts() == std::vector<std::string>{"half-written line", "new"});
  CHECK(h.consumer.data[0].position == 4);
}

TEST_CASE("file: a full queue pauses the reader, nothing is lost or unbounded", "[ingest][file]") {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 500; ++i)
    content += "line " + std::to_string(i) + "\n";
  std::string path = dir.Write("many.log", content);
  Harness h(FileOptions(path, {{"follow", "false"}}), nullptr, QueueLimits{8, 1 << 20});
  REQUIRE(Eventually([&] { return h.source->status().backpressure_waits > 0; }));
  CHECK(h.queue.size() <= 8);
  REQUIRE(h.consumer.PopEnd());
  REQUIRE(h.consumer.data.size() == 500);
  for (int i = 0; i < 500; ++i)
    CHECK(h.consumer.data[i].data == "line " + std::to_string(i));
}

TEST_CASE("file: a missing file is waited for and read once it appears", "[ingest][file]") {
  TempDir dir;
  std::string path = dir.path() + "/later.log";
  Harness h(FileOptions(path));
  REQUIRE(Eventually([&] { return h.source->status().state == SourceState::kError; }));
  CHECK(h.source->status().message == "cannot open: No such file or directory; waiting for it");
  Append(path, "here\n");
  REQUIRE(h.consumer.PopData(1));
  CHECK(h.source->status().state == SourceState::kRunning);
}

TEST_CASE("file: option errors name the key path", "[ingest][file]") {
  Status st = CheckSource(Options({{"type", "file"}}), "streams.local.source");
  CHECK(st.message() == "streams.local.source.path: required");
  st = CheckSource(
      Options({{"type", "file"}, {"path", "/x"}, {"folow", "true"}, {"start_at", "middle"}}),
      "streams.local.source");
  CHECK(st.message() ==
        "streams.local.source.folow: unknown option; did you mean 'follow'?\n"
        "streams.local.source.start_at: expected one of beginning | end, got 'middle'");
  st = CheckSource(Options({{"type", "fiel"}}), "streams.local.source");
  CHECK(st.message() ==
        "streams.local.source.type: unknown source type 'fiel' (kafka, mqtt, grpc, file, stdin); "
        "did you mean 'file'?");
}

}  // namespace
}  // namespace vigil::ingest
