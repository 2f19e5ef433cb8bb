// The ingest log: numbering that survives truncation and restarts, entries round-trip with
// their metadata, replay order, group commit, and write failures.
#include "sources/ingest_log.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "source_support.h"

namespace vigil::ingest {
namespace {

using testing::Keys;

std::vector<Record> Records(const std::vector<std::string>& texts) {
  std::vector<Record> out;
  for (const std::string& t : texts) {
    Record r;
    r.data = t;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> ReplayAll(const IngestLog& log, uint64_t from) {
  std::vector<std::string> out;
  Status st = log.Replay(from, [&](Record& r) {
    out.push_back(std::to_string(r.position) + ":" + r.data);
    return true;
  });
  REQUIRE(st.ok());
  return out;
}

const auto kNoDeliver = [](std::vector<Record>&) {};

TEST_CASE("ingest log: entries keep data, line and metadata", "[ingest][log]") {
  Record r;
  r.line = 77;
  r.metadata = {"site/1/temp", ""};
  r.data = std::string("{\"t\":1}\0x", 9);
  std::string enc;
  IngestLog::EncodeEntry(r, &enc);
  Record back;
  REQUIRE(IngestLog::DecodeEntry(enc, &back));
  CHECK(back.line == 77);
  CHECK(back.metadata == r.metadata);
  CHECK(back.data == r.data);
  CHECK_FALSE(IngestLog::DecodeEntry("", &back));
  CHECK_FALSE(IngestLog::DecodeEntry(std::string("\x07", 1), &back));
}

TEST_CASE("ingest log: numbers continue after truncation and across reopening", "[ingest][log]") {
  auto store = cep::NewMemoryStore();
  {
    IngestLog log(store.get(), "s", Durability::kSync);
    REQUIRE(log.Open(0).ok());
    auto recs = Records({"a", "b", "c"});
    std::vector<uint64_t> delivered;
    REQUIRE(log.Append(&recs,
                       [&](std::vector<Record>& rs) {
                         for (const Record& x : rs)
                           delivered.push_back(x.position);
                       })
                .ok());
    CHECK(delivered == std::vector<uint64_t>{0, 1, 2});
    CHECK(recs[2].end == 3);
    CHECK(ReplayAll(log, 0) == std::vector<std::string>{"0:a", "1:b", "2:c"});
    CHECK(ReplayAll(log, 2) == std::vector<std::string>{"2:c"});
    // A checkpoint covering a and b deletes them.
    cep::StateBatch batch;
    log.AddTruncate(&batch, 2);
    REQUIRE(store->Write(batch, true).ok());
    CHECK(ReplayAll(log, 0) == std::vector<std::string>{"2:c"});
    cep::StateBatch all;
    log.AddTruncate(&all, 3);
    REQUIRE(store->Write(all, true).ok());
  }
  // Empty log, but numbers are not reused.
  IngestLog again(store.get(), "s", Durability::kSync);
  REQUIRE(again.Open(1).ok());
  CHECK(again.next() == 3);
  auto recs = Records({"d"});
  REQUIRE(again.Append(&recs, kNoDeliver).ok());
  CHECK(recs[0].position == 3);
  CHECK(Keys(*store, cep::StateFamily::kIngestLog).size() == 2);  // d and s#next
}

TEST_CASE("ingest log: streams do not see each other's entries", "[ingest][log]") {
  auto store = cep::NewMemoryStore();
  IngestLog a(store.get(), "a", Durability::kBuffered),
      ab(store.get(), "ab", Durability::kBuffered);
  REQUIRE(a.Open(0).ok());
  REQUIRE(ab.Open(0).ok());
  auto ra = Records({"1"}), rab = Records({"2"});
  REQUIRE(a.Append(&ra, kNoDeliver).ok());
  REQUIRE(ab.Append(&rab, kNoDeliver).ok());
  CHECK(ReplayAll(a, 0) == std::vector<std::string>{"0:1"});
  cep::StateBatch batch;
  a.AddTruncate(&batch, 100);
  REQUIRE(store->Write(batch, true).ok());
  CHECK(ReplayAll(ab, 0) == std::vector<std::string>{"0:2"});
}

TEST_CASE("ingest log: durability none writes nothing", "[ingest][log]") {
  auto store = cep::NewMemoryStore();
  IngestLog log(store.get(), "s", Durability::kNone);
  REQUIRE(log.Open(5).ok());
  auto recs = Records({"a"});
  bool delivered = false;
  REQUIRE(log.Append(&recs, [&](std::vector<Record>&) { delivered = true; }).ok());
  CHECK(delivered);
  CHECK(recs[0].position == 5);
  CHECK(Keys(*store, cep::StateFamily::kIngestLog).empty());
}

// A store whose writes can be held back, or made to fail, to see group commit and errors.
class GateStore final : public cep::StateStore {
 public:
  explicit GateStore(std::unique_ptr<cep::StateStore> inner) : inner_(std::move(inner)) {}
  Status Write(const cep::StateBatch& batch, bool sync) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++writers_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    ++writes_;
    if (sync) ++syncs_;
    if (fail_) return Status::IOError("disk full");
    lock.unlock();
    return inner_->Write(batch, sync);
  }
  Result<bool> Get(cep::StateFamily f, std::string_view k, std::string* v) const override {
    return inner_->Get(f, k, v);
  }
  Status Scan(cep::StateFamily f, std::string_view b, std::string_view e,
              const ScanFn& fn) const override {
    return inner_->Scan(f, b, e, fn);
  }
  uint64_t ApproximateBytes(cep::StateFamily f) const override {
    return inner_->ApproximateBytes(f);
  }
  std::string Describe() const override { return "gate"; }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Fail() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = true;
  }
  void WaitForWriters(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return writers_ >= n; });
  }
  int writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }
  int syncs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return syncs_;
  }

 private:
  std::unique_ptr<cep::StateStore> inner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true, fail_ = false;
  int writers_ = 0, writes_ = 0, syncs_ = 0;
};

TEST_CASE("ingest log: callers that arrive during a write share the next one (group commit)",
          "[ingest][log]") {
  GateStore store(cep::NewMemoryStore());
  IngestLog log(&store, "s", Durability::kSync);
  REQUIRE(log.Open(0).ok());
  store.Close();
  std::mutex order_mu;
  std::vector<std::string> order;
  auto deliver = [&](std::vector<Record>& rs) {
    std::lock_guard<std::mutex> lock(order_mu);
    for (const Record& r : rs)
      order.push_back(std::to_string(r.position) + ":" + r.data);
  };
  // The first caller's write is held; three more queue up behind it.
  std::atomic<int> failures{0};  // Catch's macros are not for other threads
  std::thread first([&] {
    auto r = Records({"first"});
    if (!log.Append(&r, deliver).ok()) ++failures;
  });
  store.WaitForWriters(1);
  std::vector<std::thread> others;
  for (int i = 0; i < 3; ++i) {
    others.emplace_back([&, i] {
      auto r = Records({"t" + std::to_string(i) + "a", "t" + std::to_string(i) + "b"});
      if (!log.Append(&r, deliver).ok()) ++failures;
    });
  }
  // All three wait behind the leader before its write goes through.
  REQUIRE(testing::Eventually([&] { return log.callers() == 4; }));
  store.Open();
  first.join();
  for (std::thread& t : others)
    t.join();
  CHECK(failures == 0);
  CHECK(log.written() == 7);
  CHECK(order.size() == 7);
  // Deliveries are in number order.
  for (size_t i = 0; i < order.size(); ++i)
    CHECK(order[i].rfind(std::to_string(i) + ":", 0) == 0);
  // The leader's write, then one write for the three that queued behind it.
  CHECK(store.syncs() == 2);
  CHECK(log.writes() == 2);
}

TEST_CASE("ingest log: a failed write is reported and nothing is delivered", "[ingest][log]") {
  GateStore store(cep::NewMemoryStore());
  IngestLog log(&store, "s", Durability::kSync);
  REQUIRE(log.Open(0).ok());
  store.Fail();
  auto recs = Records({"a"});
  bool delivered = false;
  Status st = log.Append(&recs, [&](std::vector<Record>&) { delivered = true; });
  CHECK_FALSE(st.ok());
  CHECK(st.message() == "streams.s: cannot write the ingest log (gate): disk full");
  CHECK_FALSE(delivered);
}

}  // namespace
}  // namespace vigil::ingest
