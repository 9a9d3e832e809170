// AllocateChunk: a chunk id, version and replica chain for writing one chunk.
//
// A new index gets a fresh chunk id (version 1); an index that already has a
// chunk keeps its id and gets a higher version (copy-on-write rewrite). The
// allocation is recorded as pending ("P" key, synced) so that a version is
// never handed out twice, even across a restart or a writer that allocates the
// same index again after a failed chain: the version is one above the highest
// of the committed and the pending one. A superseded pending allocation's
// replicas are scheduled for deletion (they may hold a partial copy).
// Nothing is visible to readers until CommitChunk.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {

Status AllocateChunk(MetaState& s, const proto::AllocateChunkRequest& req,
                     proto::AllocateChunkResponse* resp) {
  if (req.exclude_nodes_size() > static_cast<int>(kMaxExcludeNodes)) {
    return Status::InvalidArgument(fmt::format("exclude_nodes has {} entries, at most {}",
                                               req.exclude_nodes_size(), kMaxExcludeNodes));
  }
  RETURN_IF_ERROR(s.leases().CheckAndRenew(req.inode(), req.lease_id()));
  ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
  RETURN_IF_ERROR(RequireFile(rec.inode));
  const uint64_t cs = rec.inode.chunk_size();
  if (cs == 0 || req.chunk_index() >= kMaxFileSize / cs) {
    return Status::InvalidArgument(fmt::format(
        "chunk_index = {} is past the largest file size with chunk size {}", req.chunk_index(), cs));
  }
  // Writing past the end of a folder that is at its byte quota fails here,
  // before any data moves; the size published at close is checked exactly.
  const uint64_t chunk_start = req.chunk_index() * cs;
  if (chunk_start >= rec.inode.size()) {
    RETURN_IF_ERROR(CheckQuotaRoom(s, rec.inode.parent(),
                                   static_cast<int64_t>(chunk_start - rec.inode.size()) + 1));
  }
  std::vector<std::string> exclude(req.exclude_nodes().begin(), req.exclude_nodes().end());
  Result<std::vector<proto::NodeAddress>> placed = s.PlaceReplicas(rec.inode.replicas(), exclude);
  if (!placed.ok() && placed.status().code() == proto::NOT_ENOUGH_NODES) {
    // Right after a metad restart the chunk servers are still registering
    // again: UNAVAILABLE makes the writer wait and ask again.
    if (const size_t awaited = s.nodes().AwaitedAfterRestart(); awaited > 0) {
      return Status::Unavailable(fmt::format(
          "metad just started; waiting for {} chunk servers to register again ({})", awaited,
          placed.status().message()));
    }
  }
  if (!placed.ok()) return placed.status();
  std::vector<proto::NodeAddress> chain = std::move(placed).value();

  uint64_t fresh_id = 0;  // reserved only for a new index; kept across retries
  proto::ChunkInfo chunk;
  Status st = RunTxn(s, "allocate chunk", [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> committed,
                     LoadChunk(s.kv(), req.inode(), req.chunk_index()));
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> pending,
                     LoadPendingChunk(s.kv(), req.inode(), req.chunk_index()));
    chunk.Clear();
    chunk.set_chunk_index(req.chunk_index());
    if (pending || committed) {
      const proto::ChunkInfo& base = pending ? pending->chunk : committed->chunk;
      uint64_t high = std::max(pending ? pending->chunk.version() : 0,
                               committed ? committed->chunk.version() : 0);
      chunk.set_chunk_id(base.chunk_id());
      chunk.set_version(high + 1);
    } else {
      if (fresh_id == 0) {
        ASSIGN_OR_RETURN(fresh_id, s.chunk_ids().Next());
      }
      chunk.set_chunk_id(fresh_id);
      chunk.set_version(1);
    }
    for (const proto::NodeAddress& a : chain) *chunk.add_replicas() = a;
    const std::string pending_key = PendingChunkKey(req.inode(), req.chunk_index());
    KvTxn txn;
    txn.ExpectPresent(InodeKey(req.inode()));
    txn.ExpectValue(ChunkKey(req.inode(), req.chunk_index()),
                    committed ? std::optional(committed->raw) : std::nullopt);
    txn.ExpectValue(pending_key, pending ? std::optional(pending->raw) : std::nullopt);
    if (pending) ScheduleReplicaDeletion(txn, pending->chunk);
    txn.Put(pending_key, EncodeStoredChunk(chunk));
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  s.nodes().FillAddresses(&chunk);
  *resp->mutable_chunk() = std::move(chunk);
  return Status::Ok();
}

}  // namespace granary::metadata
