#pragma once
// ChunkPool: the chunk objects of a backup destination, shared by every run.
//
// One object per chunk version, named by chunk id and version, holding the
// chunk's decoded bytes compressed with zstd (format in docs/backup.md):
//
//   offset  size  field
//   0       8     magic "GRBKOBJ1"
//   8       8     raw length (decoded bytes), little endian
//   16      8     XXH3-64 of the raw bytes
//   24      8     XXH3-64 of the compressed bytes that follow
//   32      ...   one zstd frame
//
// Small files kept inline in metad become objects of the same format named by
// the XXH3-128 of their contents.
//
// Objects are written under a temporary name, fsynced and renamed into place,
// so an object that exists is complete; a run interrupted mid-copy leaves at
// most a temporary file, which the next run ignores and overwrites.
// Thread-safe: objects are independent files; no shared state.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/buffer.h"
#include "common/status.h"

namespace granary::tools::backup {

// Largest raw object: the largest chunk size (4 GiB). Checked before any
// allocation sized from an object header.
inline constexpr uint64_t kMaxObjectRawBytes = 4ull << 30;

class ChunkPool {
 public:
  // `dir` is DEST/pool; created when missing.
  static Result<ChunkPool> Open(std::string dir);

  // Relative names (from the pool folder), as the manifest stores them.
  static std::string ChunkObjectName(uint64_t chunk_id, uint64_t version);
  static std::string InlineObjectName(std::string_view xxh128_hex);

  // The raw length an object holds (from its header), or NOT_FOUND when it
  // does not exist. CORRUPTION when the header is not an object's.
  Result<uint64_t> StoredRawLength(const std::string& name) const;

  // Compresses `raw` and stores it as `name` atomically (temp, fsync, rename).
  // Returns the bytes written.
  Result<uint64_t> Put(const std::string& name, std::string_view raw) const;

  // Reads, checks and decompresses object `name`. CORRUPTION names the object
  // and what failed (header, compressed checksum, frame, raw checksum).
  // The bytes are a view of a buffer this thread keeps (reused, never
  // zero-filled: fresh 64 MiB strings per object were half of a backup's
  // time), valid until this thread's next Get.
  Result<std::string_view> Get(const std::string& name) const;

  // fsyncs every shard folder touched, so renames are durable before a
  // manifest names the objects.
  Status SyncFolders() const;

  const std::string& dir() const { return dir_; }

 private:
  explicit ChunkPool(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Writes `data` to `path` through `path`.tmp.<pid>, fsynced, then renamed:
// readers see the old file or the whole new one.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// fsync of a folder (makes renames into it durable).
Status SyncFolder(const std::string& path);
// Reads a whole local file, refusing files larger than `max_bytes`.
Result<std::string> ReadLocalFile(const std::string& path, uint64_t max_bytes);
// The same into `buf`, grown (never shrunk or zero-filled) to the file's
// size; returns the bytes read, which are at the front of `buf`.
Result<size_t> ReadLocalFileInto(const std::string& path, uint64_t max_bytes, Buffer& buf);

}  // namespace granary::tools::backup
