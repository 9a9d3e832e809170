#pragma once
// DataFolder: one data folder of a chunk server (usually one per disk).
//
//   <path>/LOCK             flock'ed while a chunk store has the folder open
//   <path>/node_id          the server's stable id (16 hex digits + newline)
//   <path>/chunks/<xx>/     up to 256 subfolders, xx = low byte of the chunk id
//     <id16>.<version>          committed chunk file (storage/FORMAT.md)
//     <id16>.<version>.<n>.tmp  chunk being written (attempt n); removed at startup
//     <id16>.<version>.corrupt  quarantined replica, never served
//
// Thread safety: const methods may run concurrently. All methods block.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/store/chunk_format.h"
#include "storage/store/file_util.h"

namespace granary::storage::store {

inline constexpr int kChunkSubdirs = 256;

// File-system space as statvfs reports it, in bytes. Folders on one file
// system report the same numbers; `fs_id` lets callers count them once.
struct FolderUsage {
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;  // capacity minus all free blocks, as df shows it
  uint64_t free_bytes = 0;  // available to unprivileged writers
  uint64_t fs_id = 0;
};

// What startup learned about one committed chunk file.
struct ScannedChunk {
  ChunkKey key;
  uint32_t block_count = 0;
  uint64_t total_raw = 0;
  uint64_t total_stored = 0;
  uint64_t file_size = 0;
};

struct SubdirScan {
  std::vector<ScannedChunk> chunks;
  size_t temp_removed = 0;
  size_t quarantined = 0;   // bad files renamed to *.corrupt by this scan
  size_t corrupt_kept = 0;  // *.corrupt files from earlier runs
  size_t unknown = 0;       // names the store does not recognise (left alone)
};

class DataFolder {
 public:
  // Creates the layout if missing and takes the folder's lock. Fails if
  // another process holds it: two servers on one folder would corrupt it.
  static Result<std::unique_ptr<DataFolder>> Open(const std::string& path);

  // Creates chunks/<xx> for this chunk id if it does not exist yet, durably
  // (the parent folder is fsynced). Subfolders are made on first use so an
  // empty folder costs nothing; after the first call this is one atomic load.
  Status EnsureSubdir(uint64_t chunk_id) const;

  const std::string& path() const { return path_; }
  std::string SubdirPath(uint64_t chunk_id) const;
  std::string ChunkPath(const ChunkKey& key) const;
  // Temp file of one write attempt: "<chunk path>.<attempt>.tmp".
  std::string TempPath(const ChunkKey& key, uint64_t attempt) const {
    return ChunkPath(key) + "." + std::to_string(attempt) + ".tmp";
  }

  Result<FolderUsage> Usage() const;

  // The node id stored here, or nullopt when the folder has none yet.
  // CORRUPTION when the file exists but does not hold a valid id.
  Result<std::optional<std::string>> ReadNodeId() const;
  // Stores the id durably (atomic replace).
  Status WriteNodeId(const std::string& node_id) const;

  // Scans chunks/<subdir>: removes temp files left by a crash, validates
  // every chunk file's footer and name, quarantines files that fail.
  // An unreadable subfolder is an error: serving without its chunks would
  // look like data loss to the cluster.
  Result<SubdirScan> ScanSubdir(int subdir) const;

 private:
  DataFolder(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}

  std::string path_;
  UniqueFd lock_;  // holds the flock for the folder's lifetime
  mutable std::array<std::atomic<bool>, kChunkSubdirs> subdir_ready_{};
};

// True for exactly 16 lower-case hex digits.
bool IsValidNodeId(std::string_view id);
// A new random node id (16 lower-case hex digits).
std::string GenerateNodeId();

}  // namespace granary::storage::store
