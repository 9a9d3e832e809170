#pragma once
// Thin, blocking POSIX file helpers for the chunk store. This is the one seam
// where errno becomes a Status: ENOSPC/EDQUOT -> NO_SPACE, ENOENT -> NOT_FOUND,
// anything else -> IO_ERROR; every message names the path and the operation.
// All functions block: call them from the store's thread pool only.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/buffer.h"
#include "common/status.h"

namespace granary::storage::store {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Status for a failed system call: `what` is "open /data/chunks/ab/..".
Status ErrnoStatus(int err, std::string_view what);

// open(2) with O_CLOEXEC added.
Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode = 0644);

// Writes all of `data` at `offset`, retrying short writes and EINTR.
Status PWriteAll(int fd, ByteSpan data, uint64_t offset, std::string_view path);

// Reads exactly out.size() bytes at `offset`. A short read (the file ends
// early) is CORRUPTION: chunk files never shrink while indexed.
Status PReadAll(int fd, MutableByteSpan out, uint64_t offset, std::string_view path);

Result<uint64_t> FileSize(int fd, std::string_view path);
Status DataSync(int fd, std::string_view path);

// fsyncs a folder so a rename or create inside it survives a crash.
Status SyncDir(const std::string& dir);

// Writes `contents` to `path` atomically: temp file, fsync, rename, fsync dir.
Status WriteFileAtomic(const std::string& path, std::string_view contents);

// Reads a whole file of at most `max_bytes` bytes (more is CORRUPTION).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

Status RenameFile(const std::string& from, const std::string& to);
// Removes a file; a file that is already gone is not an error.
Status RemoveFile(const std::string& path);

}  // namespace granary::storage::store
