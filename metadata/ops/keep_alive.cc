// KeepAlive: renews a client's write leases and orphans in one call, so a
// client with many open files sends one message per period instead of one
// per file. Nothing is written: leases and orphan renewal times live in memory.

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status KeepAlive(MetaState& s, const proto::KeepAliveRequest& req,
                 proto::KeepAliveResponse* resp) {
  RETURN_IF_ERROR(ValidateClientIdField(req.client_id(), "client_id"));
  for (const proto::LeaseRef& l : req.leases()) {
    // Expired, released, taken over, or its file gone: the client must stop
    // writing and open the file again. (A lease from before a metad restart
    // is reclaimed by CheckAndRenew, so only for a file that still exists.)
    Result<std::optional<InodeRecord>> rec = LoadInode(s.kv(), l.inode());
    if (!rec.ok() || !rec->has_value() ||
        !s.leases().CheckAndRenew(l.inode(), l.lease_id()).ok()) {
      *resp->add_lost_leases() = l;
    }
  }
  // An orphan that is unknown or another client's is ignored: it was freed
  // (or never this client's), and nothing the client can do brings it back.
  for (uint64_t inode : req.orphans()) (void)s.orphans().Renew(inode, req.client_id());
  return Status::Ok();
}

}  // namespace granary::metadata
