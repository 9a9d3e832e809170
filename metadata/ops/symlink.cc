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
  ASSIGN_OR_RETURN(
      *resp->mutable_inode(),
      AddNewEntry(s, "symlink", req.parent(), req.name(), req.lazy_sync(),
                  [&](uint64_t id, const proto::Inode& parent) {
                    proto::Inode in = NewInode(s, id, proto::INODE_SYMLINK, 0777, req.uid(),
                                               req.gid(), parent);
                    in.set_symlink_target(req.target());
                    in.set_size(req.target().size());
                    return in;
                  }));
  return Status::Ok();
}

}  // namespace granary::metadata
