#include "sources/ingest_log.h"

#include <algorithm>

namespace vigil::ingest {

namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

constexpr char kEntryVersion = 1;
// A group commit stops collecting callers at this many bytes, so one batch stays small.
constexpr size_t kMaxGroupBytes = 4u << 20;

}  // namespace

struct IngestLog::Writer {
  std::vector<Record>* records = nullptr;
  const std::function<void(std::vector<Record>&)>* deliver = nullptr;
  Status status;
  bool sync = true;
  bool done = false;
  std::condition_variable cv;
};

IngestLog::IngestLog(cep::StateStore* store, std::string stream, Durability durability)
    : store_(store), stream_(std::move(stream)), durability_(durability) {}

std::string IngestLog::EntryKey(std::string_view stream, uint64_t seq) {
  std::string key(stream);
  key += '/';
  for (int shift = 56; shift >= 0; shift -= 8)
    key += static_cast<char>((seq >> shift) & 0xff);
  return key;
}

std::string IngestLog::NextKey(std::string_view stream) {
  return std::string(stream) + "#next";
}

void IngestLog::EncodeEntry(const Record& r, std::string* out) {
  out->push_back(kEntryVersion);
  PutVarint(r.line, out);
  PutVarint(r.metadata.size(), out);
  for (const std::string& m : r.metadata) {
    PutVarint(m.size(), out);
    out->append(m);
  }
  out->append(r.data);
}

bool IngestLog::DecodeEntry(std::string_view value, Record* r) {
  if (value.empty() || value.front() != kEntryVersion) return false;
  value.remove_prefix(1);
  uint64_t n = 0;
  if (!GetVarint(&value, &r->line) || !GetVarint(&value, &n) || n > value.size()) return false;
  r->metadata.clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = 0;
    if (!GetVarint(&value, &len) || len > value.size()) return false;
    r->metadata.emplace_back(value.substr(0, len));
    value.remove_prefix(len);
  }
  r->data.assign(value);
  return true;
}

Status IngestLog::Open(uint64_t checkpointed_next) {
  std::lock_guard<std::mutex> lock(mu_);
  next_ = checkpointed_next;
  if (store_ == nullptr) return Status::Ok();
  std::string value;
  auto found = store_->Get(cep::StateFamily::kIngestLog, NextKey(stream_), &value);
  if (!found.ok()) return found.status();
  uint64_t stored = 0;
  if (*found && DecodePositionField(value, "seq", &stored)) next_ = std::max(next_, stored);
  // Entries written after the last checkpoint (a short scan: checkpoints delete the rest).
  std::string end = stream_ + static_cast<char>('/' + 1);
  return store_->Scan(cep::StateFamily::kIngestLog, EntryKey(stream_, checkpointed_next), end,
                      [&](std::string_view key, std::string_view) {
                        uint64_t seq = 0;
                        for (char c : key.substr(stream_.size() + 1))
                          seq = (seq << 8) | static_cast<uint8_t>(c);
                        next_ = std::max(next_, seq + 1);
                        return true;
                      });
}

Status IngestLog::Replay(uint64_t from, const std::function<bool(Record&)>& fn) const {
  if (store_ == nullptr) return Status::Ok();
  std::string begin = EntryKey(stream_, from);
  std::string end = stream_ + static_cast<char>('/' + 1);
  Status bad;
  Status st = store_->Scan(
      cep::StateFamily::kIngestLog, begin, end, [&](std::string_view key, std::string_view value) {
        Record r;
        uint64_t seq = 0;
        std::string_view k = key.substr(stream_.size() + 1);
        for (char c : k)
          seq = (seq << 8) | static_cast<uint8_t>(c);
        if (k.size() != 8 || !DecodeEntry(value, &r)) {
          bad = Status::Corruption("streams." + stream_ + ": ingest log entry #" +
                                   std::to_string(seq) + " is damaged");
          return false;
        }
        r.position = seq;
        r.end = seq + 1;
        return fn(r);
      });
  if (!st.ok()) return st;
  return bad;
}

Status IngestLog::Append(std::vector<Record>* records,
                         const std::function<void(std::vector<Record>&)>& deliver, bool sync) {
  Writer w;
  w.records = records;
  w.deliver = &deliver;
  w.sync = sync;
  std::unique_lock<std::mutex> lock(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front())
    w.cv.wait(lock);
  if (w.done) return w.status;

  // This caller leads: it writes its own records and those of the callers queued behind.
  std::vector<Writer*> group;
  size_t bytes = 0;
  bool group_sync = false;
  for (Writer* x : writers_) {
    group.push_back(x);
    group_sync |= x->sync;
    for (Record& r : *x->records) {
      r.position = next_++;
      r.end = next_;
      bytes += r.data.size();
    }
    if (bytes >= kMaxGroupBytes) break;
  }
  lock.unlock();

  Status st;
  if (durability_ != Durability::kNone && store_ != nullptr) {
    cep::StateBatch batch;
    std::string value;
    for (Writer* x : group) {
      for (const Record& r : *x->records) {
        value.clear();
        EncodeEntry(r, &value);
        batch.Put(cep::StateFamily::kIngestLog, EntryKey(stream_, r.position), value);
      }
    }
    st = store_->Write(batch, durability_ == Durability::kSync && group_sync);
    if (!st.ok()) {
      st = Status::IOError("streams." + stream_ + ": cannot write the ingest log (" +
                           store_->Describe() + "): " + st.message());
    }
  }
  if (st.ok()) {
    for (Writer* x : group)
      (*x->deliver)(*x->records);
  }

  lock.lock();
  ++writes_;
  for (Writer* x : group) {
    written_ += x->records->size();
    writers_.pop_front();
    x->status = st;
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return w.status;
}

void IngestLog::AddTruncate(cep::StateBatch* batch, uint64_t next) const {
  if (store_ == nullptr || durability_ == Durability::kNone) return;
  batch->DeleteRange(cep::StateFamily::kIngestLog, EntryKey(stream_, 0), EntryKey(stream_, next));
  // The log may be empty now; numbers must still not be reused.
  batch->Put(cep::StateFamily::kIngestLog, NextKey(stream_),
             EncodePosition({{"seq", this->next()}}));
}

uint64_t IngestLog::next() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_;
}

uint64_t IngestLog::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

uint64_t IngestLog::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

}  // namespace vigil::ingest

namespace vigil::ingest {

size_t IngestLog::callers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writers_.size();
}

}  // namespace vigil::ingest
