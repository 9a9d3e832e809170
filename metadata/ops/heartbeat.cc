// Heartbeat: a chunk server reports usage and collects the replicas it may
// delete. Deletions handed out leave the queue at once (unsynced): chunk
// server deletions are idempotent, and a deletion lost in a crash or a missed
// reply leaves an orphan replica for the scrubber, never lost data.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Heartbeat(MetaState& s, const proto::HeartbeatRequest& req,
                 proto::HeartbeatResponse* resp) {
  const proto::NodeInfo& node = req.node();
  RETURN_IF_ERROR(ValidateNodeId(node.node_id(), "node.node_id"));
  if (!s.nodes().Heartbeat(node)) {
    resp->set_reregister(true);
    return Status::Ok();
  }
  RETURN_IF_ERROR(MarkBadReplicas(s, node.node_id(), req.lost_chunks(), "lost by its node"));
  const uint32_t limit = s.options().deletions_per_heartbeat;
  if (limit == 0) return Status::Ok();
  // An open backup session may still read any replica its snapshot names:
  // the deletions stay queued until the last session ends or expires.
  if (s.backups().AnyOpen(s.clock().SteadyMs())) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<KvPair> queued,
                   s.kv().Scan(KeyRange::Prefix(GarbagePrefix(node.node_id())), limit));
  if (queued.empty()) return Status::Ok();
  KvTxn txn;
  for (const KvPair& kvp : queued) {
    std::optional<proto::ChunkRef> ref = ChunkRefFromGarbageKey(node.node_id(), kvp.key);
    txn.Delete(kvp.key);
    if (ref) *resp->add_delete_chunks() = *ref;
  }
  Status st = s.kv().Commit(txn, CommitOptions{.sync = false});
  if (!st.ok()) {
    // Keep them queued; the node gets them next time.
    resp->clear_delete_chunks();
    return st.WithContext(fmt::format("dequeuing deletions for node {}", node.node_id()));
  }
  return Status::Ok();
}

}  // namespace granary::metadata
