// Unlink: removes a file's entry and inode, and schedules its chunks for
// deletion, in one transaction. The chunk records read are pinned, so a chunk
// committed concurrently by a writer makes this retry instead of leaking.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Unlink(MetaState& s, const proto::UnlinkRequest& req, proto::UnlinkResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  uint64_t victim = 0;
  int64_t dropped = 0;
  bool inode_removed = false;
  Status st = RunTxn(s, "unlink", [&]() -> Status {
    RETURN_IF_ERROR(LoadParentDir(s.kv(), req.parent()).status());
    ASSIGN_OR_RETURN(std::optional<DentryRecord> d, LoadDentry(s.kv(), req.parent(), req.name()));
    if (!d) {
      return Status::NotFound(
          fmt::format("no entry '{}' in directory {}", req.name(), req.parent()));
    }
    if (d->dentry.type == proto::INODE_DIR) {
      return Status::IsDirectory(fmt::format(
          "'{}' in directory {} is a directory (use rmdir)", req.name(), req.parent()));
    }
    victim = d->dentry.inode;
    KvTxn txn;
    txn.ExpectEquals(DentryKey(req.parent(), req.name()), d->raw);
    txn.Delete(DentryKey(req.parent(), req.name()));
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), victim));
    if (rec) {
      txn.ExpectEquals(InodeKey(victim), rec->raw);
      txn.Delete(InodeKey(victim));
    } else {
      // A dangling entry (should not exist): removing it is the repair.
      txn.ExpectAbsent(InodeKey(victim));
    }
    ASSIGN_OR_RETURN(dropped, DropChunksFrom(s.kv(), txn, victim, 0));
    inode_removed = rec.has_value();
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  if (inode_removed) --s.inode_count;
  s.chunk_count -= dropped;
  s.leases().Drop(victim);
  s.dir_times().Touch(req.parent(), s.clock().WallTimespec());
  return Status::Ok();
}

}  // namespace granary::metadata
