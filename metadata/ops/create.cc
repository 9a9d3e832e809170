// Create: a new file, or (non-exclusive) the existing one, optionally cut to
// size 0 and optionally opened for writing (the lease is granted here).
//
// Order for an existing file: the lease is taken before truncating, so a
// truncate never pulls data out from under another writer; when the
// transaction then fails, the lease is given back.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status Create(MetaState& s, const proto::CreateRequest& req, proto::CreateResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  if (req.replicas() != 0) RETURN_IF_ERROR(ValidateReplicas(req.replicas(), "replicas"));
  if (req.chunk_size() != 0) RETURN_IF_ERROR(ValidateChunkSize(req.chunk_size(), "chunk_size"));
  if (req.open_for_write()) RETURN_IF_ERROR(ValidateClientId(req.client_id()));

  uint64_t new_id = 0;          // reserved once; kept across retries
  std::optional<Lease> lease;   // taken on an existing file before truncating it
  uint64_t lease_inode = 0;
  proto::Inode result;
  bool created = false;
  int64_t dropped = 0;
  int64_t truncated_bytes = 0;  // an existing file cut to 0 frees its size
  QuotaCharge charge;           // a new entry, reserved per attempt
  Status st = RunTxn(s, "create", [&]() -> Status {
    created = false;
    dropped = 0;
    truncated_bytes = 0;
    charge = QuotaCharge();
    ASSIGN_OR_RETURN(InodeRecord parent, LoadParentDir(s.kv(), req.parent()));
    ASSIGN_OR_RETURN(std::optional<DentryRecord> d, LoadDentry(s.kv(), req.parent(), req.name()));
    KvTxn txn;
    if (!d) {
      ASSIGN_OR_RETURN(charge, QuotaCharge::Reserve(s, req.parent(), 0, 1));
      if (new_id == 0) {
        ASSIGN_OR_RETURN(new_id, s.inode_ids().Next());
      }
      result = NewInode(s, new_id, proto::INODE_FILE, req.mode(), req.uid(), req.gid(),
                        parent.inode, req.replicas(), req.chunk_size());
      txn.ExpectPresent(InodeKey(req.parent()));
      txn.ExpectAbsent(DentryKey(req.parent(), req.name()));
      txn.Put(DentryKey(req.parent(), req.name()), EncodeDentry({new_id, proto::INODE_FILE}));
      txn.Put(InodeKey(new_id), SerializeInode(result));
      created = true;
      return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
    }
    if (req.exclusive()) {
      return Status::AlreadyExists(
          fmt::format("'{}' already exists in directory {}", req.name(), req.parent()));
    }
    if (d->dentry.type == proto::INODE_DIR) {
      return Status::IsDirectory(
          fmt::format("'{}' in directory {} is a directory", req.name(), req.parent()));
    }
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), d->dentry.inode));
    if (!rec) return KvConflict("entry unlinked while opening");
    RETURN_IF_ERROR(RequireFile(rec->inode));
    if (req.open_for_write() && lease && lease_inode != rec->inode.id()) {
      // The name now points at another file (renamed over): move the lease.
      (void)s.leases().Release(lease_inode, lease->id);
      lease.reset();
    }
    if (req.open_for_write() && !lease) {
      ASSIGN_OR_RETURN(lease, s.leases().Acquire(rec->inode.id(), req.client_id()));
      lease_inode = rec->inode.id();
    } else if (req.truncate() && !req.open_for_write()) {
      if (std::optional<Lease> holder = s.leases().Holder(rec->inode.id())) {
        return Status::LeaseConflict(fmt::format(
            "cannot truncate inode {}: it is open for writing by client '{}'",
            rec->inode.id(), holder->client_id));
      }
    }
    result = rec->inode;
    if (!req.truncate()) return Status::Ok();
    ASSIGN_OR_RETURN(dropped, DropChunksFrom(s.kv(), txn, result.id(), 0));
    DropInlineData(txn, result.id());
    proto::Timespec now = s.clock().WallTimespec();
    truncated_bytes = static_cast<int64_t>(result.size());
    result.set_size(0);
    *result.mutable_mtime() = now;
    *result.mutable_ctime() = now;
    txn.ExpectEquals(DentryKey(req.parent(), req.name()), d->raw);
    txn.ExpectEquals(InodeKey(result.id()), rec->raw);
    txn.Put(InodeKey(result.id()), SerializeInode(result));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) {
    if (lease) (void)s.leases().Release(lease_inode, lease->id);
    return st;
  }
  charge.Keep();
  ChargeQuota(s, req.parent(), -truncated_bytes, 0);
  if (created) {
    ++s.inode_count;
    s.dir_times().Touch(req.parent(), result.ctime());
    if (req.open_for_write()) {
      // A brand-new inode: only a racing non-exclusive create of the same name
      // could hold its lease already, and then LEASE_CONFLICT is the answer.
      ASSIGN_OR_RETURN(lease, s.leases().Acquire(result.id(), req.client_id()));
    }
  }
  s.chunk_count -= dropped;
  if (lease) {
    resp->set_lease_id(lease->id);
    resp->set_lease_ms(static_cast<uint64_t>(s.leases().lease_ms()));
  }
  *resp->mutable_inode() = std::move(result);
  return Status::Ok();
}

}  // namespace granary::metadata
