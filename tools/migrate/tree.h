#pragma once
// One interface over the two kinds of trees `granary migrate` copies between:
// a local file system and a Granary cluster. The walker and the copy job are
// written once against it.
//
// Paths are absolute in the tree's own namespace (a local path, or a
// normalized cluster path); Join builds children. Stat and List do not follow
// symlinks. NOT_FOUND means the path does not exist; NOT_DIRECTORY that a
// file stands where a folder is needed. Implementations are thread-safe; the
// FileSource and FileSink objects they return are used by one thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"
#include "granary/client.h"

namespace granary::tools::migrate {

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct Entry {
  std::string name;  // the last component (List); empty from Stat
  EntryType type = EntryType::kOther;
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  std::string symlink_target;
};

// The attributes migrate carries over.
struct Attrs {
  uint32_t mode = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  bool set_owner = false;  // only when running as root
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// A file open for sequential reading.
class FileSource {
 public:
  virtual ~FileSource() = default;
  // Up to out.size() bytes; 0 at the end of the file.
  virtual Result<size_t> Read(MutableByteSpan out) = 0;
};

// A new file being written. Nothing is visible under its name before Finish
// returns OK; a sink destroyed without Finish leaves a partial file that the
// caller removes.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual Status Write(ByteSpan data) = 0;
  // Flushes, makes the data durable when the tree was opened with fsync,
  // and closes.
  virtual Status Finish() = 0;
};

class Tree {
 public:
  virtual ~Tree() = default;
  // "granary://127.0.0.1:7000/a/b" or "/local/a/b": for messages.
  virtual std::string Describe(const std::string& path) const = 0;
  virtual std::string Join(const std::string& dir, std::string_view name) const = 0;
  // The parent folder and the last component of a path.
  virtual std::pair<std::string, std::string> Split(const std::string& path) const = 0;

  virtual Result<Entry> Stat(const std::string& path) = 0;
  // Every entry of a folder, in no particular order.
  virtual Result<std::vector<Entry>> List(const std::string& dir) = 0;
  // An existing folder is fine; anything else under that name is NOT_DIRECTORY.
  virtual Status MakeDir(const std::string& path) = 0;
  // Creates a symlink; fails with ALREADY_EXISTS if the name exists.
  virtual Status MakeSymlink(const std::string& path, const std::string& target,
                             const Attrs& attrs) = 0;
  virtual Result<std::unique_ptr<FileSource>> OpenRead(const std::string& path) = 0;
  // Creates (or truncates) a regular file with permission bits 0600 until
  // SetAttrs: a half-written file is never readable by others.
  virtual Result<std::unique_ptr<FileSink>> Create(const std::string& path) = 0;
  // Mode (not for symlinks), mtime, and owner when attrs.set_owner.
  virtual Status SetAttrs(const std::string& path, EntryType type, const Attrs& attrs) = 0;
  // Atomically replaces `to` (a file or symlink) with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a file or symlink.
  virtual Status Remove(const std::string& path) = 0;
  // Removes an empty folder (NOT_EMPTY otherwise).
  virtual Status RemoveDir(const std::string& path) = 0;
};

// A local file system. fsync: Finish fsyncs each file.
std::unique_ptr<Tree> MakeLocalTree(bool fsync);

// A cluster through `client` (owned by the tree). `name` is the
// metad address, for messages. fsync: files are durable on every replica
// when Finish returns.
std::unique_ptr<Tree> MakeClusterTree(std::unique_ptr<Client> client, std::string name,
                                      bool fsync);

}  // namespace granary::tools::migrate
