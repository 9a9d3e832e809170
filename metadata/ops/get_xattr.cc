// GetXattr: one extended attribute's value.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status GetXattr(MetaState& s, const proto::GetXattrRequest& req, proto::GetXattrResponse* resp) {
  RETURN_IF_ERROR(ValidateXattrName(req.name()));
  // The inode first: a missing inode is NOT_FOUND, not NO_ATTRIBUTE.
  RETURN_IF_ERROR(LoadExistingInode(s.kv(), req.inode()).status());
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   s.kv().Get(XattrKey(req.inode(), req.name())));
  if (!value) {
    return Status::NoAttribute(
        fmt::format("inode {} has no attribute '{}'", req.inode(), req.name()));
  }
  resp->set_value(std::move(*value));
  return Status::Ok();
}

}  // namespace granary::metadata
