// GetLayout: a range of a file's committed chunks, with replica addresses.

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status GetLayout(MetaState& s, const proto::GetLayoutRequest& req,
                 proto::GetLayoutResponse* resp) {
  ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
  RETURN_IF_ERROR(RequireFile(rec.inode));
  ASSIGN_OR_RETURN(std::vector<ChunkRecord> chunks,
                   LoadChunkRange(s.kv(), ChunkPrefix(req.inode()), req.first_chunk(),
                                  req.count()));
  for (ChunkRecord& c : chunks) {
    s.nodes().FillAddresses(&c.chunk);
    *resp->add_chunks() = std::move(c.chunk);
  }
  return Status::Ok();
}

}  // namespace granary::metadata
