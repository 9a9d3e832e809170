// Rmdir: removes an empty folder. Emptiness is both read (for the error) and
// pinned in the transaction (ExpectRangeEmpty over its entries), so an entry
// created concurrently makes this retry and then fail with NOT_EMPTY.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status Rmdir(MetaState& s, const proto::RmdirRequest& req, proto::RmdirResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  uint64_t removed = 0;
  Status st = RunTxn(s, "rmdir", [&]() -> Status {
    RETURN_IF_ERROR(LoadParentDir(s.kv(), req.parent()).status());
    ASSIGN_OR_RETURN(std::optional<DentryRecord> d, LoadDentry(s.kv(), req.parent(), req.name()));
    if (!d) {
      return Status::NotFound(
          fmt::format("no entry '{}' in directory {}", req.name(), req.parent()));
    }
    if (d->dentry.type != proto::INODE_DIR) {
      return Status::NotDirectory(
          fmt::format("'{}' in directory {} is not a directory", req.name(), req.parent()));
    }
    const uint64_t dir = d->dentry.inode;
    if (dir == kRootInode) return Status::PermissionDenied("the root directory cannot be removed");
    KeyRange entries = KeyRange::Prefix(DentryPrefix(dir));
    ASSIGN_OR_RETURN(std::vector<KvPair> first, s.kv().Scan(entries, 1));
    if (!first.empty()) {
      return Status::NotEmpty(fmt::format("directory '{}' (inode {}) is not empty", req.name(), dir));
    }
    KvTxn txn;
    txn.ExpectEquals(DentryKey(req.parent(), req.name()), d->raw);
    txn.ExpectRangeEmpty(std::move(entries));
    txn.Delete(DentryKey(req.parent(), req.name()));
    txn.Delete(InodeKey(dir));
    txn.Delete(QuotaKey(dir));  // its quota goes with it
    RETURN_IF_ERROR(DropXattrs(s.kv(), txn, dir));
    removed = dir;
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) return st;
  --s.inode_count;
  s.dir_times().Touch(req.parent(), s.clock().WallTimespec());
  s.quotas().Remove(removed);
  ChargeQuota(s, req.parent(), 0, -1);
  return Status::Ok();
}

}  // namespace granary::metadata
