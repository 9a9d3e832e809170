#pragma once
// The metadata checkpoint of a backup run (metadata.ckpt): every key/value
// pair of metad's store as of the backup's snapshot, opaque to the tools,
// each record checksummed (format in docs/backup.md):
//
//   "GRBKMD01"                                  8-byte magic
//   records: u32 key_len, u32 value_len, key, value,
//            u64 XXH3-64 of (both lengths, key, value)   (little endian)
//   end:     u32 0xffffffff, u32 0, u64 record count
//
// Keys are at most kMaxCheckpointKeyBytes and values kMaxCheckpointValueBytes;
// a reader checks both before allocating.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "tools/content_hash.h"

namespace granary::tools::backup {

inline constexpr uint32_t kMaxCheckpointKeyBytes = 1024;
inline constexpr uint32_t kMaxCheckpointValueBytes = 64u << 20;

class CheckpointWriter {
 public:
  // Creates `path` (truncating). Close() must be called; the destructor only
  // closes the file.
  static Result<std::unique_ptr<CheckpointWriter>> Create(const std::string& path);
  ~CheckpointWriter();

  Status Add(std::string_view key, std::string_view value);
  // Writes the end record, fsyncs and closes.
  Status Close();

  uint64_t records() const { return records_; }
  uint64_t bytes() const { return hash_.fed(); }
  // XXH3-128 of the whole file, valid after Close().
  std::string xxh128() const { return hash_.HexDigest(); }

 private:
  CheckpointWriter(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  Status Write(std::string_view bytes);

  std::string path_;
  std::FILE* f_;
  uint64_t records_ = 0;
  ContentHasher hash_;
};

// Reads a checkpoint, checking every record, and calls `fn` for each pair.
// CORRUPTION names the record number and what failed.
Status ReadCheckpoint(const std::string& path,
                      const std::function<Status(std::string_view, std::string_view)>& fn);

}  // namespace granary::tools::backup
