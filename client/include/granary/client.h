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
#include <optional>
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
  // How long calls wait for a metad that went away (a restart) once this
  // client has reached it; calls that cannot be resent safely still fail.
  std::chrono::milliseconds metad_restart_wait{30000};
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
  // Replicas held by chunk servers on this host are read from their files
  // (descriptors handed over a Unix socket; see common/net/local_read.h),
  // not over TCP. The environment variable GRANARY_LOCAL_READS=0 or =1
  // overrides this, for every client in the process.
  bool local_reads = true;
  // Threads doing those file reads (they block on the disk when cold).
  int local_read_threads = 4;
  // Cluster key file (docs/security.md); its first key authenticates every
  // connection to metad and the chunk servers. Empty (default): no key, for
  // clusters that run without one. Connect fails with PERMISSION_DENIED for
  // a file others may read, PERMISSION_DENIED also when the cluster refuses the key
  // ("wrong cluster key") or wants one ("cluster requires a key").
  std::string key_file;
};

enum class NodeAction { kStatus, kDrain, kUndrain, kRemove };

// A file in the trash (metad trash_ms > 0): removed, kept until expires_ms.
struct TrashItem {
  uint64_t inode = 0;
  uint64_t parent = 0;  // folder it was removed from
  std::string name;
  int64_t deleted_ms = 0;  // unix ms
  int64_t expires_ms = 0;
  uint64_t size = 0;
};

// What metad's repair loop reports.
struct RepairStatusInfo {
  uint64_t under_replicated = 0;  // chunks below their goal at the last scan
  uint64_t unrecoverable = 0;     // chunks with no usable replica
  uint64_t copies_in_flight = 0;
  uint64_t copies_done = 0;
  uint64_t copies_failed = 0;
  uint64_t bytes_copied = 0;
  uint64_t bad_replicas = 0;      // reported corrupt, not yet replaced
  int64_t last_scan_ms = 0;       // unix ms; 0 = no scan yet
};

// A folder's quota: its subtree's file sizes and entries, limited. A limit
// of 0 means none.
struct QuotaStatus {
  std::string path;
  uint64_t inode = 0;
  uint64_t max_bytes = 0;
  uint64_t max_files = 0;
  uint64_t used_bytes = 0;
  uint64_t used_files = 0;
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
  int64_t atime_sec = 0;
  uint32_t atime_nsec = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  int64_t ctime_sec = 0;
  uint32_t ctime_nsec = 0;
  uint32_t replicas = 0;
  uint64_t chunk_size = 0;
  std::string codec;  // block codec policy (see LayoutChanges::codec)
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
  uint32_t block_count = 0;    // encoded blocks in the chunk file
  std::vector<ReplicaInfo> replicas;
};

// Client::Warm: chunk servers read a file's replicas into their page cache.
struct WarmOptions {
  // Every replica of every chunk (the readers that follow spread over
  // them); false: one replica per chunk, spread over the servers.
  bool all_replicas = true;
  int requests_in_flight = 8;  // chunk-server requests at once (1..64)
};

struct WarmStats {
  uint64_t files = 0;
  uint64_t chunks = 0;
  uint64_t replicas = 0;  // replicas read into a server's page cache
  uint64_t bytes = 0;     // their file bytes
  uint64_t missing = 0;   // replicas a server no longer had (moved or deleted since)
  uint64_t failed = 0;    // replicas whose server failed or could not be reached
  std::string first_error;  // the first failure, naming the server
  double seconds = 0;
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
  bool draining = false;
  // Chunk replicas metad's records place on the node (NodeAdmin only).
  uint64_t replicas_referenced = 0;
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

// ---------------------------------------------------------------- inode-level API
// The FUSE mount works on inode numbers, not paths; these calls mirror the
// metadata service one to one. Names are single components (no '/').

struct Credentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// When a namespace change must be on metad's disk.
// kSynced: before the call returns (the path-based calls above always are).
// kLazy: in metad's write-ahead log at once (it survives a metad crash or
//   restart), on disk at the next SyncMetadata(), the next synced change, or
//   metad's periodic WAL sync (wal_sync_interval_ms), whichever comes first;
//   only a machine crash inside that window can lose it. Local file systems
//   treat namespace changes the same way until fsync.
enum class Durability { kSynced, kLazy };

struct TimeSpec {
  int64_t sec = 0;
  uint32_t nsec = 0;
};

struct ReadOptions {
  // Fetch ahead of a sequential reader (ClientOptions::readahead_bytes).
  // Off for callers that read known ranges in parallel (the loader), where
  // two consecutive ranges are not a stream worth fetching ahead of.
  bool readahead = true;
};

// What SetLayout changes; 0 and empty leave a field as it is.
struct LayoutChanges {
  uint32_t replicas = 0;
  uint64_t chunk_size = 0;
  // Block codec policy: auto (per block: dtype hints, else sampling), raw,
  // zstd, bf16, fp16 or fp32 (byte planes of that element type).
  std::string codec;
};

struct AttrChanges {
  std::optional<uint32_t> mode;  // permission bits (07777)
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<TimeSpec> atime;
  std::optional<TimeSpec> mtime;
  std::optional<uint64_t> size;  // truncate or extend (files)
};

enum class RenameMode { kReplace, kNoReplace, kExchange };
enum class XattrMode { kAny, kCreate, kReplace };  // setxattr's XATTR_CREATE / XATTR_REPLACE

struct DirPage {
  std::vector<DirEntryInfo> entries;  // sorted by name
  bool has_more = false;
};

// A file whose last name was removed while this client still had it open
// (unlink or rename over it with keep_orphan): metad keeps its data as an
// orphan of this client until ReleaseOrphan(), or until the client stops
// renewing it through KeepAlive() for orphan_ttl_ms.
struct RemoveResult {
  uint64_t orphan_inode = 0;  // 0: nothing was kept
  // Unlink: the folder's mtime and ctime are now at least this (0: not told).
  int64_t parent_time_sec = 0;
  uint32_t parent_time_nsec = 0;
};

struct LeaseRef {
  uint64_t inode = 0;
  uint64_t lease_id = 0;
};

struct OpenFileOptions {
  bool write = false;     // take the file's write lease
  bool truncate = false;  // with write: cut to 0 bytes at open (O_TRUNC)
  Durability durability = Durability::kLazy;  // of size/mtime commits at Flush()
};

// ---------------------------------------------------------------- backup sessions
// A backup session pins a point-in-time snapshot of the namespace in metad and
// holds back replica deletions while it is open, so every chunk version the
// snapshot names stays readable (docs/backup.md). Renew it well within
// `lease_ms` (BackupRenew); a session not renewed expires, and with it the hold.

struct BackupSession {
  uint64_t id = 0;
  uint64_t lease_ms = 0;
  int64_t snapshot_unix_ms = 0;  // metad's wall clock when the snapshot was taken
};

struct BackupXattr {
  std::string name;
  std::string value;
};

// One namespace entry as of the snapshot.
struct BackupEntry {
  std::string path;  // relative to the listed subtree; "" is its root
  FileInfo info;
  std::vector<ChunkLocation> chunks;  // committed chunks in chunk_index order
  bool has_inline_data = false;       // a small file kept in metad: `inline_data`
  std::string inline_data;
  std::vector<BackupXattr> xattrs;    // every stored extended attribute, by name
};

struct BackupPage {
  std::vector<BackupEntry> entries;  // depth first, parents before children
  bool more = false;                 // ask again with after = entries.back().path
};

struct MetadataPage {
  std::vector<std::pair<std::string, std::string>> pairs;  // raw store keys, in order
  bool more = false;
};

// Random-access handle on one file: reads, writes at any offset, truncate.
// Writes are buffered per chunk; Flush() writes every touched chunk as a new
// chunk version (copy-on-write: a reader sees a chunk's old or new contents,
// never a mix) and commits the size. Thread-safe.
class OpenFile {
 public:
  virtual ~OpenFile() = default;
  virtual Result<size_t> PRead(uint64_t offset, MutableByteSpan out) = 0;
  // EFBIG-style FILE_TOO_LARGE past the largest file size.
  virtual Status PWrite(uint64_t offset, ByteSpan data) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // Makes every write so far visible to other clients (new opens).
  virtual Status Flush() = 0;
  // Flush, then durable on every replica and in metad.
  virtual Status Fsync() = 0;
  // Flush, then give the write lease back (another client may write the file
  // now); a later write through this handle takes the lease again. For the
  // last close of a file (the FUSE mount's flush of its only handle).
  virtual Status FlushAndRelease() = 0;
  // Flush and release the write lease. Idempotent.
  virtual Status Close() = 0;
  // Re-reads attributes and chunk map from metad (a read-only handle of a
  // file that changed elsewhere).
  virtual Status Refresh() = 0;
  virtual uint64_t size() const = 0;
  virtual FileInfo info() const = 0;
  // The write lease (for KeepAlive); {inode, 0} for read-only handles.
  virtual LeaseRef lease() const = 0;
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
  // The trace id every request of this writer carries, from the create to
  // the close (8 hex digits in logs: `trace=1a2b3c4d`). Its failures name it;
  // grep the daemons' logs for it to follow the write (docs/operations.md).
  virtual uint32_t trace_id() const = 0;
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
  // The trace id every request of this reader carries (see FileWriter).
  virtual uint32_t trace_id() const = 0;
};

// Reads exactly out.size() bytes at `offset`; CORRUPTION when the file ends
// first (PRead may return fewer bytes than asked).
Status ReadExactly(FileReader& reader, uint64_t offset, MutableByteSpan out);

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
  // Sets replication factor, codec policy and (for folders and empty files)
  // chunk size; new files under a folder inherit them.
  virtual Result<FileInfo> SetLayout(std::string_view path, const LayoutChanges& changes) = 0;
  virtual Result<FileInfo> Chmod(std::string_view path, uint32_t mode) = 0;

  // Data.
  virtual Result<std::unique_ptr<FileWriter>> Create(std::string_view path,
                                                     const CreateOptions& options) = 0;
  Result<std::unique_ptr<FileReader>> Open(std::string_view path) { return Open(path, {}); }
  virtual Result<std::unique_ptr<FileReader>> Open(std::string_view path,
                                                   const ReadOptions& options) = 0;
  virtual Result<std::vector<ChunkLocation>> GetLayout(std::string_view path) = 0;
  // Has the chunk servers read every replica of `path` (a file, or every
  // file under a folder) into their page cache, so that the reads that
  // follow (a fleet loading one checkpoint) come from memory; returns once
  // they have. A server that fails counts in `failed` and the rest go on;
  // a path that does not exist is NOT_FOUND.
  virtual Result<WarmStats> Warm(std::string_view path, const WarmOptions& options) = 0;

  // Inode-level namespace (see "inode-level API" above). The root folder is
  // inode kRootInode.
  static constexpr uint64_t kRootInode = 1;
  virtual Result<FileInfo> GetAttr(uint64_t inode) = 0;
  virtual Result<FileInfo> Lookup(uint64_t parent, std::string_view name) = 0;
  virtual Result<FileInfo> MkdirAt(uint64_t parent, std::string_view name, uint32_t mode,
                                   Credentials cred, Durability d) = 0;
  virtual Result<FileInfo> SymlinkAt(uint64_t parent, std::string_view name,
                                     std::string_view target, Credentials cred,
                                     Durability d) = 0;
  // Creates an empty file (no lease: open it with OpenAt). exclusive: fail
  // with ALREADY_EXISTS if the name exists; else an existing file is returned
  // unchanged.
  virtual Result<FileInfo> CreateAt(uint64_t parent, std::string_view name, uint32_t mode,
                                    Credentials cred, bool exclusive, Durability d) = 0;
  virtual Result<RemoveResult> UnlinkAt(uint64_t parent, std::string_view name,
                                        bool keep_orphan, Durability d) = 0;
  virtual Status RmdirAt(uint64_t parent, std::string_view name, Durability d) = 0;
  // orphan_inode reports a replaced destination file kept for this client.
  virtual Result<RemoveResult> RenameAt(uint64_t src_parent, std::string_view src_name,
                                        uint64_t dst_parent, std::string_view dst_name,
                                        RenameMode mode, bool keep_orphan, Durability d) = 0;
  // Up to `limit` entries (0 = server default) after `start_after`.
  virtual Result<DirPage> ReadDirAt(uint64_t inode, std::string_view start_after,
                                    uint32_t limit) = 0;
  virtual Result<FileInfo> SetAttrAt(uint64_t inode, const AttrChanges& changes,
                                     Durability d) = 0;
  // Extended attributes (names like "user.foo"; values up to 64 KiB). A
  // missing one is NO_ATTRIBUTE.
  virtual Status SetXattr(uint64_t inode, std::string_view name, ByteSpan value, XattrMode mode,
                          Durability d) = 0;
  virtual Result<std::string> GetXattr(uint64_t inode, std::string_view name) = 0;
  virtual Result<std::vector<std::string>> ListXattr(uint64_t inode) = 0;
  virtual Status RemoveXattr(uint64_t inode, std::string_view name, Durability d) = 0;
  virtual Status ReleaseOrphan(uint64_t inode) = 0;
  // Renews write leases and orphans this client holds.
  virtual Status KeepAlive(const std::vector<LeaseRef>& leases,
                           const std::vector<uint64_t>& orphans) = 0;
  // Makes every kLazy change so far durable in metad.
  virtual Status SyncMetadata() = 0;
  virtual Result<std::vector<ChunkLocation>> GetLayoutAt(uint64_t inode) = 0;
  virtual Result<std::unique_ptr<OpenFile>> OpenAt(uint64_t inode,
                                                   const OpenFileOptions& options) = 0;
  // CreateAt and OpenAt for writing in one round trip (what open(O_CREAT)
  // needs): creates the file, or with !exclusive finds the existing one (cut
  // to 0 bytes with truncate), and returns it open with its write lease.
  virtual Result<std::unique_ptr<OpenFile>> CreateOpenAt(uint64_t parent, std::string_view name,
                                                         uint32_t mode, Credentials cred,
                                                         bool exclusive, bool truncate,
                                                         Durability d) = 0;
  // The id this client uses in leases and orphans.
  virtual const std::string& client_id() const = 0;

  // Cluster.
  virtual Result<FsStats> StatFs() = 0;
  virtual Result<std::vector<NodeStatus>> ListNodes() = 0;

  // Drain, undrain, remove or describe one chunk server (granary node).
  virtual Result<NodeStatus> NodeAdmin(std::string_view node_id, NodeAction action) = 0;
  virtual Result<RepairStatusInfo> RepairStatus() = 0;
  // Asks the chunk server at `address` whether it holds chunk `chunk_id`
  // version `version`: its stored bytes, or CHUNK_NOT_FOUND (never written,
  // deleted, or quarantined as corrupt). granary fsck checks every replica.
  virtual Result<uint64_t> StatReplica(const std::string& address, uint64_t chunk_id,
                                       uint64_t version) = 0;

  // The trash: every entry, oldest expiry first; restore to the old place
  // (empty `to`) or to a new path; purge one inode, or everything (`all`).
  virtual Result<std::vector<TrashItem>> TrashList() = 0;
  virtual Result<FileInfo> TrashRestore(uint64_t inode, std::string_view to) = 0;
  virtual Result<uint64_t> TrashPurge(uint64_t inode, bool all) = 0;

  // Folder quotas: set (both limits 0 removes it; usage is counted at
  // once) and list. Writes, creates and moves past a limit fail with
  // QUOTA_EXCEEDED (EDQUOT through the mount).
  virtual Result<QuotaStatus> SetQuota(std::string_view path, uint64_t max_bytes,
                                       uint64_t max_files) = 0;
  virtual Result<std::vector<QuotaStatus>> ListQuotas() = 0;
  // Backup sessions (see BackupSession above). BackupList pages through the
  // subtree at `path` as of the snapshot: `started` false for the first page,
  // then true with `after` = the previous page's last path. BackupMetadata
  // pages through every key of the snapshot after `after_key` (`started` as
  // above), about `max_bytes` a page. NOT_FOUND: the session expired or ended.
  virtual Result<BackupSession> BackupBegin(uint64_t lease_ms) = 0;
  virtual Status BackupRenew(uint64_t session) = 0;
  virtual Status BackupEnd(uint64_t session) = 0;
  virtual Result<BackupPage> BackupList(uint64_t session, std::string_view path, bool started,
                                        std::string_view after, uint32_t limit) = 0;
  virtual Result<MetadataPage> BackupMetadata(uint64_t session, bool started,
                                              std::string_view after_key, uint64_t max_bytes) = 0;
  // A reader over one chunk version (bytes [0, chunk.length)) of a file with
  // chunk size `chunk_size`, wherever the namespace has moved since: replica
  // failover, local reads and verification as for any file.
  virtual Result<std::unique_ptr<FileReader>> OpenChunk(const ChunkLocation& chunk,
                                                        uint64_t chunk_size) = 0;

  // Bytes this client has read straight from replica files of chunk servers
  // on its own host (ClientOptions::local_reads).
  virtual uint64_t LocalReadBytes() const = 0;
};

// Path helpers shared by the library and the CLI.
// Normalizes "a//b/" to "/a/b"; rejects "." and ".." components, empty names
// and names longer than 255 bytes.
Result<std::string> NormalizePath(std::string_view path);
// "/a/b/c" -> {"/a/b", "c"}; "/" has no parent (INVALID_ARGUMENT).
Result<std::pair<std::string, std::string>> SplitParent(std::string_view normalized);
// JoinPath("/a", "b") == "/a/b"; JoinPath("/", "b") == "/b".
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace granary
