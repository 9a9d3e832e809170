// ListNodes: every registered chunk server with its state (UP/DOWN).

#include "metadata/ops/ops.h"

namespace granary::metadata {

Status ListNodes(MetaState& s, const proto::ListNodesRequest& req,
                 proto::ListNodesResponse* resp) {
  for (proto::NodeInfo& n : s.nodes().List()) *resp->add_nodes() = std::move(n);
  return Status::Ok();
}

}  // namespace granary::metadata
