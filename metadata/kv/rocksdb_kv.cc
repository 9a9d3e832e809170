#include "metadata/kv/rocksdb_kv.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <shared_mutex>
#include <system_error>

#include "common/log.h"

namespace granary::metadata {
namespace {

// The single seam where rocksdb::Status becomes a granary::Status.
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsNoSpace()) return Status::NoSpace(std::move(msg));
  if (s.IsInvalidArgument() || s.IsNotSupported()) return Status::InvalidArgument(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() || s.IsIncomplete()) {
    return Status::Unavailable(std::move(msg));
  }
  if (s.IsIOError()) return Status::IoError(std::move(msg));
  return Status::Internal(std::move(msg));
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

// What a snapshot object and the store share: the database and the RocksDB
// snapshot, both null once released (by the object's destructor or by
// Close()). Reads hold `mu` shared, a release holds it exclusively, so a
// release never pulls the snapshot from under a running read.
struct RocksSnapshotHandle {
  std::shared_mutex mu;
  rocksdb::DB* db = nullptr;
  const rocksdb::Snapshot* snap = nullptr;
  std::string path;

  void Release() {
    std::unique_lock lock(mu);
    if (db != nullptr && snap != nullptr) db->ReleaseSnapshot(snap);
    db = nullptr;
    snap = nullptr;
  }
};

namespace {

class RocksSnapshot final : public KvSnapshot {
 public:
  explicit RocksSnapshot(std::shared_ptr<RocksSnapshotHandle> h) : h_(std::move(h)) {}
  ~RocksSnapshot() override { h_->Release(); }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::shared_lock lock(h_->mu);
    if (h_->db == nullptr) return Status::Unavailable("snapshot of " + h_->path + " is released");
    rocksdb::ReadOptions ro;
    ro.snapshot = h_->snap;
    std::string value;
    rocksdb::Status s = h_->db->Get(ro, ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "reading a snapshot of " + h_->path);
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) override {
    std::shared_lock lock(h_->mu);
    if (h_->db == nullptr) return Status::Unavailable("snapshot of " + h_->path + " is released");
    rocksdb::ReadOptions ro;
    ro.snapshot = h_->snap;
    rocksdb::Slice upper = ToSlice(range.end);
    if (!range.end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro));
    std::vector<KvPair> out;
    for (it->Seek(ToSlice(range.start)); it->Valid(); it->Next()) {
      if (limit != 0 && out.size() >= limit) break;
      out.push_back({it->key().ToString(), it->value().ToString()});
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning a snapshot of " + h_->path);
    return out;
  }

 private:
  std::shared_ptr<RocksSnapshotHandle> h_;
};

}  // namespace

Result<std::shared_ptr<KvSnapshot>> RocksDbKv::NewSnapshot() {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  // As for Get: a synced commit is visible only once durable.
  RETURN_IF_ERROR(WaitDurable(LastSyncedCommit()));
  auto h = std::make_shared<RocksSnapshotHandle>();
  h->db = db_.get();
  h->snap = db_->GetSnapshot();
  h->path = path_;
  if (h->snap == nullptr) return Status::Internal("RocksDB gave no snapshot of " + path_);
  std::lock_guard lock(snapshots_mu_);
  // Forget handles already released, so the list stays as long as the live set.
  std::erase_if(snapshots_, [](const std::weak_ptr<RocksSnapshotHandle>& w) { return w.expired(); });
  snapshots_.push_back(h);
  return std::shared_ptr<KvSnapshot>(std::make_shared<RocksSnapshot>(std::move(h)));
}

Result<std::unique_ptr<RocksDbKv>> RocksDbKv::Open(const RocksDbKvOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("RocksDB path is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::IoError("cannot create " + options.path + ": " + ec.message());

  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.IncreaseParallelism(options.background_threads);
  opts.keep_log_file_num = 5;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The WAL stays on (the default): acknowledged namespace changes are synced
  // commits, and recovery replays the log up to the last synced record.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, options.path, &raw);
  if (!s.ok()) return FromRocks(s, "opening metadata database " + options.path);
  return std::unique_ptr<RocksDbKv>(new RocksDbKv(options.path, std::unique_ptr<rocksdb::DB>(raw)));
}

RocksDbKv::RocksDbKv(std::string path, std::unique_ptr<rocksdb::DB> db)
    : path_(std::move(path)), db_(std::move(db)) {}

RocksDbKv::~RocksDbKv() {
  Status st = Close();
  if (!st.ok()) LOG_ERROR("closing {}: {}", path_, st.ToString());
}

Status RocksDbKv::Close() {
  std::lock_guard lock(write_mu_);
  if (!db_) return Status::Ok();
  {
    std::lock_guard snap_lock(snapshots_mu_);
    for (auto& w : snapshots_) {
      if (auto h = w.lock()) h->Release();
    }
    snapshots_.clear();
  }
  Status result = FromRocks(db_->FlushWAL(/*sync=*/true), "syncing WAL of " + path_);
  rocksdb::FlushOptions flush;
  flush.wait = true;
  Status flushed = FromRocks(db_->Flush(flush), "flushing " + path_);
  if (result.ok()) result = flushed;
  Status closed = FromRocks(db_->Close(), "closing " + path_);
  if (result.ok()) result = closed;
  db_.reset();
  return result;
}

uint64_t RocksDbKv::LastSyncedCommit() {
  std::lock_guard lock(sync_mu_);
  return written_seq_;
}

Status RocksDbKv::WaitDurable(uint64_t seq) {
  std::unique_lock lock(sync_mu_);
  while (durable_seq_ < seq) {
    if (!sync_error_.ok()) return sync_error_;
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    // Become the leader: every batch counted in written_seq_ is already in the
    // WAL file, so one fsync now makes all of them durable.
    syncing_ = true;
    const uint64_t target = written_seq_;
    lock.unlock();
    Status st = FromRocks(db_->SyncWAL(), "syncing the WAL of " + path_);
    lock.lock();
    syncing_ = false;
    if (st.ok()) {
      durable_seq_ = std::max(durable_seq_, target);
    } else {
      LOG_ERROR("{}: no further metadata writes are accepted", st.ToString());
      sync_error_ = st;
    }
    sync_cv_.notify_all();
  }
  return Status::Ok();
}

Result<std::optional<std::string>> RocksDbKv::Get(std::string_view key) {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  RETURN_IF_ERROR(WaitDurable(LastSyncedCommit()));
  return GetLatest(key);
}

Result<std::optional<std::string>> RocksDbKv::GetLatest(std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading " + path_);
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<KvPair>> RocksDbKv::Scan(const KeyRange& range, size_t limit) {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  RETURN_IF_ERROR(WaitDurable(LastSyncedCommit()));
  return ScanLatest(range, limit);
}

Result<std::vector<KvPair>> RocksDbKv::ScanLatest(const KeyRange& range, size_t limit) {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper = ToSlice(range.end);
  if (!range.end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::vector<KvPair> out;
  for (it->Seek(ToSlice(range.start)); it->Valid(); it->Next()) {
    if (limit != 0 && out.size() >= limit) break;
    out.push_back({it->key().ToString(), it->value().ToString()});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning " + path_);
  return out;
}

Status RocksDbKv::Sync() {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  uint64_t seq = 0;
  {
    // Every unsynced commit that returned before this point is in the WAL
    // file; a fsync started after the counter moves covers it.
    std::lock_guard sync_lock(sync_mu_);
    if (!sync_error_.ok()) return sync_error_;
    seq = ++written_seq_;
  }
  return WaitDurable(seq);
}

Status RocksDbKv::Commit(const KvTxn& txn, const CommitOptions& options) {
  uint64_t seq = 0;
  {
    std::lock_guard lock(write_mu_);
    if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
    {
      std::lock_guard sync_lock(sync_mu_);
      if (!sync_error_.ok()) return sync_error_;
    }
    // Checks read the latest state, durable or not: holding write_mu_ means no
    // other commit can land between them and the batch below, and this
    // commit's own fsync covers every earlier batch (the WAL is sequential).
    auto get = [this](std::string_view key) { return GetLatest(key); };
    auto range_empty = [this](const KeyRange& range) -> Result<bool> {
      ASSIGN_OR_RETURN(std::vector<KvPair> first, ScanLatest(range, 1));
      return first.empty();
    };
    for (const KvCheck& check : txn.checks()) {
      RETURN_IF_ERROR(EvaluateCheck(check, get, range_empty));
    }
    if (txn.writes().empty()) return Status::Ok();

    rocksdb::WriteBatch batch;
    for (const KvWrite& w : txn.writes()) {
      rocksdb::Status s = w.kind == KvWrite::Kind::kPut
                              ? batch.Put(ToSlice(w.key), ToSlice(w.value))
                              : batch.Delete(ToSlice(w.key));
      if (!s.ok()) return FromRocks(s, "building write batch for " + path_);
    }
    // Written to the WAL file and the memtable; the fsync follows below,
    // outside write_mu_, shared with concurrent committers.
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "writing " + path_));
    if (!options.sync) return Status::Ok();
    std::lock_guard sync_lock(sync_mu_);
    seq = ++written_seq_;
  }
  return WaitDurable(seq);
}

}  // namespace granary::metadata
