#pragma once
// RocksDbKv: the embedded KvStore, RocksDB with its write-ahead log on.
//
// Writers are serialized by one mutex: Commit evaluates the checks against the
// latest state, then applies a WriteBatch, both under the mutex, so the pair is
// atomic. That is correct for one metad process owning the database (RocksDB's
// LOCK file refuses a second process). Several metads sharing a namespace need
// a store with server-side transactions: etcd, behind the same interface.
//
// A Commit with sync=true is on disk (WAL fsynced) before it returns. Because the
// WAL is sequential, it also makes every earlier unsynced commit durable.
//
// Reads (Get, Scan) do not take the writer mutex; each sees a consistent
// snapshot of the moment it starts.
//
// This is the only code in metadata/ that talks to RocksDB; rocksdb::Status
// becomes granary::Status here.

#include <memory>
#include <mutex>
#include <string>

#include "metadata/kv/kv_store.h"

namespace rocksdb {
class DB;
}

namespace granary::metadata {

struct RocksDbKvOptions {
  // Folder of the database; created (with parents) when missing.
  std::string path;
  // Block cache for reads, bytes. Default 64 MiB.
  size_t block_cache_bytes = 64u << 20;
  // Background flush/compaction threads. Default 2.
  int background_threads = 2;
};

class RocksDbKv final : public KvStore {
 public:
  // Opens (or creates) the database. IO_ERROR names the path and the reason,
  // e.g. another process holding its lock.
  static Result<std::unique_ptr<RocksDbKv>> Open(const RocksDbKvOptions& options);

  // Closes the database if Close() was not called (errors are logged).
  ~RocksDbKv() override;
  RocksDbKv(const RocksDbKv&) = delete;
  RocksDbKv& operator=(const RocksDbKv&) = delete;

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) override;
  Status Commit(const KvTxn& txn, const CommitOptions& options) override;

  // Syncs the WAL, flushes the memtable (so the next open replays little) and
  // closes the database. Later calls on this object return UNAVAILABLE.
  // Idempotent. Not thread-safe with concurrent calls on this object.
  Status Close();

  const std::string& path() const { return path_; }

 private:
  RocksDbKv(std::string path, std::unique_ptr<rocksdb::DB> db);

  std::string path_;
  std::mutex write_mu_;  // serializes Commit: checks then WriteBatch
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace granary::metadata
