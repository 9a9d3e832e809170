#pragma once
// libgranary: the C++ client of a Granary cluster.
//
//   auto client = granary::Client::Connect({.meta_address = "127.0.0.1:7000"});
//   if (!client.ok()) { ... client.status().ToString() ... }
//   auto w = (*client)->Create("/models/llama/model.safetensors", {});
//   (*w)->Write(bytes); (*w)->Close();
//   auto r = (*client)->Open("/models/llama/model.safetensors");
//   (*r)->PRead(offset, buffer);
//
// Paths are absolute, '/'-separated, without "." or ".." components.
// Errors are values (granary::Status / Result<T>) whose messages name what was
// wrong. A Client is thread-safe; FileWriter and FileReader objects are not
// (use one per thread, or serialize calls).
//
// Semantics (close-to-open, like NFS):
// - Data written is visible to readers that open the file after Close()
//   returns; at that point it is present on every replica.
// - After Fsync() or Close() with WriterOptions::fsync, it is on disk on every
//   replica.
// - One writer per file at a time: a second Create/OpenForWrite of a file that
//   another writer holds fails with LEASE_CONFLICT.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"

namespace granary {

struct ClientOptions {
  // "host:port" of granary-metad.
  std::string meta_address;
  // Identifies this client in write leases and logs. Default: host:pid.
  std::string client_id;
  // Threads running network I/O and decode. Default: 2.
  int io_threads = 2;
  // Threads encoding (compressing, checksumming) blocks for writers. Default: 2.
  int encode_threads = 2;
  // Deadline of each metadata call and each chunk piece. Default 30 s.
  std::chrono::milliseconds rpc_timeout{30000};
  // TCP connections per chunk server, used round-robin.
  size_t connections_per_server = 2;
  // Block reads in flight per FileReader::PRead call (spread over replicas).
  uint32_t read_parallelism = 8;
  // Bytes a sequential FileReader fetches ahead of the caller. 0 disables.
  uint64_t readahead_bytes = 32ull << 20;
  // Blocks sent down a chain before waiting for acknowledgements.
  uint32_t write_window = 16;
  // zstd level used for blocks that compress.
  int zstd_level = 1;
};

enum class FileType { kUnknown, kFile, kDirectory, kSymlink };

struct FileInfo {
  uint64_t inode = 0;
  FileType type = FileType::kUnknown;
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint32_t nlink = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  int64_t ctime_sec = 0;
  uint32_t replicas = 0;
  uint64_t chunk_size = 0;
  std::string symlink_target;
};

struct DirEntryInfo {
  std::string name;
  FileInfo info;
};

struct ReplicaInfo {
  std::string node_id;
  std::string address;
};

struct ChunkLocation {
  uint64_t chunk_index = 0;
  uint64_t chunk_id = 0;
  uint64_t version = 0;
  uint64_t length = 0;         // raw bytes
  uint64_t stored_length = 0;  // bytes on disk per replica
  std::vector<ReplicaInfo> replicas;
};

struct NodeStatus {
  std::string node_id;
  std::string address;
  std::string failure_domain;
  bool up = false;
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t chunk_count = 0;
  int64_t last_heartbeat_ms = 0;
};

struct FsStats {
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t files = 0;
  uint64_t chunks = 0;
  uint32_t nodes_up = 0;
  uint32_t nodes_total = 0;
};

struct CreateOptions {
  uint32_t mode = 0644;
  bool exclusive = false;   // fail with ALREADY_EXISTS if it exists; else an existing
                            // file is truncated to 0 bytes
  uint32_t replicas = 0;    // 0 = inherit from the parent folder (cluster default 3)
  uint64_t chunk_size = 0;  // 0 = inherit (cluster default 64 MiB)
  bool fsync_on_close = false;  // Close() also makes the data durable on every replica
};

// Buffered sequential writer. Blocks are encoded on the client's encode pool
// and streamed down the replica chain while the next ones are encoded.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  // Appends bytes. Returns an error if a previous background write failed.
  virtual Status Write(ByteSpan data) = 0;
  // Makes everything written so far durable on every replica and visible.
  virtual Status Fsync() = 0;
  // Flushes, commits the file size and releases the write lease. Idempotent.
  virtual Status Close() = 0;
  // Bytes written so far.
  virtual uint64_t size() const = 0;
};

// Positional reader over a file's committed contents as of Open().
class FileReader {
 public:
  virtual ~FileReader() = default;
  // Reads up to out.size() bytes at `offset`; returns the count (0 at EOF).
  // Several chunks and blocks are fetched in parallel from different replicas.
  virtual Result<size_t> PRead(uint64_t offset, MutableByteSpan out) = 0;
  virtual uint64_t size() const = 0;
  virtual const FileInfo& info() const = 0;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);
  virtual ~Client() = default;

  // Namespace.
  virtual Result<FileInfo> Stat(std::string_view path) = 0;
  virtual Result<FileInfo> Mkdir(std::string_view path, uint32_t mode = 0755,
                                 bool parents = false) = 0;
  virtual Result<std::vector<DirEntryInfo>> ReadDir(std::string_view path) = 0;
  // Atomic; replaces an existing destination file unless no_replace.
  virtual Status Rename(std::string_view from, std::string_view to, bool no_replace = false) = 0;
  virtual Status Unlink(std::string_view path) = 0;
  virtual Status Rmdir(std::string_view path) = 0;
  // Sets replication factor (and, for folders and empty files, chunk size);
  // new files under a folder inherit them. 0 leaves a field unchanged.
  virtual Result<FileInfo> SetLayout(std::string_view path, uint32_t replicas,
                                     uint64_t chunk_size) = 0;
  virtual Result<FileInfo> Chmod(std::string_view path, uint32_t mode) = 0;

  // Data.
  virtual Result<std::unique_ptr<FileWriter>> Create(std::string_view path,
                                                     const CreateOptions& options) = 0;
  virtual Result<std::unique_ptr<FileReader>> Open(std::string_view path) = 0;
  virtual Result<std::vector<ChunkLocation>> GetLayout(std::string_view path) = 0;

  // Cluster.
  virtual Result<FsStats> StatFs() = 0;
  virtual Result<std::vector<NodeStatus>> ListNodes() = 0;
};

// Path helpers shared by the library and the CLI.
// Normalizes "a//b/" to "/a/b"; rejects "." and ".." components, empty names
// and names longer than 255 bytes.
Result<std::string> NormalizePath(std::string_view path);
// "/a/b/c" -> {"/a/b", "c"}; "/" has no parent (INVALID_ARGUMENT).
Result<std::pair<std::string, std::string>> SplitParent(std::string_view normalized);

}  // namespace granary
