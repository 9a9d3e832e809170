#include "metadata/ops/op_util.h"

#include <fmt/format.h>

#include "metadata/ops/quota_charge.h"

namespace granary::metadata {
namespace {

// Pins the content of `range` to exactly `keys` (whose values the caller pins
// itself): every gap between them must stay empty.
void PinGaps(KvTxn& txn, const KeyRange& range, const std::vector<std::string>& keys) {
  std::string gap_start = range.start;
  for (const std::string& key : keys) {
    if (gap_start < key) txn.ExpectRangeEmpty(KeyRange{gap_start, key});
    gap_start = key + '\0';
  }
  if (range.end.empty() || gap_start < range.end) {
    txn.ExpectRangeEmpty(KeyRange{gap_start, range.end});
  }
}

// Drops the records of one family ("C" or "P") from `first_index` on.
Result<int64_t> DropFamily(KvStore& kv, KvTxn& txn, const std::string& prefix,
                           uint64_t first_index) {
  ASSIGN_OR_RETURN(std::vector<ChunkRecord> records, LoadChunkRange(kv, prefix, first_index, 0));
  std::string start = prefix;
  AppendU64(&start, first_index);
  std::vector<std::string> keys;
  keys.reserve(records.size());
  for (const ChunkRecord& rec : records) {
    std::string key = prefix;
    AppendU64(&key, rec.chunk.chunk_index());
    txn.ExpectEquals(key, rec.raw);
    txn.Delete(key);
    ScheduleReplicaDeletion(txn, rec.chunk);
    keys.push_back(std::move(key));
  }
  PinGaps(txn, KeyRange{std::move(start), PrefixSuccessor(prefix)}, keys);
  return static_cast<int64_t>(records.size());
}

}  // namespace

Status ValidateName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("name is empty");
  if (name.size() > kMaxNameBytes) {
    return Status::NameTooLong(fmt::format("name of {} bytes exceeds the limit of {} bytes",
                                           name.size(), kMaxNameBytes));
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("'{}' is not a valid name", name));
  }
  if (name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("name '{}' contains '/'", name));
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("name contains a NUL byte");
  }
  return Status::Ok();
}

Status ValidateReplicas(uint32_t replicas, std::string_view field) {
  if (replicas >= 1 && replicas <= kMaxReplicas) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("{} = {} is out of range: use 1 to {}", field, replicas, kMaxReplicas));
}

Status ValidateChunkSize(uint64_t chunk_size, std::string_view field) {
  if (chunk_size >= kChunkSizeUnit && chunk_size <= kMaxChunkSize &&
      chunk_size % kChunkSizeUnit == 0) {
    return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format(
      "{} = {} is invalid: use a multiple of 1 MiB (1048576) from 1 MiB to 4 GiB", field,
      chunk_size));
}

Status ValidateTimespec(const proto::Timespec& t, std::string_view field) {
  if (t.nsec() < 1'000'000'000u) return Status::Ok();
  return Status::InvalidArgument(fmt::format("{}.nsec = {} is not below 1e9", field, t.nsec()));
}

Status ValidateClientId(std::string_view client_id) {
  if (client_id.empty()) {
    return Status::InvalidArgument("client_id is required to open a file for writing");
  }
  if (client_id.size() > kMaxClientIdBytes) {
    return Status::InvalidArgument(fmt::format("client_id of {} bytes exceeds {} bytes",
                                               client_id.size(), kMaxClientIdBytes));
  }
  return Status::Ok();
}

Status ValidateClientIdField(std::string_view client_id, std::string_view field) {
  if (client_id.empty()) return Status::InvalidArgument(fmt::format("{} is required", field));
  if (client_id.size() > kMaxClientIdBytes) {
    return Status::InvalidArgument(fmt::format("{} of {} bytes exceeds {} bytes", field,
                                               client_id.size(), kMaxClientIdBytes));
  }
  return Status::Ok();
}

Status ValidateXattrName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("name (of the attribute) is empty");
  if (name.size() > kMaxXattrNameBytes) {
    return Status::NameTooLong(fmt::format("attribute name of {} bytes exceeds {} bytes",
                                           name.size(), kMaxXattrNameBytes));
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("attribute name contains a NUL byte");
  }
  return Status::Ok();
}

Status ValidateNodeId(std::string_view node_id, std::string_view field) {
  if (node_id.empty() || node_id.size() > kMaxNodeIdBytes) {
    return Status::InvalidArgument(
        fmt::format("{} must be 1 to {} bytes, got {}", field, kMaxNodeIdBytes, node_id.size()));
  }
  for (char c : node_id) {
    if (c <= 0x20 || c >= 0x7f) {
      return Status::InvalidArgument(
          fmt::format("{} must be printable ASCII without spaces", field));
    }
  }
  return Status::Ok();
}

Status RequireDir(const proto::Inode& inode) {
  if (inode.type() == proto::INODE_DIR) return Status::Ok();
  return Status::NotDirectory(fmt::format("inode {} is not a directory", inode.id()));
}

Status RequireFile(const proto::Inode& inode) {
  if (inode.type() == proto::INODE_FILE) return Status::Ok();
  if (inode.type() == proto::INODE_DIR) {
    return Status::IsDirectory(fmt::format("inode {} is a directory", inode.id()));
  }
  return Status::InvalidArgument(fmt::format("inode {} is not a regular file", inode.id()));
}

proto::Inode NewInode(MetaState& state, uint64_t id, proto::InodeType type, uint32_t mode,
                      uint32_t uid, uint32_t gid, const proto::Inode& parent, uint32_t replicas,
                      uint64_t chunk_size) {
  proto::Inode inode;
  inode.set_id(id);
  inode.set_type(type);
  inode.set_mode(mode & 07777);
  inode.set_uid(uid);
  inode.set_gid(gid);
  // Folders report nlink 1: the subfolder count is not tracked (it would make
  // every mkdir write the parent), and 1 tells tools like find not to rely on it.
  inode.set_nlink(1);
  proto::Timespec now = state.clock().WallTimespec();
  *inode.mutable_atime() = now;
  *inode.mutable_mtime() = now;
  *inode.mutable_ctime() = now;
  inode.set_replicas(replicas != 0 ? replicas : parent.replicas());
  inode.set_chunk_size(chunk_size != 0 ? chunk_size : parent.chunk_size());
  inode.set_codec_hint(parent.codec_hint());
  inode.set_parent(parent.id());
  return inode;
}

proto::Inode Visible(MetaState& state, proto::Inode inode) {
  if (inode.type() == proto::INODE_DIR) state.dir_times().Overlay(&inode);
  return inode;
}

void ScheduleReplicaDeletion(KvTxn& txn, const proto::ChunkInfo& chunk) {
  for (const proto::NodeAddress& r : chunk.replicas()) {
    if (r.node_id().empty() || r.node_id().size() > kMaxNodeIdBytes) continue;
    txn.Put(GarbageKey(r.node_id(), chunk.chunk_id(), chunk.version()), "");
  }
}

Result<int64_t> DropChunksFrom(KvStore& kv, KvTxn& txn, uint64_t inode, uint64_t first_index,
                               bool with_pending) {
  ASSIGN_OR_RETURN(int64_t committed, DropFamily(kv, txn, ChunkPrefix(inode), first_index));
  if (with_pending) {
    ASSIGN_OR_RETURN(int64_t pending, DropFamily(kv, txn, PendingChunkPrefix(inode), first_index));
    (void)pending;
  }
  return committed;
}

Result<int64_t> TruncateChunks(KvStore& kv, KvTxn& txn, const proto::Inode& inode,
                               uint64_t new_size, bool with_pending) {
  const uint64_t cs = inode.chunk_size();
  if (cs == 0) return Status::Corruption(fmt::format("inode {} has chunk size 0", inode.id()));
  const uint64_t keep = new_size / cs + (new_size % cs != 0 ? 1 : 0);  // chunks kept
  ASSIGN_OR_RETURN(int64_t dropped, DropChunksFrom(kv, txn, inode.id(), keep, with_pending));
  if (new_size % cs != 0) {
    // The last kept chunk is partial: cap its length so that bytes past the
    // new size read as a hole (zeros) if the file grows again.
    uint64_t last = new_size / cs;
    uint64_t room = new_size - last * cs;
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> rec, LoadChunk(kv, inode.id(), last));
    std::string key = ChunkKey(inode.id(), last);
    txn.ExpectValue(key, rec ? std::optional<std::string>(rec->raw) : std::nullopt);
    if (rec && rec->chunk.length() > room) {
      rec->chunk.set_length(room);
      txn.Put(key, EncodeStoredChunk(rec->chunk));
    }
  }
  return dropped;
}

void PinRange(KvTxn& txn, const KeyRange& range, const std::vector<KvPair>& pairs) {
  std::vector<std::string> keys;
  keys.reserve(pairs.size());
  for (const KvPair& p : pairs) {
    txn.ExpectEquals(p.key, p.value);
    keys.push_back(p.key);
  }
  PinGaps(txn, range, keys);
}

Status DropXattrs(KvStore& kv, KvTxn& txn, uint64_t inode) {
  ASSIGN_OR_RETURN(std::vector<KvPair> xattrs, LoadXattrs(kv, inode));
  PinRange(txn, KeyRange::Prefix(XattrPrefix(inode)), xattrs);
  for (const KvPair& p : xattrs) txn.Delete(p.key);
  return Status::Ok();
}

void DropInlineData(KvTxn& txn, uint64_t inode) { txn.Delete(InlineDataKey(inode)); }

Result<int64_t> DropInodeContents(KvStore& kv, KvTxn& txn, uint64_t inode) {
  ASSIGN_OR_RETURN(int64_t dropped, DropChunksFrom(kv, txn, inode, 0));
  RETURN_IF_ERROR(DropXattrs(kv, txn, inode));
  DropInlineData(txn, inode);
  return dropped;
}

void KeepAsOrphan(MetaState& state, KvTxn& txn, const InodeRecord& rec,
                  const std::string& client_id) {
  proto::Inode orphan = rec.inode;
  orphan.set_nlink(0);
  *orphan.mutable_ctime() = state.clock().WallTimespec();
  txn.ExpectEquals(InodeKey(orphan.id()), rec.raw);
  txn.Put(InodeKey(orphan.id()), SerializeInode(orphan));
  txn.Put(OrphanKey(orphan.id()), client_id);
}

Status CheckNotInSubtree(KvStore& kv, KvTxn& txn, uint64_t moved_dir, uint64_t start) {
  uint64_t cur = start;
  // Depth is bounded by the path limit (4096 bytes = at most 2048 levels).
  for (size_t depth = 0; depth <= kMaxPathBytes; ++depth) {
    if (cur == moved_dir) {
      return Status::InvalidArgument(fmt::format(
          "cannot move directory {} into its own subtree (destination parent {})", moved_dir,
          start));
    }
    if (cur == kRootInode) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(kv, cur));
    if (!rec) return KvConflict("an ancestor of the destination vanished");
    txn.ExpectEquals(InodeKey(cur), rec->raw);
    cur = rec->inode.parent();
  }
  return Status::Corruption(fmt::format("directory {} has more than {} ancestors", start,
                                        kMaxPathBytes));
}

Result<InodeRecord> LoadParentDir(KvStore& kv, uint64_t parent) {
  ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(kv, parent));
  if (!rec) return Status::NotFound(fmt::format("parent directory {} does not exist", parent));
  RETURN_IF_ERROR(RequireDir(rec->inode));
  return std::move(*rec);
}

Result<proto::Inode> AddNewEntry(
    MetaState& s, std::string_view op, uint64_t parent, const std::string& name, bool lazy_sync,
    const std::function<proto::Inode(uint64_t id, const proto::Inode& parent)>& make) {
  uint64_t id = 0;  // reserved once; kept across retries
  proto::Inode created;
  ASSIGN_OR_RETURN(QuotaCharge charge, QuotaCharge::Reserve(s, parent, 0, 1));
  Status st = RunTxn(s, op, [&]() -> Status {
    ASSIGN_OR_RETURN(InodeRecord dir, LoadParentDir(s.kv(), parent));
    ASSIGN_OR_RETURN(std::optional<DentryRecord> existing, LoadDentry(s.kv(), parent, name));
    if (existing) {
      return Status::AlreadyExists(
          fmt::format("'{}' already exists in directory {}", name, parent));
    }
    if (id == 0) {
      ASSIGN_OR_RETURN(id, s.inode_ids().Next());
    }
    created = make(id, dir.inode);
    KvTxn txn;
    txn.ExpectPresent(InodeKey(parent));
    txn.ExpectAbsent(DentryKey(parent, name));
    txn.Put(DentryKey(parent, name), EncodeDentry({id, created.type()}));
    txn.Put(InodeKey(id), SerializeInode(created));
    return s.kv().Commit(txn, s.CommitMode(lazy_sync));
  });
  if (!st.ok()) return st;
  charge.Keep();
  ++s.inode_count;
  s.dir_times().Touch(parent, created.mtime());
  return created;
}

Status Reparent(MetaState& s, KvTxn& txn, uint64_t id, uint64_t new_parent) {
  ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), id));
  txn.ExpectValue(InodeKey(id), rec ? std::optional(rec->raw) : std::nullopt);
  if (!rec) return Status::Ok();
  proto::Inode updated = rec->inode;
  updated.set_parent(new_parent);
  *updated.mutable_ctime() = s.clock().WallTimespec();
  txn.Put(InodeKey(id), SerializeInode(updated));
  return Status::Ok();
}

}  // namespace granary::metadata
