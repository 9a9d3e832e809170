// Close: publishes what the writer committed by setting the file's size and
// mtime (close-to-open: readers that open afterwards see the new data).
// With release the write lease ends; without (fsync) the writer keeps it.
// Chunks wholly past the new size are dropped and a partial last chunk is
// capped, as for a truncate, so the file is exactly [0, size).
//
// With inline_data the file's whole contents (at most kMaxInlineBytes) are
// stored in metad ("L" key) and every chunk of the file, committed or
// pending, is freed: a small file costs no chunk server round trips to read.
// Without it, inline data the file had is deleted: its writer has written the
// contents as chunks. With release_only, only the lease ends.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {
namespace {

Status Validate(const proto::CloseRequest& req) {
  if (req.size() > kMaxFileSize) {
    return Status::InvalidArgument(
        fmt::format("size = {} exceeds the largest file size {}", req.size(), kMaxFileSize));
  }
  if (req.has_mtime()) RETURN_IF_ERROR(ValidateTimespec(req.mtime(), "mtime"));
  if (req.has_inline_data()) {
    if (req.inline_data().size() > kMaxInlineBytes) {
      return Status::InvalidArgument(fmt::format("inline_data of {} bytes exceeds {} bytes",
                                                 req.inline_data().size(), kMaxInlineBytes));
    }
    if (req.inline_data().size() != req.size()) {
      return Status::InvalidArgument(fmt::format(
          "size = {} differs from the length of inline_data ({} bytes)", req.size(),
          req.inline_data().size()));
    }
  }
  return Status::Ok();
}

}  // namespace

Status Close(MetaState& s, const proto::CloseRequest& req, proto::CloseResponse* resp) {
  RETURN_IF_ERROR(Validate(req));
  RETURN_IF_ERROR(s.leases().CheckAndRenew(req.inode(), req.lease_id()));
  if (req.release_only()) {
    // Nothing to publish: the lease ends, the inode stays as it is.
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    (void)s.leases().Release(req.inode(), req.lease_id());
    *resp->mutable_inode() = std::move(rec.inode);
    return Status::Ok();
  }
  proto::Inode updated;
  int64_t dropped = 0;
  int64_t shrink = 0;  // see setattr.cc: folder quotas follow the size
  QuotaCharge growth;
  Status st = RunTxn(s, "close", [&]() -> Status {
    dropped = 0;
    shrink = 0;
    growth = QuotaCharge();
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    RETURN_IF_ERROR(RequireFile(rec.inode));
    updated = rec.inode;
    // Publishing a size past a folder's byte quota is refused (nothing
    // changes; the writer then closes at its last published size).
    const int64_t delta = static_cast<int64_t>(req.size()) - static_cast<int64_t>(rec.inode.size());
    if (delta > 0) {
      ASSIGN_OR_RETURN(growth, QuotaCharge::Reserve(s, rec.inode.parent(), delta, 0));
    } else {
      shrink = -delta;
    }
    KvTxn txn;
    if (req.has_inline_data()) {
      ASSIGN_OR_RETURN(dropped, DropChunksFrom(s.kv(), txn, updated.id(), 0));
      // Replaces whatever is there: the inode record, pinned below, is
      // rewritten by every change of the inline data (see DropInlineData).
      txn.Put(InlineDataKey(updated.id()), req.inline_data());
    } else {
      // Pending allocations stay: with release=false (fsync) the writer may
      // still be writing past this size.
      ASSIGN_OR_RETURN(dropped, TruncateChunks(s.kv(), txn, updated, req.size(),
                                               /*with_pending=*/false));
      DropInlineData(txn, updated.id());
    }
    proto::Timespec now = s.clock().WallTimespec();
    updated.set_size(req.size());
    *updated.mutable_mtime() = req.has_mtime() ? req.mtime() : now;
    *updated.mutable_ctime() = now;
    txn.ExpectEquals(InodeKey(updated.id()), rec.raw);
    txn.Put(InodeKey(updated.id()), SerializeInode(updated));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) return st;
  growth.Keep();
  ChargeQuota(s, updated.parent(), -shrink, 0);
  s.chunk_count -= dropped;
  if (req.release()) (void)s.leases().Release(req.inode(), req.lease_id());
  *resp->mutable_inode() = std::move(updated);
  return Status::Ok();
}

}  // namespace granary::metadata
