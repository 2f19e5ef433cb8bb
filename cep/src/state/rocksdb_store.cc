// The RocksDB state store: one column family per StateFamily, a format marker in "meta".
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <system_error>

#include "vigil/cep/state_store.h"

namespace vigil::cep {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormatKey = "format";

std::string StartFresh(const std::string& dir) {
  return "to start fresh, move '" + dir +
         "' aside (or delete it): sources are then read again from their start";
}

class RocksDbStore final : public StateStore {
 public:
  RocksDbStore(std::string dir, rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> cfs)
      : dir_(std::move(dir)), db_(db), cfs_(std::move(cfs)) {}

  ~RocksDbStore() override {
    for (rocksdb::ColumnFamilyHandle* h : cfs_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }

  Status Write(const StateBatch& batch, bool sync) override {
    rocksdb::WriteBatch wb;
    for (const StateBatch::Op& op : batch.ops()) {
      rocksdb::ColumnFamilyHandle* cf = cfs_[static_cast<int>(op.family)];
      rocksdb::Status s;
      switch (op.kind) {
        case StateBatch::OpKind::kPut: s = wb.Put(cf, op.key, op.value); break;
        case StateBatch::OpKind::kDelete: s = wb.Delete(cf, op.key); break;
        case StateBatch::OpKind::kDeleteRange: s = wb.DeleteRange(cf, op.key, op.value); break;
      }
      if (!s.ok()) return Convert(s, "preparing a write");
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Write(wo, &wb), "writing");
  }

  Result<bool> Get(StateFamily f, std::string_view key, std::string* value) const override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[static_cast<int>(f)],
                                 rocksdb::Slice(key.data(), key.size()), value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return Convert(s, std::string("reading ") + StateFamilyName(f));
    return true;
  }

  Status Scan(StateFamily f, std::string_view begin, std::string_view end,
              const ScanFn& fn) const override {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(end.data(), end.size());
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[static_cast<int>(f)]));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key(), v = it->value();
      if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
    }
    return Convert(it->status(), std::string("reading ") + StateFamilyName(f));
  }

  uint64_t ApproximateBytes(StateFamily f) const override {
    uint64_t sst = 0, mem = 0;
    db_->GetIntProperty(cfs_[static_cast<int>(f)], "rocksdb.total-sst-files-size", &sst);
    db_->GetIntProperty(cfs_[static_cast<int>(f)], "rocksdb.cur-size-all-mem-tables", &mem);
    return sst + mem;
  }

  std::string Describe() const override { return dir_; }

 private:
  Status Convert(const rocksdb::Status& s, const std::string& what) const {
    if (s.ok()) return Status::Ok();
    std::string msg = "state store '" + dir_ + "': " + what + ": " + s.ToString();
    if (s.IsCorruption()) return Status::Corruption(msg + "; " + StartFresh(dir_));
    return Status::IOError(msg);
  }

  const std::string dir_;
  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> OpenRocksDbStore(const std::string& dir) {
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  if (exists && !fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("state directory '" + dir + "' is not a directory");
  }
  if (exists && !fs::is_empty(dir, ec) && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Status::InvalidArgument("'" + dir +
                                   "' is not empty and holds no Vigil state; choose an empty "
                                   "or new directory for --state");
  }
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.max_open_files = 256;
  options.keep_log_file_num = 3;
  options.max_background_jobs = 2;
  // Small-gateway sizes (docs/edge.md, footprint): the writers of the WAL and MANIFEST keep
  // a buffer of up to this size each; the table cache needs no 64 shards for 256 files.
  options.writable_file_max_buffer_size = 256 << 10;
  options.table_cache_numshardbits = 2;
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = 8 << 20;
  cf_options.max_write_buffer_number = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 16 << 10;
  // Not RocksDB's default 32 MiB: the state's working set is in the memtables; 8 MiB in 4
  // shards.
  table.block_cache = rocksdb::NewLRUCache(8 << 20, 2);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (int i = 0; i < kStateFamilyCount; ++i) {
    descriptors.emplace_back(StateFamilyName(static_cast<StateFamily>(i)), cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, descriptors, &handles, &db);
  if (!s.ok()) {
    std::string msg = "cannot open state store '" + dir + "': " + s.ToString();
    if (s.IsCorruption() || s.IsIOError()) msg += "; " + StartFresh(dir);
    return Status::Corruption(msg);
  }
  // handles[0] is the default family, which Vigil does not use.
  db->DestroyColumnFamilyHandle(handles[0]);
  handles.erase(handles.begin());
  auto store = std::make_unique<RocksDbStore>(dir, db, handles);

  std::string format;
  auto got = store->Get(StateFamily::kMeta, kFormatKey, &format);
  if (!got.ok()) return got.status();
  if (!*got) {
    // No marker: a new store, or one whose creation was cut short before the marker was
    // written (then it holds nothing either). Anything else is not ours to guess at.
    bool empty = true;
    for (int i = 0; i < kStateFamilyCount && empty; ++i) {
      Status scan = store->Scan(static_cast<StateFamily>(i), "", "", [&](auto, auto) {
        empty = false;
        return false;
      });
      if (!scan.ok()) return scan;
    }
    if (!empty) {
      return Status::Corruption("state store '" + dir + "' has no format marker; " +
                                StartFresh(dir));
    }
    StateBatch b;
    b.Put(StateFamily::kMeta, kFormatKey, kStateFormat);
    Status w = store->Write(b, true);
    if (!w.ok()) return w;
  } else if (format != kStateFormat) {
    return Status::Corruption("state store '" + dir + "' was written in format '" + format +
                              "', this build reads '" + std::string(kStateFormat) + "'; " +
                              StartFresh(dir));
  }
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace vigil::cep
