// StateBatch, the memory store and the fault-injecting store.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>

#include "vigil/cep/state_store.h"

namespace vigil::cep {

const char* StateFamilyName(StateFamily f) {
  switch (f) {
    case StateFamily::kMeta: return "meta";
    case StateFamily::kKeyed: return "keyed";
    case StateFamily::kEvents: return "events";
    case StateFamily::kTimers: return "timers";
    case StateFamily::kReorder: return "reorder";
    case StateFamily::kPositions: return "positions";
    case StateFamily::kOutbox: return "outbox";
    case StateFamily::kIngestLog: return "ingest_log";
  }
  return "unknown";
}

void StateBatch::Put(StateFamily f, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpKind::kPut, f, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void StateBatch::Delete(StateFamily f, std::string_view key) {
  ops_.push_back(Op{OpKind::kDelete, f, std::string(key), {}});
  bytes_ += key.size();
}

void StateBatch::DeleteRange(StateFamily f, std::string_view begin, std::string_view end) {
  ops_.push_back(Op{OpKind::kDeleteRange, f, std::string(begin), std::string(end)});
  bytes_ += begin.size() + end.size();
}

void StateBatch::Clear() {
  ops_.clear();
  bytes_ = 0;
}

namespace {

class MemoryStore final : public StateStore {
 public:
  Status Write(const StateBatch& batch, bool sync) override {
    (void)sync;
    std::lock_guard<std::mutex> lock(mu_);
    for (const StateBatch::Op& op : batch.ops()) {
      auto& m = families_[static_cast<int>(op.family)];
      switch (op.kind) {
        case StateBatch::OpKind::kPut: m[op.key] = op.value; break;
        case StateBatch::OpKind::kDelete: m.erase(op.key); break;
        case StateBatch::OpKind::kDeleteRange:
          m.erase(m.lower_bound(op.key), m.lower_bound(op.value));
          break;
      }
    }
    return Status::Ok();
  }

  Result<bool> Get(StateFamily f, std::string_view key, std::string* value) const override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& m = families_[static_cast<int>(f)];
    auto it = m.find(key);
    if (it == m.end()) return false;
    value->assign(it->second);
    return true;
  }

  Status Scan(StateFamily f, std::string_view begin, std::string_view end,
              const ScanFn& fn) const override {
    // Copies the range first, so fn may write to the store.
    std::vector<std::pair<std::string, std::string>> items;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto& m = families_[static_cast<int>(f)];
      auto stop = end.empty() ? m.end() : m.lower_bound(end);
      for (auto it = m.lower_bound(begin); it != stop; ++it) items.emplace_back(*it);
    }
    for (const auto& [k, v] : items) {
      if (!fn(k, v)) break;
    }
    return Status::Ok();
  }

  uint64_t ApproximateBytes(StateFamily f) const override {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t n = 0;
    for (const auto& [k, v] : families_[static_cast<int>(f)]) n += k.size() + v.size();
    return n;
  }

  std::string Describe() const override { return "memory"; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> families_[kStateFamilyCount];
};

class FaultInjectingStore final : public StateStore {
 public:
  FaultInjectingStore(std::unique_ptr<StateStore> inner, uint64_t kill_at, bool before)
      : inner_(std::move(inner)), kill_at_(kill_at), before_(before) {}

  Status Write(const StateBatch& batch, bool sync) override {
    uint64_t n = ++writes_;
    bool kill = kill_at_ != 0 && n == kill_at_;
    if (kill && before_) Die();
    Status s = inner_->Write(batch, sync);
    if (kill) Die();
    return s;
  }
  Result<bool> Get(StateFamily f, std::string_view key, std::string* value) const override {
    return inner_->Get(f, key, value);
  }
  Status Scan(StateFamily f, std::string_view begin, std::string_view end,
              const ScanFn& fn) const override {
    return inner_->Scan(f, begin, end, fn);
  }
  uint64_t ApproximateBytes(StateFamily f) const override { return inner_->ApproximateBytes(f); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  [[noreturn]] static void Die() {
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);  // not reached
  }

  std::unique_ptr<StateStore> inner_;
  const uint64_t kill_at_;
  const bool before_;
  std::atomic<uint64_t> writes_{0};
};

}  // namespace

std::unique_ptr<StateStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

std::unique_ptr<StateStore> NewFaultInjectingStore(std::unique_ptr<StateStore> inner,
                                                   uint64_t kill_at, bool before) {
  return std::make_unique<FaultInjectingStore>(std::move(inner), kill_at, before);
}

}  // namespace vigil::cep
