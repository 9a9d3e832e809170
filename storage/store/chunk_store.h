#pragma once
// ChunkStore: the chunk replicas of one chunk server, spread over one or more
// data folders (storage/FORMAT.md describes the files).
//
// Writes arrive as pieces (whole encoded blocks at a stored offset, in any
// order). Each chunk version being written has a temp file; a piece is
// pwritten at its offset and its blocks recorded. Commit checks that blocks
// [0, total_blocks) all arrived and tile the chunk, appends the footer,
// optionally fdatasyncs, and renames the file into place; only then is the
// version visible to readers. A crash before the rename leaves a temp file
// that the next Open removes: nothing half-written is ever served.
//
// The index (chunk id -> versions -> location) lives in memory and is rebuilt
// by Open from the folders. Files that fail validation are quarantined.
//
// Thread safety: every method may be called concurrently from any thread.
// Every method blocks on disk I/O: call them from a thread pool, never from
// an I/O thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"
#include "storage/store/chunk_format.h"
#include "storage/store/data_folder.h"
#include "storage/store/file_cache.h"

namespace granary::storage::store {

struct StoreOptions {
  // Data folders, at least one. Created if missing. Not reloadable.
  std::vector<std::string> data_dirs;
  // Open chunk files kept in the LRU (each costs one fd plus its block table).
  size_t file_cache_entries = 512;
  // Threads validating chunk files at startup.
  int scan_threads = 4;
  // Chunk versions being written at once; more is RESOURCE_EXHAUSTED.
  size_t max_pending_writes = 1024;
  // A folder with less free space than this takes no new chunks.
  uint64_t min_free_bytes = 64ull << 20;
};

struct ChunkMeta {
  ChunkKey key;
  uint32_t block_count = 0;
  uint64_t total_raw = 0;
  uint64_t total_stored = 0;  // block bytes, headers included, footer excluded
  uint64_t file_size = 0;
  std::string path;
};

struct CommitSpec {
  uint32_t total_blocks = 0;
  uint64_t total_stored = 0;
  uint64_t total_raw = 0;
  bool fsync = false;  // fdatasync the file and fsync the folder before returning
};

struct ReadResult {
  Buffer bytes;               // the encoded blocks, headers included, back to back
  uint32_t block_count = 0;   // blocks in `bytes`
  uint32_t total_blocks = 0;  // blocks in the chunk
};

// Where a block range lies in its chunk file, for sending it with sendfile.
struct BlockRange {
  std::shared_ptr<const ChunkFile> file;  // keeps the descriptor open
  uint64_t offset = 0;                    // of the first block's header
  uint64_t length = 0;                    // of the whole range, headers included
  uint32_t block_count = 0;
  uint32_t total_blocks = 0;
};

// One data folder as metrics show it.
struct FolderStatus {
  std::string path;
  bool in_service = true;  // false once CheckFolders took it out
  bool usage_ok = false;   // statvfs answered; `usage` is meaningful
  FolderUsage usage;
};

struct StoreUsage {
  uint64_t capacity_bytes = 0;  // summed over distinct file systems
  uint64_t used_bytes = 0;
  uint64_t free_bytes = 0;
  // What new chunks may still fill: free bytes above min_free_bytes in the
  // folders in service. 0 = the server refuses new writes (NO_SPACE).
  uint64_t writable_bytes = 0;
  uint64_t chunk_count = 0;  // committed chunk versions
  uint64_t chunk_bytes = 0;  // their file sizes
  size_t pending_writes = 0;
};

class ChunkStore {
 public:
  // Opens (creating if needed) every data folder, checks or creates the node
  // id (one id for all folders; a folder holding another id is an error),
  // removes temp files, and indexes every valid chunk file.
  static Result<std::unique_ptr<ChunkStore>> Open(const StoreOptions& options);
  ~ChunkStore();

  const std::string& node_id() const { return node_id_; }
  const std::vector<std::string>& folder_paths() const { return folder_paths_; }

  // Writes one validated piece (from ValidatePiece over the same `payload`).
  // Re-sending a block with identical contents is allowed (retries); sending
  // different contents for a received block is INVALID_ARGUMENT. Errors:
  // ALREADY_EXISTS when the version is committed, RESOURCE_EXHAUSTED past
  // max_pending_writes, NO_SPACE, IO_ERROR (the write is then poisoned and
  // its commit will fail: the client must write a new version).
  Status WritePiece(const ChunkKey& key, const PieceLayout& layout, ByteSpan payload);

  // Makes a written version durable and visible. CHUNK_INCOMPLETE names the
  // missing blocks (the write stays open: send them and commit again);
  // INVALID_ARGUMENT when totals disagree with the blocks. Committing an
  // already committed version with the same totals succeeds (a retried ack).
  Status Commit(const ChunkKey& key, const CommitSpec& spec);

  // Drops a version being written (temp file removed). No-op when absent.
  // Aborts the write of `key` in progress, unless it began after
  // `ordered_at` (see Delete).
  void AbortWrite(const ChunkKey& key, uint64_t ordered_at = UINT64_MAX);
  // Aborts writes that received nothing for `max_idle`; returns how many.
  size_t AbortIdleWrites(std::chrono::milliseconds max_idle);

  // Reads blocks [first_block, first_block + n) in one pread, where n is
  // `block_count` (0 = to the end) capped at `max_blocks` and `max_bytes`
  // (at least one block is always returned). CHUNK_NOT_FOUND for an unknown
  // version; INVALID_ARGUMENT for a range outside the chunk; CORRUPTION when
  // the file no longer matches its footer (the replica is then quarantined).
  Result<ReadResult> ReadBlocks(const ChunkKey& key, uint32_t first_block, uint32_t block_count,
                                uint32_t max_blocks, uint64_t max_bytes);

  // Like ReadBlocks, but returns where the blocks are instead of reading
  // them, so they can be sent from the page cache. With `prefetch` (whole
  // blocks to be sent) the range is hinted into the page cache
  // (POSIX_FADV_WILLNEED) and each block's header is read (32 bytes) and
  // checked against the block table; a caller reading a few segments of a
  // block passes false: the hint would read the whole block from disk, and
  // the block's index (ChunkFile::index) locates and checks the segments.
  Result<BlockRange> LocateBlocks(const ChunkKey& key, uint32_t first_block, uint32_t block_count,
                                  uint32_t max_blocks, uint64_t max_bytes, bool prefetch = true);

  Result<ChunkMeta> Stat(const ChunkKey& key) const;
  // Every committed version, ordered by (chunk id, version).
  std::vector<ChunkKey> List() const;
  // Removes a committed version's file and aborts a write of it in progress.
  // Returns whether a committed version was removed.
  //
  // `ordered_at`: the Stamp() taken before the request that carried this
  // deletion was sent (metad's heartbeat reply). A replica committed, or a
  // write begun, after it is one metad could not have meant: repair may copy
  // a version back to this server right after handing out its deletion, and
  // that copy must survive. It is left alone (false); if metad did want it
  // gone, its orphan sweep queues the deletion again.
  Result<bool> Delete(const ChunkKey& key, uint64_t ordered_at = UINT64_MAX);

  // A counter that every commit and every new write advances.
  uint64_t Stamp() const { return stamp_.load(std::memory_order_acquire); }

  Result<StoreUsage> Usage() const;

  // Re-reads a committed version whole and verifies every block (header
  // against the table, stored checksum). A replica that fails is quarantined
  // and CORRUPTION returned. Returns the bytes read. For the scrubber.
  Result<uint64_t> Verify(const ChunkKey& key);

  // Checks that every data folder is still there and readable (its node_id
  // file can be read back). A folder that fails is taken out of service: no
  // new chunks go there, its replicas leave the index and are reported lost
  // (TakeLost), so metad re-replicates them; the other folders keep serving.
  // Returns the folders taken out by this call.
  std::vector<std::string> CheckFolders();
  size_t failed_folders() const;
  // Every data folder with its space (a statvfs each), in the order given.
  std::vector<FolderStatus> FolderStatuses() const;

  // Versions quarantined since the last call, for metad (heartbeat).
  std::vector<ChunkKey> TakeLost();
  // Puts back what TakeLost returned when it could not be delivered.
  void ReturnLost(const std::vector<ChunkKey>& keys);
  // A lost version is here again (copied back): not to be reported.
  void ForgetLost(const ChunkKey& key);

 private:
  struct PendingWrite;  // pending_write.h
  struct IndexEntry {
    uint32_t folder = 0;
    uint32_t block_count = 0;
    uint64_t total_raw = 0;
    uint64_t total_stored = 0;
    uint64_t file_size = 0;
    uint64_t stamp = 0;  // Stamp() at commit; 0 for replicas found at start
  };

  // Advanced (before use) by every commit and every new pending write.
  std::atomic<uint64_t> stamp_{0};

  explicit ChunkStore(const StoreOptions& options)
      : options_(options), cache_(options.file_cache_entries) {}
  Status InitNodeId();
  Status ScanFolders();

  bool Lookup(const ChunkKey& key, IndexEntry* entry) const;
  void Quarantine(const ChunkKey& key, const std::string& path, const Status& why);
  Result<std::shared_ptr<const ChunkFile>> OpenCached(const ChunkKey& key, const IndexEntry& e);
  Result<std::shared_ptr<PendingWrite>> GetOrCreatePending(const ChunkKey& key);
  Result<uint32_t> PickFolder() const;
  Status FinishCommit(const ChunkKey& key, PendingWrite& pw, const CommitSpec& spec);
  void RemovePending(const ChunkKey& key, const PendingWrite* pw);

  const StoreOptions options_;
  std::vector<std::unique_ptr<DataFolder>> folders_;
  std::vector<std::string> folder_paths_;
  std::string node_id_;
  FileCache cache_;

  mutable std::shared_mutex index_mu_;
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, IndexEntry>> index_;
  uint64_t chunk_count_ = 0;  // guarded by index_mu_
  uint64_t chunk_bytes_ = 0;  // guarded by index_mu_

  void FailFolder(uint32_t folder, const Status& why);
  std::vector<std::atomic<bool>> failed_;  // per folder; sized at Open

  std::mutex lost_mu_;
  std::vector<ChunkKey> lost_;  // guarded by lost_mu_

  mutable std::mutex pending_mu_;
  std::unordered_map<ChunkKey, std::shared_ptr<PendingWrite>, ChunkKeyHash> pending_;
};

}  // namespace granary::storage::store
