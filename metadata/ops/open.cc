// Open: a file's inode and chunk map (or its inline data, for a small file
// stored in metad); with `write`, also its write lease. Works on orphans too:
// a client that has an unlinked file open keeps reading and writing it.

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
  Result<std::optional<std::string>> inline_data =
      chunks.ok() ? LoadInlineData(s.kv(), req.inode()) : chunks.status();
  if (!inline_data.ok()) {
    if (lease) (void)s.leases().Release(req.inode(), lease->id);
    return inline_data.status();
  }
  if (*inline_data) {
    resp->set_has_inline_data(true);
    resp->set_inline_data(std::move(**inline_data));
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
