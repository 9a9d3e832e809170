// Lookup: (parent folder, name) -> inode.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Lookup(MetaState& s, const proto::LookupRequest& req, proto::LookupResponse* resp) {
  RETURN_IF_ERROR(ValidateName(req.name()));
  RETURN_IF_ERROR(LoadParentDir(s.kv(), req.parent()).status());
  ASSIGN_OR_RETURN(std::optional<DentryRecord> d, LoadDentry(s.kv(), req.parent(), req.name()));
  if (!d) {
    return Status::NotFound(
        fmt::format("no entry '{}' in directory {}", req.name(), req.parent()));
  }
  ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), d->dentry.inode));
  if (!rec) {  // unlinked between the two reads
    return Status::NotFound(
        fmt::format("no entry '{}' in directory {}", req.name(), req.parent()));
  }
  *resp->mutable_inode() = Visible(s, std::move(rec->inode));
  return Status::Ok();
}

}  // namespace granary::metadata
