// Mkdir: one transaction, (dentry absent, parent present) -> put dentry + inode.
// The parent inode is checked, not written: its mtime goes through DirTimes so
// that creates in one busy folder do not all conflict on it.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Mkdir(MetaState& s, const proto::MkdirRequest& req, proto::MkdirResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  uint64_t id = 0;  // reserved once; kept across retries
  proto::Inode created;
  Status st = RunTxn(s, "mkdir", [&]() -> Status {
    ASSIGN_OR_RETURN(InodeRecord parent, LoadParentDir(s.kv(), req.parent()));
    ASSIGN_OR_RETURN(std::optional<DentryRecord> existing,
                     LoadDentry(s.kv(), req.parent(), req.name()));
    if (existing) {
      return Status::AlreadyExists(
          fmt::format("'{}' already exists in directory {}", req.name(), req.parent()));
    }
    if (id == 0) {
      ASSIGN_OR_RETURN(id, s.inode_ids().Next());
    }
    created = NewInode(s, id, proto::INODE_DIR, req.mode(), req.uid(), req.gid(), parent.inode);
    KvTxn txn;
    txn.ExpectPresent(InodeKey(req.parent()));
    txn.ExpectAbsent(DentryKey(req.parent(), req.name()));
    txn.Put(DentryKey(req.parent(), req.name()), EncodeDentry({id, proto::INODE_DIR}));
    txn.Put(InodeKey(id), SerializeInode(created));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) return st;
  ++s.inode_count;
  s.dir_times().Touch(req.parent(), created.mtime());
  *resp->mutable_inode() = std::move(created);
  return Status::Ok();
}

}  // namespace granary::metadata
