// ReleaseOrphan: frees an orphan (an unlinked file its client no longer has
// open): its inode, chunks (replicas queued for deletion), attributes, inline
// data and "O" record, in one transaction. Releasing an inode that is not an
// orphan (never was, or already released) is a no-op, so a client can retry
// freely; it never touches a file that still has a name.
//
// Upkeep frees the orphans whose client stopped renewing them the same way.

#include <fmt/format.h>

#include "common/log.h"
#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

// `client`: the caller must own the orphan; nullptr for upkeep.
Status ReleaseOrphanInode(MetaState& s, uint64_t inode, const std::string* client) {
  int64_t dropped = 0;
  bool released = false;
  bool inode_removed = false;
  Status st = RunTxn(s, "release orphan", [&]() -> Status {
    dropped = 0;
    released = false;
    inode_removed = false;
    ASSIGN_OR_RETURN(std::optional<std::string> owner, s.kv().Get(OrphanKey(inode)));
    if (!owner) return Status::Ok();
    if (client != nullptr && *owner != *client) {
      return Status::PermissionDenied(fmt::format(
          "inode {} is an orphan of client '{}', not of '{}'", inode, *owner, *client));
    }
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), inode));
    KvTxn txn;
    txn.ExpectEquals(OrphanKey(inode), *owner);
    txn.Delete(OrphanKey(inode));
    txn.ExpectValue(InodeKey(inode), rec ? std::optional(rec->raw) : std::nullopt);
    if (rec) txn.Delete(InodeKey(inode));
    ASSIGN_OR_RETURN(dropped, DropInodeContents(s.kv(), txn, inode));
    released = true;
    inode_removed = rec.has_value();
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  // Also when nothing was stored: forget a stale renewal entry.
  s.orphans().Remove(inode);
  if (!released) return Status::Ok();
  s.leases().Drop(inode);
  if (inode_removed) --s.inode_count;
  s.chunk_count -= dropped;
  return Status::Ok();
}

}  // namespace

Status ReleaseOrphan(MetaState& s, const proto::ReleaseOrphanRequest& req,
                     proto::ReleaseOrphanResponse* resp) {
  RETURN_IF_ERROR(ValidateClientIdField(req.client_id(), "client_id"));
  return ReleaseOrphanInode(s, req.inode(), &req.client_id());
}

Status ReleaseExpiredOrphans(MetaState& s) {
  const int64_t ttl = s.options().orphan_ttl_ms;
  Status first;
  for (uint64_t inode : s.orphans().Expired(ttl)) {
    // A keep-alive may have renewed it since the list was taken.
    if (!s.orphans().IsExpired(inode, ttl)) continue;
    Status st = ReleaseOrphanInode(s, inode, nullptr);
    if (st.ok()) {
      LOG_INFO("freed orphan inode {}: its client did not renew it for {} ms", inode, ttl);
    } else if (first.ok()) {
      first = st.WithContext(fmt::format("freeing orphan inode {}", inode));
    }
  }
  return first;
}

}  // namespace granary::metadata
