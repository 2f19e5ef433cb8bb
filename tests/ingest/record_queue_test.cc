// The bounded queue between sources and the engine: limits in records and bytes, waiting
// producers (back-pressure), stop flags, control records, and the line splitter sources
// read with.
#include "vigil/ingest/record_queue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "source_support.h"
#include "sources/line_splitter.h"

namespace vigil::ingest {
namespace {

Record Data(std::string text, uint64_t position = 0) {
  Record r;
  r.data = std::move(text);
  r.position = position;
  r.end = position + 1;
  return r;
}

TEST_CASE("queue: records come out in order, tagged with their source", "[ingest][queue]") {
  RecordQueue q;
  uint32_t a = q.AddSource("a"), b = q.AddSource("b");
  CHECK(q.source_name(b) == "b");
  for (int i = 0; i < 3; ++i) {
    Record r = Data("a" + std::to_string(i));
    REQUIRE(q.Push(a, r, nullptr) == RecordQueue::PushResult::kOk);
    Record s = Data("b" + std::to_string(i));
    REQUIRE(q.Push(b, s, nullptr) == RecordQueue::PushResult::kOk);
  }
  std::vector<Record> out;
  CHECK(q.Pop(&out, 4, 0) == 4);
  CHECK(q.Pop(&out, 100, 0) == 2);
  std::vector<std::string> got;
  for (const Record& r : out)
    got.push_back(std::to_string(r.source) + ":" + r.data);
  CHECK(got == std::vector<std::string>{"0:a0", "1:b0", "0:a1", "1:b1", "0:a2", "1:b2"});
  CHECK(q.size() == 0);
  CHECK(q.bytes() == 0);
}

TEST_CASE("queue: a full queue makes Push wait until the consumer pops", "[ingest][queue]") {
  RecordQueue q(QueueLimits{2, 1 << 20});
  uint32_t s = q.AddSource("s");
  for (int i = 0; i < 2; ++i) {
    Record r = Data("x");
    REQUIRE(q.Push(s, r, nullptr) == RecordQueue::PushResult::kOk);
  }
  Record third = Data("third");
  CHECK(q.Push(s, third, nullptr, 0) == RecordQueue::PushResult::kTimedOut);
  CHECK(third.data == "third");  // untouched, to be pushed again
  CHECK(q.Push(s, third, nullptr, 5 * cep::kMillisecond) == RecordQueue::PushResult::kTimedOut);

  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    Record r = Data("late");
    pushed = q.Push(s, r, nullptr) == RecordQueue::PushResult::kOk;
  });
  // The producer is waiting for room before anything is popped.
  REQUIRE(testing::Eventually([&] { return q.full_waits() == 3; }));
  CHECK_FALSE(pushed);
  std::vector<Record> out;
  REQUIRE(q.Pop(&out, 1, 0) == 1);
  producer.join();
  CHECK(pushed);
  CHECK(q.size() == 2);
}

TEST_CASE("queue: the byte limit counts, and one big record still fits an empty queue",
          "[ingest][queue]") {
  RecordQueue q(QueueLimits{1000, RecordQueue::Cost(Data(std::string(100, 'x'))) * 2});
  uint32_t s = q.AddSource("s");
  Record a = Data(std::string(100, 'x')), b = Data(std::string(100, 'y')),
         c = Data(std::string(100, 'z'));
  REQUIRE(q.Push(s, a, nullptr, 0) == RecordQueue::PushResult::kOk);
  REQUIRE(q.Push(s, b, nullptr, 0) == RecordQueue::PushResult::kOk);
  CHECK(q.Push(s, c, nullptr, 0) == RecordQueue::PushResult::kTimedOut);
  std::vector<Record> out;
  q.Pop(&out, 10, 0);
  Record huge = Data(std::string(10000, 'h'));
  CHECK(q.Push(s, huge, nullptr, 0) == RecordQueue::PushResult::kOk);
  Record after = Data("a");
  CHECK(q.Push(s, after, nullptr, 0) == RecordQueue::PushResult::kTimedOut);
}

TEST_CASE("queue: a stop flag releases a waiting producer", "[ingest][queue]") {
  RecordQueue q(QueueLimits{1, 1 << 20});
  uint32_t s = q.AddSource("s");
  Record first = Data("1");
  REQUIRE(q.Push(s, first, nullptr) == RecordQueue::PushResult::kOk);
  std::atomic<bool> stop{false};
  std::atomic<int> result{-1};
  std::thread producer([&] {
    Record r = Data("2");
    result = static_cast<int>(q.Push(s, r, &stop));
  });
  stop = true;
  q.WakeProducers();
  producer.join();
  CHECK(result == static_cast<int>(RecordQueue::PushResult::kStopped));
  CHECK(q.size() == 1);
}

TEST_CASE("queue: control records pass a full queue", "[ingest][queue]") {
  RecordQueue q(QueueLimits{1, 1 << 20});
  uint32_t s = q.AddSource("s");
  Record first = Data("1");
  REQUIRE(q.Push(s, first, nullptr) == RecordQueue::PushResult::kOk);
  q.PushControl(s, ControlRecord(RecordKind::kCheckpointRequest));
  q.PushControl(s, ControlRecord(RecordKind::kEnd));
  std::vector<Record> out;
  CHECK(q.Pop(&out, 10, 0) == 3);
  CHECK(out[1].kind == RecordKind::kCheckpointRequest);
  CHECK(out[2].kind == RecordKind::kEnd);
}

TEST_CASE("queue: Pop waits for a record, and WakeConsumer cuts the wait short",
          "[ingest][queue]") {
  RecordQueue q;
  uint32_t s = q.AddSource("s");
  std::thread producer([&] {
    Record r = Data("x");
    q.Push(s, r, nullptr);
  });
  std::vector<Record> out;
  // A generous wait that ends as soon as the record is there.
  CHECK(q.Pop(&out, 10, 60 * cep::kSecond) == 1);
  producer.join();
  std::thread waker([&] { q.WakeConsumer(); });
  q.Pop(&out, 10, 60 * cep::kSecond);  // returns on the wake, not after a minute
  waker.join();
  CHECK(out.size() == 1);
}

// "offset-next:text" per line ("offset-next:<too long>").
std::vector<std::string> Split(const std::vector<std::string>& pieces, size_t max_line = 100,
                               bool finish = true) {
  LineSplitter sp(max_line);
  sp.Reset(0);
  std::vector<std::string> out;
  auto fn = [&](const LineSplitter::Line& l) {
    out.push_back(std::to_string(l.offset) + "-" + std::to_string(l.next) + ":" +
                  (l.too_long ? "<too long>" : std::string(l.text)));
  };
  for (const std::string& p : pieces)
    sp.Feed(p, fn);
  if (finish) sp.Finish(fn);
  return out;
}

TEST_CASE("lines: pieces join into lines with their byte offsets", "[ingest][lines]") {
  using L = std::vector<std::string>;
  CHECK(Split({"ab\ncd\n"}) == L{"0-3:ab", "3-6:cd"});
  CHECK(Split({"a", "b\nc", "d\n"}) == L{"0-3:ab", "3-6:cd"});
  CHECK(Split({"a\r\n", "\n"}) == L{"0-3:a", "3-4:"});
  CHECK(Split({"last"}) == L{"0-4:last"});
  CHECK(Split({"last"}, 100, false).empty());
}

TEST_CASE("lines: an over-long line is reported without its text and the next line is whole",
          "[ingest][lines]") {
  using L = std::vector<std::string>;
  CHECK(Split({std::string(15, 'x') + "\nok\n"}, 10) == L{"0-16:<too long>", "16-19:ok"});
  CHECK(Split({std::string(8, 'x'), std::string(8, 'x'), "\nok\n"}, 10) ==
        L{"0-17:<too long>", "17-20:ok"});
  CHECK(Split({std::string(12, 'x')}, 10) == L{"0-12:<too long>"});
}

}  // namespace
}  // namespace vigil::ingest
