// GetAttr: inode id -> inode.

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status GetAttr(MetaState& s, const proto::GetAttrRequest& req, proto::GetAttrResponse* resp) {
  ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
  *resp->mutable_inode() = Visible(s, std::move(rec.inode));
  return Status::Ok();
}

}  // namespace granary::metadata
