#pragma once
// Helpers shared by the metadata operations: request validation, the
// transaction retry loop, and the chunk bookkeeping every destructive
// operation needs.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/granary.pb.h"
#include "common/status.h"
#include "metadata/kv/kv_store.h"
#include "metadata/schema/records.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr uint32_t kMaxReplicas = 16;
inline constexpr uint64_t kChunkSizeUnit = 1ull << 20;         // chunk sizes are multiples
inline constexpr uint64_t kMaxChunkSize = 4ull << 30;          // 4 GiB
inline constexpr uint64_t kMaxFileSize = 1ull << 62;           // keeps offsets far from overflow
inline constexpr size_t kMaxClientIdBytes = 256;
inline constexpr size_t kMaxExcludeNodes = 64;
// A symlink target: 1..4095 bytes (PATH_MAX less the NUL).
inline constexpr size_t kMaxSymlinkBytes = 4095;
// A small file's whole contents kept in metad ("L" key) instead of chunks.
inline constexpr size_t kMaxInlineBytes = 64 << 10;
// Extended attributes: name 1..255 bytes, value up to 64 KiB, and at most
// 1 MiB of names plus values per inode (the Linux VFS limits, bounding what
// one setxattr scans and pins).
inline constexpr size_t kMaxXattrNameBytes = 255;
inline constexpr size_t kMaxXattrValueBytes = 64 << 10;
inline constexpr size_t kMaxXattrBytesPerInode = 1 << 20;

// A directory entry name: non-empty, no '/' or NUL, not "." or "..",
// at most 255 bytes (NAME_TOO_LONG).
Status ValidateName(std::string_view name);
// 1..16. `field` names the request field in the message.
Status ValidateReplicas(uint32_t replicas, std::string_view field);
// A multiple of 1 MiB in [1 MiB, 4 GiB].
Status ValidateChunkSize(uint64_t chunk_size, std::string_view field);
Status ValidateTimespec(const proto::Timespec& t, std::string_view field);
// Required for write leases: non-empty, at most 256 bytes.
Status ValidateClientId(std::string_view client_id);
// A client id in another role (`field` names it): non-empty, at most 256 bytes.
Status ValidateClientIdField(std::string_view client_id, std::string_view field);
// An extended attribute name: 1..255 bytes (NAME_TOO_LONG beyond), no NUL.
Status ValidateXattrName(std::string_view name);
// A chunk server id: 1..255 printable ASCII bytes, no spaces.
Status ValidateNodeId(std::string_view node_id, std::string_view field);

Status RequireDir(const proto::Inode& inode);
Status RequireFile(const proto::Inode& inode);

// Runs `attempt` until it returns anything but a transaction conflict
// (KvConflict: STALE_VERSION marked retryable), at most max_txn_attempts times.
// `attempt` must re-read everything it depends on: each call starts afresh.
template <class F>
Status RunTxn(MetaState& state, std::string_view op, F&& attempt) {
  Status st;
  for (int i = 0; i < state.options().max_txn_attempts; ++i) {
    st = attempt();
    if (!(st.code() == proto::STALE_VERSION && st.retryable())) return st;
  }
  return Status::Unavailable(std::string(op) + ": too much contention, retry later (" +
                             st.message() + ")");
}

// A new inode with times set to now and replicas/chunk_size inherited from
// `parent` (nonzero overrides win).
proto::Inode NewInode(MetaState& state, uint64_t id, proto::InodeType type, uint32_t mode,
                      uint32_t uid, uint32_t gid, const proto::Inode& parent,
                      uint32_t replicas = 0, uint64_t chunk_size = 0);

// The inode as readers see it: pending folder times applied.
proto::Inode Visible(MetaState& state, proto::Inode inode);

// Puts a garbage ("G") key for every replica of `chunk`: the chunk servers
// holding it are told to delete it with their next heartbeats.
void ScheduleReplicaDeletion(KvTxn& txn, const proto::ChunkInfo& chunk);

// Adds to `txn` the removal of every committed chunk of `inode` with index >=
// first_index (and of every pending allocation too when `with_pending`), with
// deletion of their replicas, plus checks that pin exactly the records read (a
// chunk committed concurrently makes the transaction conflict instead of
// leaking). Returns how many committed chunks go away.
Result<int64_t> DropChunksFrom(KvStore& kv, KvTxn& txn, uint64_t inode, uint64_t first_index,
                               bool with_pending = true);

// Removes a file's data past `new_size` (see docs/metadata_schema.md,
// "Truncate"): chunks wholly past it are dropped, the last partial chunk keeps
// its replicas with its length capped. Returns committed chunks dropped.
Result<int64_t> TruncateChunks(KvStore& kv, KvTxn& txn, const proto::Inode& inode,
                               uint64_t new_size, bool with_pending = true);

// Pins the content of `range` to exactly `pairs` (sorted, all inside it):
// each key keeps its value and no key appears between them.
void PinRange(KvTxn& txn, const KeyRange& range, const std::vector<KvPair>& pairs);

// Adds the removal of every extended attribute of `inode`, pinned.
Status DropXattrs(KvStore& kv, KvTxn& txn, uint64_t inode);

// Adds the removal of `inode`'s inline data, if any. Nothing is read: the
// record lives only in this store, so deleting whatever is there at commit
// cannot leak anything, and callers pin the inode record, which every
// change of the inline data rewrites. (Reading it first cost a disk read of
// up to 64 KiB per unlinked small file once the page cache was cold.)
void DropInlineData(KvTxn& txn, uint64_t inode);

// Adds the removal of everything stored for `inode` besides its inode record
// (and an orphan record): chunks with their replicas, extended attributes,
// inline data. Returns committed chunks dropped.
Result<int64_t> DropInodeContents(KvStore& kv, KvTxn& txn, uint64_t inode);

// Adds keeping the file of `rec` as an orphan of `client_id` (see
// orphan_table.h): the inode stays with nlink 0 and ctime now, its data and
// attributes untouched, and an "O" record names the client.
void KeepAsOrphan(MetaState& state, KvTxn& txn, const InodeRecord& rec,
                  const std::string& client_id);

// INVALID_ARGUMENT when `moved_dir` is `start` or one of its ancestors, i.e.
// when moving that folder into folder `start` would put it inside itself.
// Pins every inode on the way from `start` up to the root, so two concurrent
// renames cannot build a cycle.
// Adds keeping the file of `rec`, just unlinked from `parent`/`name`, in the
// trash until now + trash_ms (inode with nlink 0 and ctime now, "T" record).
void MoveToTrash(MetaState& state, KvTxn& txn, const InodeRecord& rec, uint64_t parent,
                 const std::string& name);

Status CheckNotInSubtree(KvStore& kv, KvTxn& txn, uint64_t moved_dir, uint64_t start);

// Rename with `exchange` set (rename.cc hands it over): swaps two entries.
Status RenameExchange(MetaState& s, const proto::RenameRequest& req,
                      proto::RenameResponse* resp);

// Adds entry `name` to folder `parent` for a brand-new inode built by
// `make(id, parent_inode)` (mkdir, symlink): one transaction, parent present
// and name absent -> put dentry + inode, retried on conflicts with the id
// reserved once. Then counts the inode and touches the parent's times.
// ALREADY_EXISTS when the name is taken. `op` names the operation in errors.
Result<proto::Inode> AddNewEntry(
    MetaState& s, std::string_view op, uint64_t parent, const std::string& name, bool lazy_sync,
    const std::function<proto::Inode(uint64_t id, const proto::Inode& parent)>& make);

// Adds to `txn` the move of inode `id` under `new_parent` (its parent field
// and ctime), pinning the record read; a missing inode (a dangling entry) is
// pinned as absent and left alone. For rename and rename-exchange.
Status Reparent(MetaState& s, KvTxn& txn, uint64_t id, uint64_t new_parent);

// Loads `parent` and checks it is a folder: NOT_FOUND / NOT_DIRECTORY.
Result<InodeRecord> LoadParentDir(KvStore& kv, uint64_t parent);

}  // namespace granary::metadata
