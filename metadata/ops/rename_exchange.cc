// Rename with exchange (RENAME_EXCHANGE): swaps two existing entries in one
// transaction. Each entry keeps its name and takes the other's inode; each
// moved inode records its new parent. Nothing is removed, so nothing becomes
// an orphan. A folder that changes parent gets the same subtree check as a
// plain rename (pinning the new parent's ancestors), in both directions.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status RenameExchange(MetaState& s, const proto::RenameRequest& req,
                      proto::RenameResponse* resp) {
  const bool same_entry = req.src_parent() == req.dst_parent() && req.src_name() == req.dst_name();
  const bool same_parent = req.src_parent() == req.dst_parent();
  const std::string src_key = DentryKey(req.src_parent(), req.src_name());
  const std::string dst_key = DentryKey(req.dst_parent(), req.dst_name());
  bool swapped = false;
  // Two entries swapping quota subtrees would move usage both ways; refused
  // like a folder moving between them (rename.cc).
  ASSIGN_OR_RETURN(QuotaMove move, QuotaMoveBetween(s, req.src_parent(), req.dst_parent()));
  if (!move.empty()) {
    return Status::FromCode(proto::ACROSS_QUOTAS,
                            "entries in folders with different quotas cannot be exchanged");
  }
  Status st = RunTxn(s, "rename exchange", [&]() -> Status {
    swapped = false;
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
    if (!dst) {
      return Status::NotFound(fmt::format("no entry '{}' in directory {} to exchange with",
                                          req.dst_name(), req.dst_parent()));
    }
    if (src->dentry.inode == dst->dentry.inode) return Status::Ok();
    KvTxn txn;
    if (!same_parent) {
      if (src->dentry.type == proto::INODE_DIR) {
        RETURN_IF_ERROR(CheckNotInSubtree(s.kv(), txn, src->dentry.inode, req.dst_parent()));
      }
      if (dst->dentry.type == proto::INODE_DIR) {
        RETURN_IF_ERROR(CheckNotInSubtree(s.kv(), txn, dst->dentry.inode, req.src_parent()));
      }
    }
    RETURN_IF_ERROR(Reparent(s, txn, src->dentry.inode, req.dst_parent()));
    RETURN_IF_ERROR(Reparent(s, txn, dst->dentry.inode, req.src_parent()));
    txn.ExpectEquals(src_key, src->raw);
    txn.ExpectEquals(dst_key, dst->raw);
    txn.ExpectPresent(InodeKey(req.src_parent()));
    txn.ExpectPresent(InodeKey(req.dst_parent()));
    // Dentry values carry the child's id and type: swapping them swaps both.
    txn.Put(src_key, dst->raw);
    txn.Put(dst_key, src->raw);
    swapped = true;
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok() || !swapped) return st;
  proto::Timespec now = s.clock().WallTimespec();
  s.dir_times().Touch(req.src_parent(), now);
  if (!same_parent) s.dir_times().Touch(req.dst_parent(), now);
  return Status::Ok();
}

}  // namespace granary::metadata
