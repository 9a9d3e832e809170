// StatFs: cluster capacity (UP chunk servers) and namespace counts.

#include "metadata/ops/ops.h"

namespace granary::metadata {

Status StatFs(MetaState& s, const proto::StatFsRequest& req, proto::StatFsResponse* resp) {
  ClusterTotals t = s.nodes().Totals();
  resp->set_capacity_bytes(t.capacity_bytes);
  resp->set_used_bytes(t.used_bytes);
  resp->set_free_bytes(t.free_bytes);
  resp->set_nodes_up(t.nodes_up);
  resp->set_nodes_total(t.nodes_total);
  // Counters can dip below zero only through a bug; never report that as 2^64.
  resp->set_files(static_cast<uint64_t>(std::max<int64_t>(0, s.inode_count.load())));
  resp->set_chunks(static_cast<uint64_t>(std::max<int64_t>(0, s.chunk_count.load())));
  return Status::Ok();
}

}  // namespace granary::metadata
