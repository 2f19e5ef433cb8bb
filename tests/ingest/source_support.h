// Test support for sources: a consumer that pops a RecordQueue the way the engine thread
// would, waiting with deadlines (never fixed sleeps), and helpers to build option maps and
// to checkpoint a source into a store.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vigil/cep/options.h"
#include "vigil/cep/state_store.h"
#include "vigil/ingest/record_queue.h"
#include "vigil/ingest/source.h"
#include "vigil/ingest/source_registry.h"

namespace vigil::ingest::testing {

using Clock = std::chrono::steady_clock;

// {"a": "1", "b": "x"} as a map node; values are scalars.
inline cep::ConfigNode Options(const std::vector<std::pair<std::string, std::string>>& kv) {
  cep::ConfigNode m = cep::ConfigNode::Map();
  for (const auto& [k, v] : kv)
    m.Set(k, cep::ConfigNode::Scalar(v));
  return m;
}

// Collects log lines a source writes.
class LogCapture {
 public:
  LogFn fn() {
    return [this](LogLevel level, const std::string& msg) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(std::string(level == LogLevel::kError     ? "error: "
                                   : level == LogLevel::kWarning ? "warning: "
                                                                 : "info: ") +
                       msg);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  bool Contains(const std::string& part) const {
    for (const std::string& l : lines()) {
      if (l.find(part) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// Plays the engine thread: pops records, remembers them, and (unless told otherwise) tells
// the source each data record was processed.
class Consumer {
 public:
  explicit Consumer(RecordQueue* queue) : queue_(queue) {}

  // Pops until pred() holds or `limit` passes; returns pred().
  bool PopUntil(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = Clock::now() + limit;
    while (!pred()) {
      if (Clock::now() >= deadline) return false;
      PopOnce(std::chrono::milliseconds(20));
    }
    return true;
  }
  bool PopData(size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return PopUntil([&] { return data.size() >= n; }, limit);
  }
  bool PopEnd(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return PopUntil([&] { return ended; }, limit);
  }

  // One Pop with `wait`; handles what came.
  size_t PopOnce(std::chrono::milliseconds wait) {
    std::vector<Record> got;
    size_t n =
        queue_->Pop(&got, 1024, std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count());
    for (Record& r : got)
      Handle(std::move(r));
    return n;
  }

  // Called for each control record (checkpoint requests, revocations) after it is recorded
  // (and marked processed).
  std::function<void(const Record&)> on_control;
  // The sources by queue index, to call Processed on; empty: nothing is marked processed.
  std::vector<Source*> sources;
  bool mark_processed = true;
  // If set, a kCheckpointRequest is answered at once with a checkpoint into this store.
  cep::StateStore* checkpoint_store = nullptr;

  std::vector<Record> data;      // kData records, in order
  std::vector<Record> controls;  // everything else
  bool ended = false;
  int checkpoints = 0;  // answered checkpoint requests

  std::vector<std::string> Texts() const {
    std::vector<std::string> out;
    for (const Record& r : data)
      out.push_back(r.data);
    return out;
  }

 private:
  void Handle(Record r) {
    if (mark_processed && r.source < sources.size() && sources[r.source])
      sources[r.source]->Processed(r);
    if (r.kind == RecordKind::kData) {
      data.push_back(std::move(r));
      return;
    }
    if (r.kind == RecordKind::kEnd) ended = true;
    if (r.kind == RecordKind::kCheckpointRequest && checkpoint_store) {
      cep::StateBatch batch;
      for (Source* s : sources)
        s->AddPositions(&batch);
      if (checkpoint_store->Write(batch, true).ok()) {
        for (Source* s : sources)
          s->OnCheckpointed();
        ++checkpoints;
      }
    }
    controls.push_back(r);
    if (on_control) on_control(controls.back());
  }

  RecordQueue* queue_;
};

// Runs one checkpoint of `sources` into `store`, as the runtime will: positions into one
// batch, written with sync, then OnCheckpointed.
inline void Checkpoint(cep::StateStore* store, const std::vector<Source*>& sources) {
  cep::StateBatch batch;
  for (Source* s : sources)
    s->AddPositions(&batch);
  Status st = store->Write(batch, true);
  REQUIRE(st.ok());
  for (Source* s : sources)
    s->OnCheckpointed();
}

// Waits until pred() holds, checking every few milliseconds, for at most `limit`.
inline bool Eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Every key of a family, as text ("local/0").
inline std::vector<std::string> Keys(const cep::StateStore& store, cep::StateFamily f) {
  std::vector<std::string> keys;
  Status st = store.Scan(f, "", "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  REQUIRE(st.ok());
  return keys;
}

inline std::string Get(const cep::StateStore& store, cep::StateFamily f, const std::string& key) {
  std::string v;
  auto found = store.Get(f, key, &v);
  REQUIRE(found.ok());
  return *found ? v : std::string("<absent>");
}

// Builds a source from a `source:` map, failing the test with the message if it does not.
inline std::unique_ptr<Source> MakeSource(const cep::ConfigNode& source, const SourceContext& ctx,
                                          const std::string& path = "streams.s.source") {
  auto s = CreateSource(source, path, ctx);
  INFO((s.ok() ? std::string() : s.status().message()));
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace vigil::ingest::testing
