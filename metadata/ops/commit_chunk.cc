// CommitChunk: records a written chunk version as the file's chunk at its
// index. Only the latest allocation of that index (the "P" record) can be
// committed; the version it replaces and any allocated replica the writer did
// not use are scheduled for deletion. Readers see the new chunk after Close.
// A repeated commit of what is already committed succeeds (a retried call).

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

Status ValidateCommit(const proto::ChunkInfo& c, uint64_t chunk_size) {
  if (c.chunk_id() == 0 || c.version() == 0) {
    return Status::InvalidArgument("chunk.chunk_id and chunk.version must be set");
  }
  if (c.length() > chunk_size) {
    return Status::InvalidArgument(fmt::format(
        "chunk.length = {} exceeds the file's chunk size {}", c.length(), chunk_size));
  }
  if (c.replicas_size() == 0 || c.replicas_size() > static_cast<int>(kMaxReplicas)) {
    return Status::InvalidArgument(fmt::format("chunk.replicas has {} entries, expected 1 to {}",
                                               c.replicas_size(), kMaxReplicas));
  }
  std::unordered_set<std::string> seen;
  for (const proto::NodeAddress& r : c.replicas()) {
    RETURN_IF_ERROR(ValidateNodeId(r.node_id(), "chunk.replicas.node_id"));
    if (!seen.insert(r.node_id()).second) {
      return Status::InvalidArgument(
          fmt::format("chunk.replicas names node '{}' twice", r.node_id()));
    }
  }
  return Status::Ok();
}

bool SameChunk(const proto::ChunkInfo& a, const proto::ChunkInfo& b) {
  return a.chunk_id() == b.chunk_id() && a.version() == b.version();
}

}  // namespace

Status CommitChunk(MetaState& s, const proto::CommitChunkRequest& req,
                   proto::CommitChunkResponse* resp) {
  RETURN_IF_ERROR(s.leases().CheckAndRenew(req.inode(), req.lease_id()));
  ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
  RETURN_IF_ERROR(RequireFile(rec.inode));
  const proto::ChunkInfo& c = req.chunk();
  RETURN_IF_ERROR(ValidateCommit(c, rec.inode.chunk_size()));
  const uint64_t index = c.chunk_index();
  bool added = false;
  Status st = RunTxn(s, "commit chunk", [&]() -> Status {
    added = false;
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> committed, LoadChunk(s.kv(), req.inode(), index));
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> pending,
                     LoadPendingChunk(s.kv(), req.inode(), index));
    if (!pending || !SameChunk(pending->chunk, c)) {
      if (committed && SameChunk(committed->chunk, c)) return Status::Ok();  // a retry
      return Status::StaleVersion(fmt::format(
          "chunk {} version {} is not the latest allocation of index {} of inode {} ({})",
          c.chunk_id(), c.version(), index, req.inode(),
          pending ? fmt::format("latest is version {}", pending->chunk.version())
                  : std::string("nothing is allocated there")));
    }
    // Replicas committed must be among those allocated; the rest are dropped.
    KvTxn txn;
    proto::ChunkInfo unused = pending->chunk;
    unused.clear_replicas();
    for (const proto::NodeAddress& a : pending->chunk.replicas()) {
      auto used = std::find_if(c.replicas().begin(), c.replicas().end(),
                               [&](const proto::NodeAddress& r) { return r.node_id() == a.node_id(); });
      if (used == c.replicas().end()) *unused.add_replicas() = a;
    }
    for (const proto::NodeAddress& r : c.replicas()) {
      auto allocated = std::find_if(
          pending->chunk.replicas().begin(), pending->chunk.replicas().end(),
          [&](const proto::NodeAddress& a) { return a.node_id() == r.node_id(); });
      if (allocated == pending->chunk.replicas().end()) {
        return Status::InvalidArgument(fmt::format(
            "node '{}' was not allocated for chunk {} version {}", r.node_id(), c.chunk_id(),
            c.version()));
      }
    }
    ScheduleReplicaDeletion(txn, unused);
    if (committed) ScheduleReplicaDeletion(txn, committed->chunk);
    const std::string key = ChunkKey(req.inode(), index);
    txn.ExpectPresent(InodeKey(req.inode()));
    txn.ExpectEquals(PendingChunkKey(req.inode(), index), pending->raw);
    txn.ExpectValue(key, committed ? std::optional(committed->raw) : std::nullopt);
    txn.Delete(PendingChunkKey(req.inode(), index));
    txn.Put(key, EncodeStoredChunk(c));
    added = !committed;
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  if (added) ++s.chunk_count;
  return Status::Ok();
}

}  // namespace granary::metadata
