// Rename: moves an entry, possibly over an existing one, in one transaction.
//
// Rules (POSIX rename(2), plus no_replace = RENAME_NOREPLACE, exchange =
// RENAME_EXCHANGE, handled in rename_exchange.cc):
//   same parent and name            -> no-op once the source is known to exist
//   destination exists, no_replace  -> ALREADY_EXISTS
//   file over file                  -> the old file is removed, its chunks freed
//   dir over empty dir              -> the empty dir is removed
//   dir over non-empty dir          -> NOT_EMPTY
//   file over dir                   -> IS_DIRECTORY
//   dir over file                   -> NOT_DIRECTORY
//   dir into its own subtree        -> INVALID_ARGUMENT
//   exchange with no_replace        -> INVALID_ARGUMENT
// A replaced file is kept as an orphan of orphan_client with keep_orphan, as
// for unlink (unlink.cc); otherwise its inode, data and attributes go.
// Quotas: a file or symlink moving between quota subtrees takes its size
// and entry along (the gaining folders must have room); a folder moving
// between them is ACROSS_QUOTAS (EXDEV: mv then copies), as with XFS project
// quotas, since what it holds is not known without walking it.
// Moving a folder to another parent walks the destination's ancestors up to the
// root and pins each of them, so two concurrent renames cannot build a cycle.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status Rename(MetaState& s, const proto::RenameRequest& req, proto::RenameResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.src_name()));
  RETURN_IF_ERROR(ValidateName(req.dst_name()));
  if (req.exchange() && req.no_replace()) {
    return Status::InvalidArgument("exchange and no_replace cannot be combined");
  }
  if (req.exchange()) return RenameExchange(s, req, resp);
  if (req.keep_orphan()) {
    RETURN_IF_ERROR(ValidateClientIdField(req.orphan_client(), "orphan_client"));
  }
  const bool same_entry = req.src_parent() == req.dst_parent() && req.src_name() == req.dst_name();
  uint64_t replaced = 0;  // the inode removed (or orphaned) by the rename, 0 for none
  int64_t dropped = 0;
  bool orphaned = false;
  int64_t replaced_bytes = 0;  // the replaced entry leaves dst's quotas
  int64_t moved_bytes = 0;
  QuotaCharge gained;
  ASSIGN_OR_RETURN(QuotaMove move, QuotaMoveBetween(s, req.src_parent(), req.dst_parent()));
  Status st = RunTxn(s, "rename", [&]() -> Status {
    replaced = 0;
    dropped = 0;
    orphaned = false;
    replaced_bytes = 0;
    moved_bytes = 0;
    gained = QuotaCharge();
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
      if (old && old->inode.type() == proto::INODE_FILE) {
        replaced_bytes = static_cast<int64_t>(old->inode.size());
      }
      txn.ExpectValue(InodeKey(replaced), old ? std::optional(old->raw) : std::nullopt);
      if (dst_is_dir) {
        KeyRange entries = KeyRange::Prefix(DentryPrefix(replaced));
        ASSIGN_OR_RETURN(std::vector<KvPair> first, s.kv().Scan(entries, 1));
        if (!first.empty()) {
          return Status::NotEmpty(
              fmt::format("destination directory '{}' is not empty", req.dst_name()));
        }
        txn.ExpectRangeEmpty(std::move(entries));
        RETURN_IF_ERROR(DropXattrs(s.kv(), txn, replaced));
        txn.Delete(InodeKey(replaced));
      } else if (old && req.keep_orphan() && old->inode.type() == proto::INODE_FILE) {
        KeepAsOrphan(s, txn, *old, req.orphan_client());
        orphaned = true;
      } else {
        ASSIGN_OR_RETURN(dropped, DropInodeContents(s.kv(), txn, replaced));
        txn.Delete(InodeKey(replaced));
      }
      if (!old) replaced = 0;  // dangling entry: nothing to count
    }
    if (src_is_dir && req.src_parent() != req.dst_parent()) {
      RETURN_IF_ERROR(CheckNotInSubtree(s.kv(), txn, src->dentry.inode, req.dst_parent()));
    }
    if (!move.empty()) {
      if (src_is_dir) {
        return Status::FromCode(proto::ACROSS_QUOTAS,
                                fmt::format("folder '{}' cannot move between folders with "
                                            "different quotas; copy it instead",
                                            req.src_name()));
      }
      if (src->dentry.type == proto::INODE_FILE) {
        ASSIGN_OR_RETURN(InodeRecord moved, LoadExistingInode(s.kv(), src->dentry.inode));
        moved_bytes = static_cast<int64_t>(moved.inode.size());
      }
      ASSIGN_OR_RETURN(gained, QuotaCharge::ReserveIn(s, move.gaining, moved_bytes, 1));
    }
    // The moved inode records its new parent.
    RETURN_IF_ERROR(Reparent(s, txn, src->dentry.inode, req.dst_parent()));
    txn.ExpectEquals(src_key, src->raw);
    txn.ExpectValue(dst_key, dst ? std::optional(dst->raw) : std::nullopt);
    txn.ExpectPresent(InodeKey(req.src_parent()));
    txn.ExpectPresent(InodeKey(req.dst_parent()));
    txn.Delete(src_key);
    txn.Put(dst_key, src->raw);
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok() || same_entry) return st;
  gained.Keep();
  s.quotas().Charge(move.losing, -moved_bytes, -1);
  if (replaced != 0) ChargeQuota(s, req.dst_parent(), -replaced_bytes, -1);
  if (orphaned) {
    s.orphans().Add(replaced, req.orphan_client());
    resp->set_orphan_inode(replaced);
  } else if (replaced != 0) {
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
