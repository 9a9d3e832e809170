#include "metadata/kv/rocksdb_kv.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
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

Result<std::optional<std::string>> RocksDbKv::Get(std::string_view key) {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading " + path_);
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<KvPair>> RocksDbKv::Scan(const KeyRange& range, size_t limit) {
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
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

Status RocksDbKv::Commit(const KvTxn& txn, const CommitOptions& options) {
  std::lock_guard lock(write_mu_);
  if (!db_) return Status::Unavailable("metadata database " + path_ + " is closed");
  // Checks read the latest state; holding write_mu_ means no other commit can
  // land between them and the batch below.
  auto get = [this](std::string_view key) { return Get(key); };
  auto range_empty = [this](const KeyRange& range) -> Result<bool> {
    ASSIGN_OR_RETURN(std::vector<KvPair> first, Scan(range, 1));
    return first.empty();
  };
  for (const KvCheck& check : txn.checks()) RETURN_IF_ERROR(EvaluateCheck(check, get, range_empty));
  if (txn.writes().empty()) return Status::Ok();

  rocksdb::WriteBatch batch;
  for (const KvWrite& w : txn.writes()) {
    rocksdb::Status s = w.kind == KvWrite::Kind::kPut ? batch.Put(ToSlice(w.key), ToSlice(w.value))
                                                      : batch.Delete(ToSlice(w.key));
    if (!s.ok()) return FromRocks(s, "building write batch for " + path_);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocks(db_->Write(wo, &batch), "writing " + path_);
}

}  // namespace granary::metadata
