// Open: a file's inode and chunk map; with `write`, also its write lease.

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Open(MetaState& s, const proto::OpenRequest& req, proto::OpenResponse* resp) {
  if (req.write()) RETURN_IF_ERROR(ValidateClientId(req.client_id()));
  ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
  RETURN_IF_ERROR(RequireFile(rec.inode));
  std::optional<Lease> lease;
  if (req.write()) {
    ASSIGN_OR_RETURN(lease, s.leases().Acquire(req.inode(), req.client_id()));
  }
  Result<std::vector<ChunkRecord>> chunks =
      LoadChunkRange(s.kv(), ChunkPrefix(req.inode()), 0, 0);
  if (!chunks.ok()) {
    if (lease) (void)s.leases().Release(req.inode(), lease->id);
    return chunks.status();
  }
  for (ChunkRecord& c : *chunks) {
    s.nodes().FillAddresses(&c.chunk);
    *resp->add_chunks() = std::move(c.chunk);
  }
  *resp->mutable_inode() = std::move(rec.inode);
  if (lease) {
    resp->set_lease_id(lease->id);
    resp->set_lease_ms(static_cast<uint64_t>(s.leases().lease_ms()));
  }
  return Status::Ok();
}

}  // namespace granary::metadata
