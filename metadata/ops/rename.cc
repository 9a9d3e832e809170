// Rename: moves an entry, possibly over an existing one, in one transaction.
//
// Rules (POSIX rename(2), plus no_replace = RENAME_NOREPLACE):
//   same parent and name            -> no-op once the source is known to exist
//   destination exists, no_replace  -> ALREADY_EXISTS
//   file over file                  -> the old file is removed, its chunks freed
//   dir over empty dir              -> the empty dir is removed
//   dir over non-empty dir          -> NOT_EMPTY
//   file over dir                   -> IS_DIRECTORY
//   dir over file                   -> NOT_DIRECTORY
//   dir into its own subtree        -> INVALID_ARGUMENT
// Moving a folder to another parent walks the destination's ancestors up to the
// root and pins each of them, so two concurrent renames cannot build a cycle.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

// INVALID_ARGUMENT when `moved_dir` is `start` or one of its ancestors, i.e.
// when the move would put a folder inside itself. Pins every inode on the way
// from `start` up to the root.
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

}  // namespace

Status Rename(MetaState& s, const proto::RenameRequest& req, proto::RenameResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.src_name()));
  RETURN_IF_ERROR(ValidateName(req.dst_name()));
  const bool same_entry = req.src_parent() == req.dst_parent() && req.src_name() == req.dst_name();
  uint64_t replaced = 0;  // the inode removed by the rename, 0 for none
  int64_t dropped = 0;
  Status st = RunTxn(s, "rename", [&]() -> Status {
    replaced = 0;
    dropped = 0;
    RETURN_IF_ERROR(LoadParentDir(s.kv(), req.src_parent()).status());
    RETURN_IF_ERROR(LoadParentDir(s.kv(), req.dst_parent()).status());
    ASSIGN_OR_RETURN(std::optional<DentryRecord> src,
                     LoadDentry(s.kv(), req.src_parent(), req.src_name()));
    if (!src) {
      return Status::NotFound(
          fmt::format("no entry '{}' in directory {}", req.src_name(), req.src_parent()));
    }
    if (same_entry) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<DentryRecord> dst,
                     LoadDentry(s.kv(), req.dst_parent(), req.dst_name()));
    const bool src_is_dir = src->dentry.type == proto::INODE_DIR;
    const std::string src_key = DentryKey(req.src_parent(), req.src_name());
    const std::string dst_key = DentryKey(req.dst_parent(), req.dst_name());
    KvTxn txn;
    if (dst) {
      if (req.no_replace()) {
        return Status::AlreadyExists(
            fmt::format("'{}' already exists in directory {}", req.dst_name(), req.dst_parent()));
      }
      if (dst->dentry.inode == src->dentry.inode) return Status::Ok();  // same inode
      const bool dst_is_dir = dst->dentry.type == proto::INODE_DIR;
      if (src_is_dir && !dst_is_dir) {
        return Status::NotDirectory(fmt::format(
            "cannot replace non-directory '{}' with a directory", req.dst_name()));
      }
      if (!src_is_dir && dst_is_dir) {
        return Status::IsDirectory(
            fmt::format("cannot replace directory '{}' with a file", req.dst_name()));
      }
      replaced = dst->dentry.inode;
      ASSIGN_OR_RETURN(std::optional<InodeRecord> old, LoadInode(s.kv(), replaced));
      txn.ExpectValue(InodeKey(replaced), old ? std::optional(old->raw) : std::nullopt);
      if (dst_is_dir) {
        KeyRange entries = KeyRange::Prefix(DentryPrefix(replaced));
        ASSIGN_OR_RETURN(std::vector<KvPair> first, s.kv().Scan(entries, 1));
        if (!first.empty()) {
          return Status::NotEmpty(
              fmt::format("destination directory '{}' is not empty", req.dst_name()));
        }
        txn.ExpectRangeEmpty(std::move(entries));
      } else {
        ASSIGN_OR_RETURN(dropped, DropChunksFrom(s.kv(), txn, replaced, 0));
      }
      txn.Delete(InodeKey(replaced));
      if (!old) replaced = 0;  // dangling entry: nothing to count
    }
    if (src_is_dir && req.src_parent() != req.dst_parent()) {
      RETURN_IF_ERROR(CheckNotInSubtree(s.kv(), txn, src->dentry.inode, req.dst_parent()));
    }
    // The moved inode records its new parent.
    ASSIGN_OR_RETURN(std::optional<InodeRecord> moved, LoadInode(s.kv(), src->dentry.inode));
    if (moved) {
      proto::Inode updated = moved->inode;
      updated.set_parent(req.dst_parent());
      *updated.mutable_ctime() = s.clock().WallTimespec();
      txn.ExpectEquals(InodeKey(updated.id()), moved->raw);
      txn.Put(InodeKey(updated.id()), SerializeInode(updated));
    }
    txn.ExpectEquals(src_key, src->raw);
    txn.ExpectValue(dst_key, dst ? std::optional(dst->raw) : std::nullopt);
    txn.ExpectPresent(InodeKey(req.src_parent()));
    txn.ExpectPresent(InodeKey(req.dst_parent()));
    txn.Delete(src_key);
    txn.Put(dst_key, src->raw);
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok() || same_entry) return st;
  if (replaced != 0) {
    --s.inode_count;
    s.leases().Drop(replaced);
  }
  s.chunk_count -= dropped;
  proto::Timespec now = s.clock().WallTimespec();
  s.dir_times().Touch(req.src_parent(), now);
  if (req.dst_parent() != req.src_parent()) s.dir_times().Touch(req.dst_parent(), now);
  return Status::Ok();
}

}  // namespace granary::metadata
