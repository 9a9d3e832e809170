#pragma once
// RocksDbKv: the embedded KvStore, RocksDB with its write-ahead log on.
//
// Writers are serialized by one mutex: Commit evaluates the checks against the
// latest state, then applies a WriteBatch, both under the mutex, so the pair is
// atomic. That is correct for one metad process owning the database (RocksDB's
// LOCK file refuses a second process). Several metads sharing a namespace need
// a store with server-side transactions: etcd, behind the same interface.
//
// Durability, with group commit: the batch is written to the WAL (handed to
// the OS, so it survives a crash of the process) under the mutex, and the WAL
// fsync happens after the mutex is released. One committer at a time runs the
// fsync; it covers every batch written before it started, so commits that
// arrive while an fsync runs share the next one. Synced commits therefore
// scale with concurrency instead of costing one fsync each behind the mutex.
// A Commit with sync=true returns only once its batch is on disk.
//
// Reads (Get, Scan) never observe a synced commit before it is durable: a read
// that starts while such a commit waits for its fsync waits for it too (at
// most one fsync). Unsynced commits (sync=false) are visible at once.
// Reads do not take the writer mutex; each sees a consistent snapshot.
//
// A failed WAL fsync is fatal for the object: durability can no longer be
// promised, so every later Commit fails with the same IO_ERROR (as RocksDB
// itself stops writing after a WAL error). Restart metad.
//
// This is the only code in metadata/ that talks to RocksDB; rocksdb::Status
// becomes granary::Status here.

#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "metadata/kv/kv_store.h"

namespace rocksdb {
class DB;
}

namespace granary::metadata {

struct RocksSnapshotHandle;

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
  // Joins the group commit as a synced commit without a batch: the WAL fsync
  // it waits for covers every batch written before, unsynced ones included.
  Status Sync() override;
  // A RocksDB snapshot (rocksdb::DB::GetSnapshot). Close() releases every
  // snapshot still held; they answer UNAVAILABLE afterwards.
  Result<std::shared_ptr<KvSnapshot>> NewSnapshot() override;

  // Syncs the WAL, flushes the memtable (so the next open replays little) and
  // closes the database. Later calls on this object return UNAVAILABLE.
  // Idempotent. Not thread-safe with concurrent calls on this object.
  Status Close();

  const std::string& path() const { return path_; }

 private:
  RocksDbKv(std::string path, std::unique_ptr<rocksdb::DB> db);

  // Returns once every synced commit numbered <= `seq` is on disk, running
  // the WAL fsync itself when no other thread is.
  Status WaitDurable(uint64_t seq);
  // The number of the last synced commit written (whether durable or not).
  uint64_t LastSyncedCommit();
  // Reads of the latest state, durable or not (for Commit's checks).
  Result<std::optional<std::string>> GetLatest(std::string_view key);
  Result<std::vector<KvPair>> ScanLatest(const KeyRange& range, size_t limit);

  std::string path_;
  std::mutex write_mu_;  // serializes Commit: checks then WriteBatch
  std::unique_ptr<rocksdb::DB> db_;

  // Group commit state, under sync_mu_ (taken after write_mu_, never before).
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t written_seq_ = 0;  // synced commits written to the WAL
  uint64_t durable_seq_ = 0;  // synced commits known to be on disk
  bool syncing_ = false;      // a thread is running the WAL fsync
  Status sync_error_;         // first failed fsync: fatal

  // Snapshots handed out and not yet released, so Close() can release them
  // (RocksDB refuses to close with snapshots held). Under snapshots_mu_.
  std::mutex snapshots_mu_;
  std::vector<std::weak_ptr<RocksSnapshotHandle>> snapshots_;
};

}  // namespace granary::metadata
