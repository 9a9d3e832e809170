// Mkdir: one transaction, (dentry absent, parent present) -> put dentry + inode.
// The parent inode is checked, not written: its mtime goes through DirTimes so
// that creates in one busy folder do not all conflict on it.

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Mkdir(MetaState& s, const proto::MkdirRequest& req, proto::MkdirResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  ASSIGN_OR_RETURN(
      *resp->mutable_inode(),
      AddNewEntry(s, "mkdir", req.parent(), req.name(), req.lazy_sync(),
                  [&](uint64_t id, const proto::Inode& parent) {
                    return NewInode(s, id, proto::INODE_DIR, req.mode(), req.uid(), req.gid(),
                                    parent);
                  }));
  return Status::Ok();
}

}  // namespace granary::metadata
