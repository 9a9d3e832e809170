// RemoveXattr: deletes one extended attribute and sets the inode's ctime, in
// one transaction that pins the inode and the attribute as read.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status RemoveXattr(MetaState& s, const proto::RemoveXattrRequest& req,
                   proto::RemoveXattrResponse* resp) {
  RETURN_IF_ERROR(ValidateXattrName(req.name()));
  const std::string key = XattrKey(req.inode(), req.name());
  return RunTxn(s, "removexattr", [&]() -> Status {
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    ASSIGN_OR_RETURN(std::optional<std::string> value, s.kv().Get(key));
    if (!value) {
      return Status::NoAttribute(
          fmt::format("inode {} has no attribute '{}'", req.inode(), req.name()));
    }
    proto::Inode updated = rec.inode;
    *updated.mutable_ctime() = s.clock().WallTimespec();
    KvTxn txn;
    txn.ExpectEquals(InodeKey(req.inode()), rec.raw);
    txn.ExpectEquals(key, *value);
    txn.Delete(key);
    txn.Put(InodeKey(req.inode()), SerializeInode(updated));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
}

}  // namespace granary::metadata
