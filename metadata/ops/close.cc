// Close: publishes what the writer committed by setting the file's size and
// mtime (close-to-open: readers that open afterwards see the new data), synced.
// With release the write lease ends; without (fsync) the writer keeps it.
// Chunks wholly past the new size are dropped and a partial last chunk is
// capped, as for a truncate, so the file is exactly [0, size).

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Close(MetaState& s, const proto::CloseRequest& req, proto::CloseResponse* resp) {
  if (req.size() > kMaxFileSize) {
    return Status::InvalidArgument(
        fmt::format("size = {} exceeds the largest file size {}", req.size(), kMaxFileSize));
  }
  if (req.has_mtime()) RETURN_IF_ERROR(ValidateTimespec(req.mtime(), "mtime"));
  RETURN_IF_ERROR(s.leases().CheckAndRenew(req.inode(), req.lease_id()));
  proto::Inode updated;
  int64_t dropped = 0;
  Status st = RunTxn(s, "close", [&]() -> Status {
    dropped = 0;
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    RETURN_IF_ERROR(RequireFile(rec.inode));
    updated = rec.inode;
    KvTxn txn;
    // Pending allocations stay: with release=false (fsync) the writer may
    // still be writing past this size.
    ASSIGN_OR_RETURN(dropped, TruncateChunks(s.kv(), txn, updated, req.size(),
                                             /*with_pending=*/false));
    proto::Timespec now = s.clock().WallTimespec();
    updated.set_size(req.size());
    *updated.mutable_mtime() = req.has_mtime() ? req.mtime() : now;
    *updated.mutable_ctime() = now;
    txn.ExpectEquals(InodeKey(updated.id()), rec.raw);
    txn.Put(InodeKey(updated.id()), SerializeInode(updated));
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  s.chunk_count -= dropped;
  if (req.release()) (void)s.leases().Release(req.inode(), req.lease_id());
  *resp->mutable_inode() = std::move(updated);
  return Status::Ok();
}

}  // namespace granary::metadata
