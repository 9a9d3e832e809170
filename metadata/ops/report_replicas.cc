// ReportReplicas: a replica failed verification somewhere (a client read, a
// chunk server's scrub). metad stops counting it; the repair loop copies the
// chunk from a good replica and has the bad one deleted. RepairStatus: what
// that loop has done, for `granary cluster status` and tests.

#include <fmt/format.h>

#include "common/log.h"
#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

// Bounds one report: a node never loses more than a heartbeat's worth.
constexpr int kMaxReportedChunks = 10'000;

Status MarkBadReplicas(MetaState& s, const std::string& node_id,
                       const google::protobuf::RepeatedPtrField<proto::ChunkRef>& chunks,
                       std::string_view reason) {
  if (chunks.size() > kMaxReportedChunks) {
    return Status::InvalidArgument(fmt::format("{} replicas in one report, at most {}",
                                               chunks.size(), kMaxReportedChunks));
  }
  for (const proto::ChunkRef& ref : chunks) {
    if (s.bad_replicas().Add(node_id, ref.chunk_id(), ref.version())) {
      LOG_WARN("replica of chunk {:016x} v{} on node {} is bad ({})", ref.chunk_id(),
               ref.version(), node_id, reason);
    }
  }
  return Status::Ok();
}

Status ReportReplicas(MetaState& s, const proto::ReportReplicasRequest& req,
                      proto::ReportReplicasResponse* /*resp*/) {
  RETURN_IF_ERROR(ValidateNodeId(req.node_id(), "node_id"));
  if (!s.nodes().Known(req.node_id())) {
    return Status::NotFound("node " + req.node_id() + " is not registered");
  }
  return MarkBadReplicas(s, req.node_id(), req.chunks(),
                         req.reason().empty() ? "reported" : req.reason().substr(0, 200));
}

Status RepairStatus(MetaState& s, const proto::RepairStatusRequest& /*req*/,
                    proto::RepairStatusResponse* resp) {
  const RepairStats& st = s.repair_stats();
  resp->set_under_replicated(st.under_replicated);
  resp->set_unrecoverable(st.unrecoverable);
  resp->set_copies_in_flight(st.in_flight);
  resp->set_copies_done(st.done);
  resp->set_copies_failed(st.failed);
  resp->set_bytes_copied(st.bytes);
  resp->set_last_scan_ms(st.last_scan_unix_ms);
  resp->set_bad_replicas(s.bad_replicas().size());
  return Status::Ok();
}

}  // namespace granary::metadata
