// Sources that cannot replay (stdin, grpc pushes) through their ingest log: records are in
// the log before they are queued (and, for Publish, before the call returns), checkpoints
// delete what they cover, and a restart queues what no checkpoint covered before new input.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "source_support.h"
#include "sources/ingest_log.h"
#include "stdin/stdin_source.h"
#include "vigil/ingest/push_source.h"

namespace vigil::ingest {
namespace {

using testing::Checkpoint;
using testing::Consumer;
using testing::Eventually;
using testing::Keys;
using testing::MakeSource;
using testing::Options;

class Pipe {
 public:
  Pipe() { REQUIRE(pipe2(fds_, O_CLOEXEC) == 0); }
  ~Pipe() {
    CloseWrite();
    close(fds_[0]);
  }
  int read_fd() const { return fds_[0]; }
  void Write(const std::string& s) {
    REQUIRE(write(fds_[1], s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  void CloseWrite() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2];
};

SourceContext Context(cep::StateStore* store, Durability d = Durability::kSync) {
  SourceContext ctx;
  ctx.stream = "in";
  ctx.store = store;
  ctx.durability = d;
  ctx.log = [](LogLevel, const std::string&) {};
  return ctx;
}

size_t LogEntries(const cep::StateStore& store) {
  size_t n = 0;
  for (const std::string& k : Keys(store, cep::StateFamily::kIngestLog))
    n += k.rfind("in/", 0) == 0;
  return n;
}

TEST_CASE("stdin: lines go through the ingest log and the end of input ends the stream",
          "[ingest][stdin]") {
  auto store = cep::NewMemoryStore();
  Pipe pipe;
  auto src = NewStdinSource(Context(store.get()), pipe.read_fd(), 1 << 20);
  REQUIRE(src->Seek(*store).ok());
  RecordQueue queue;
  Consumer c(&queue);
  c.sources = {src.get()};
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  pipe.Write("{\"a\":1}\n{\"a\":2}\n");
  REQUIRE(c.PopData(2));
  CHECK(c.data[0].position == 0);
  CHECK(c.data[1].line == 2);
  CHECK(LogEntries(*store) == 2);
  // A checkpoint deletes the log entries it covers, in the same batch as the position.
  Checkpoint(store.get(), {src.get()});
  CHECK(LogEntries(*store) == 0);
  CHECK(testing::Get(*store, cep::StateFamily::kPositions, "in/0") == "seq=2");
  pipe.Write("tail without newline");
  pipe.CloseWrite();
  REQUIRE(c.PopEnd());
  CHECK(c.Texts() == std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "tail without newline"});
  CHECK(Eventually([&] { return src->status().state == SourceState::kFinished; }));
  CHECK(src->DescribePosition(c.data[2]) == "line 3 of standard input (ingest log #2)");
  src->Stop();
}

TEST_CASE("stdin: after a crash the lines no checkpoint covered come back first",
          "[ingest][stdin]") {
  auto store = cep::NewMemoryStore();
  {
    Pipe pipe;
    auto src = NewStdinSource(Context(store.get()), pipe.read_fd(), 1 << 20);
    REQUIRE(src->Seek(*store).ok());
    RecordQueue queue;
    Consumer c(&queue);
    c.sources = {src.get()};
    c.mark_processed = false;
    REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
    pipe.Write("a\nb\nc\n");
    REQUIRE(c.PopData(3));
    src->Processed(c.data[0]);
    Checkpoint(store.get(), {src.get()});
    // b and c were read (and acknowledged, had anyone asked) but no checkpoint covers
    // them; the process dies here.
    src->Stop();
  }
  Pipe pipe;
  auto src = NewStdinSource(Context(store.get()), pipe.read_fd(), 1 << 20);
  REQUIRE(src->Seek(*store).ok());
  RecordQueue queue;
  Consumer c(&queue);
  c.sources = {src.get()};
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  pipe.Write("d\n");
  pipe.CloseWrite();
  REQUIRE(c.PopEnd());
  CHECK(c.Texts() == std::vector<std::string>{"b", "c", "d"});
  CHECK(c.data[0].position == 1);
  CHECK(c.data[2].position == 3);
  CHECK(src->status().replayed == 2);
  src->Stop();
}

TEST_CASE("stdin: durability none keeps nothing in the log", "[ingest][stdin]") {
  auto store = cep::NewMemoryStore();
  Pipe pipe;
  auto src = NewStdinSource(Context(store.get(), Durability::kNone), pipe.read_fd(), 1 << 20);
  RecordQueue queue;
  Consumer c(&queue);
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  pipe.Write("a\n");
  pipe.CloseWrite();
  REQUIRE(c.PopEnd());
  CHECK(c.Texts() == std::vector<std::string>{"a"});
  CHECK(Keys(*store, cep::StateFamily::kIngestLog).empty());
  src->Stop();
}

TEST_CASE("stdin: durability sync without a store is refused", "[ingest][stdin]") {
  Pipe pipe;
  auto src = NewStdinSource(Context(nullptr), pipe.read_fd(), 1 << 20);
  RecordQueue queue;
  Status st = src->Start(&queue, queue.AddSource("in"));
  CHECK(st.message() ==
        "streams.in (stdin): needs the state store for its ingest log (durability sync)");
}

std::unique_ptr<Source> GrpcSource(cep::StateStore* store,
                                   std::vector<std::pair<std::string, std::string>> extra = {}) {
  extra.insert(extra.begin(), {"type", "grpc"});
  return MakeSource(Options(extra), Context(store));
}

TEST_CASE("grpc: Publish returns once the records are durable in the log, then queues them",
          "[ingest][grpc]") {
  auto store = cep::NewMemoryStore();
  auto src = GrpcSource(store.get());
  PushSource* push = AsPushSource(src.get());
  REQUIRE(push != nullptr);
  CHECK(push->Publish({"x"}).status().code() == Status::Code::kUnavailable);
  RecordQueue queue;
  REQUIRE(src->Seek(*store).ok());
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  auto first = push->Publish({"{\"n\":1}", "{\"n\":2}"});
  REQUIRE(first.ok());
  CHECK(*first == 0);
  // Durable before the engine has seen anything.
  CHECK(LogEntries(*store) == 2);
  CHECK(queue.size() == 2);
  auto second = push->Publish({"{\"n\":3}"});
  CHECK(*second == 2);
  Consumer c(&queue);
  c.sources = {src.get()};
  REQUIRE(c.PopData(3));
  Checkpoint(store.get(), {src.get()});
  CHECK(LogEntries(*store) == 0);
  src->Stop();
  CHECK(push->Publish({"late"}).status().code() == Status::Code::kUnavailable);
}

TEST_CASE("grpc: concurrent publishers lose nothing and keep numbers in queue order",
          "[ingest][grpc]") {
  auto store = cep::NewMemoryStore();
  auto src = GrpcSource(store.get());
  PushSource* push = AsPushSource(src.get());
  RecordQueue queue(QueueLimits{64, 1 << 20});  // small: publishers also meet back-pressure
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  Consumer c(&queue);
  c.sources = {src.get()};
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};  // Catch's macros are not for other threads
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (!push->Publish({std::to_string(t) + ":" + std::to_string(i)}).ok()) ++failures;
      }
    });
  }
  REQUIRE(c.PopData(400));
  for (std::thread& t : threads)
    t.join();
  CHECK(failures == 0);
  std::vector<std::string> texts = c.Texts();
  std::set<std::string> seen(texts.begin(), texts.end());
  CHECK(seen.size() == 400);
  for (size_t i = 0; i < c.data.size(); ++i)
    CHECK(c.data[i].position == i);
  src->Stop();
}

TEST_CASE("grpc: limits refuse a call before anything is logged", "[ingest][grpc]") {
  auto store = cep::NewMemoryStore();
  auto src = GrpcSource(store.get(), {{"max_record", "8"}, {"max_batch", "2"}});
  PushSource* push = AsPushSource(src.get());
  RecordQueue queue;
  REQUIRE(src->Start(&queue, queue.AddSource("in")).ok());
  CHECK(push->Publish({"a", "b", "c"}).status().message() ==
        "streams.in: 3 records in one call; the limit is 2 (max_batch)");
  CHECK(push->Publish({"ok", "123456789"}).status().message() ==
        "streams.in: record 1 has 9 bytes; the limit is 8 (max_record)");
  CHECK(LogEntries(*store) == 0);
  CHECK(AsPushSource(nullptr) == nullptr);
  src->Stop();
}

}  // namespace
}  // namespace vigil::ingest
