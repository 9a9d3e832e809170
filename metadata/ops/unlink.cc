// Unlink: removes an entry and its inode, and schedules the file's chunks for
// deletion, in one transaction. The chunk, attribute and inline-data records
// read are pinned, so a chunk committed concurrently by a writer makes this
// retry instead of leaking.
//
// keep_orphan: a file whose last name goes while client `orphan_client` still
// has it open keeps its inode (nlink 0), data and attributes as an orphan of
// that client (see orphan_table.h) until ReleaseOrphan or keep-alive expiry;
// its write lease stays too. Folders, symlinks and dangling entries are
// removed as usual: only files have data worth keeping.
//
// With a trash (MetaOptions::trash_ms > 0) a file's last name going moves it
// to the trash instead (trash.cc): inode and chunks stay until it expires.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status Unlink(MetaState& s, const proto::UnlinkRequest& req, proto::UnlinkResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  if (req.keep_orphan()) {
    RETURN_IF_ERROR(ValidateClientIdField(req.orphan_client(), "orphan_client"));
  }
  uint64_t victim = 0;
  int64_t dropped = 0;
  bool inode_removed = false;
  bool orphaned = false;
  bool trashed = false;
  int64_t freed_bytes = 0;  // leaves the folder's quota with the entry
  Status st = RunTxn(s, "unlink", [&]() -> Status {
    dropped = 0;
    freed_bytes = 0;
    inode_removed = false;
    orphaned = false;
    trashed = false;
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
    if (rec && rec->inode.type() == proto::INODE_FILE) {
      freed_bytes = static_cast<int64_t>(rec->inode.size());
    }
    if (rec && req.keep_orphan() && rec->inode.type() == proto::INODE_FILE) {
      KeepAsOrphan(s, txn, *rec, req.orphan_client());
      orphaned = true;
      return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
    }
    if (rec && s.options().trash_ms > 0 && rec->inode.type() == proto::INODE_FILE) {
      MoveToTrash(s, txn, *rec, req.parent(), req.name());
      trashed = true;
      return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
    }
    if (rec) {
      txn.ExpectEquals(InodeKey(victim), rec->raw);
      txn.Delete(InodeKey(victim));
    } else {
      // A dangling entry (should not exist): removing it is the repair.
      txn.ExpectAbsent(InodeKey(victim));
    }
    ASSIGN_OR_RETURN(dropped, DropInodeContents(s.kv(), txn, victim));
    inode_removed = rec.has_value();
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) return st;
  if (orphaned) {
    // Still counted in inode_count: it is freed (and uncounted) at release.
    s.orphans().Add(victim, req.orphan_client());
    resp->set_orphan_inode(victim);
  } else if (trashed) {
    s.leases().Drop(victim);  // still counted: freed (and uncounted) at purge
  } else {
    if (inode_removed) --s.inode_count;
    s.chunk_count -= dropped;
    s.leases().Drop(victim);
  }
  const proto::Timespec now = s.clock().WallTimespec();
  s.dir_times().Touch(req.parent(), now);
  *resp->mutable_parent_time() = now;
  ChargeQuota(s, req.parent(), -freed_bytes, -1);
  return Status::Ok();
}

}  // namespace granary::metadata
