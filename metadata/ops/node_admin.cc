// NodeAdmin: drain, undrain, remove and status of one chunk server.
//
// Drain marks the node (persisted): placement skips it, and the repair loop
// copies each of its replicas to another node and then drops it from the
// chunk's record (the node deletes its copy when told), so a drained node
// keeps serving reads until nothing references it. Remove forgets a node
// that is stopped (DOWN) and referenced by no chunk record.
//
// Status and remove count references with a scan of every chunk record:
// admin commands are rare, and the scan needs no index kept up to date.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

Result<uint64_t> ReplicasOn(MetaState& s, const std::string& node_id) {
  uint64_t n = 0;
  RETURN_IF_ERROR(ForEachChunkRecord(s.kv(), AllChunksPrefix(), [&](uint64_t, proto::ChunkInfo& c) {
    for (const proto::NodeAddress& r : c.replicas()) n += r.node_id() == node_id ? 1 : 0;
    return true;
  }));
  return n;
}

}  // namespace

Status NodeAdmin(MetaState& s, const proto::NodeAdminRequest& req,
                 proto::NodeAdminResponse* resp) {
  RETURN_IF_ERROR(ValidateNodeId(req.node_id(), "node_id"));
  if (!s.nodes().Known(req.node_id())) {
    return Status::NotFound("node " + req.node_id() + " is not registered (see granary node ls)");
  }
  switch (req.action()) {
    case proto::NodeAdminRequest::DRAIN:
      RETURN_IF_ERROR(s.nodes().SetDraining(req.node_id(), true));
      break;
    case proto::NodeAdminRequest::UNDRAIN:
      RETURN_IF_ERROR(s.nodes().SetDraining(req.node_id(), false));
      break;
    case proto::NodeAdminRequest::REMOVE: {
      if (s.nodes().IsUp(req.node_id())) {
        return Status::InvalidArgument(
            fmt::format("node {} is up: drain it, wait until it holds no replica, stop its "
                        "granary-chunkd, then remove it",
                        req.node_id()));
      }
      ASSIGN_OR_RETURN(uint64_t refs, ReplicasOn(s, req.node_id()));
      if (refs > 0) {
        return Status::InvalidArgument(fmt::format(
            "node {} still holds {} chunk replicas: drain it first (granary node drain {}), "
            "or let repair replace them",
            req.node_id(), refs, req.node_id()));
      }
      RETURN_IF_ERROR(s.nodes().Remove(req.node_id()));
      resp->mutable_node()->set_node_id(req.node_id());
      return Status::Ok();
    }
    case proto::NodeAdminRequest::STATUS:
      break;
    default:
      return Status::InvalidArgument("action: unknown node action");
  }
  for (const proto::NodeInfo& n : s.nodes().List()) {
    if (n.node_id() == req.node_id()) *resp->mutable_node() = n;
  }
  ASSIGN_OR_RETURN(uint64_t refs, ReplicasOn(s, req.node_id()));
  resp->mutable_node()->set_replicas_referenced(refs);
  return Status::Ok();
}

}  // namespace granary::metadata
