// ListXattr: the names of an inode's extended attributes, sorted (at most
// 1 MiB of names and values per inode, so one message always holds them).

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status ListXattr(MetaState& s, const proto::ListXattrRequest& req,
                 proto::ListXattrResponse* resp) {
  RETURN_IF_ERROR(LoadExistingInode(s.kv(), req.inode()).status());
  ASSIGN_OR_RETURN(std::vector<KvPair> xattrs, LoadXattrs(s.kv(), req.inode()));
  for (const KvPair& p : xattrs) resp->add_names(std::string(XattrNameFromKey(p.key)));
  return Status::Ok();
}

}  // namespace granary::metadata
