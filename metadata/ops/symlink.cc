// Symlink: like mkdir, one transaction (dentry absent, parent present) ->
// put dentry + inode. The target is stored as given in the inode (readlink
// is a getattr or lookup); size is its length, mode 0777 as on Linux.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

Status ValidateTarget(std::string_view target) {
  if (target.empty()) return Status::InvalidArgument("target is empty");
  if (target.size() > kMaxSymlinkBytes) {
    return Status::NameTooLong(fmt::format("target of {} bytes exceeds the limit of {} bytes",
                                           target.size(), kMaxSymlinkBytes));
  }
  if (target.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("target contains a NUL byte");
  }
  return Status::Ok();
}

}  // namespace

Status Symlink(MetaState& s, const proto::SymlinkRequest& req, proto::SymlinkResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  RETURN_IF_ERROR(ValidateTarget(req.target()));
  uint64_t id = 0;  // reserved once; kept across retries
  proto::Inode created;
  Status st = RunTxn(s, "symlink", [&]() -> Status {
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
    created = NewInode(s, id, proto::INODE_SYMLINK, 0777, req.uid(), req.gid(), parent.inode);
    created.set_symlink_target(req.target());
    created.set_size(req.target().size());
    KvTxn txn;
    txn.ExpectPresent(InodeKey(req.parent()));
    txn.ExpectAbsent(DentryKey(req.parent(), req.name()));
    txn.Put(DentryKey(req.parent(), req.name()), EncodeDentry({id, proto::INODE_SYMLINK}));
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
