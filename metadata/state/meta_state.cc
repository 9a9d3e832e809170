#include "metadata/state/meta_state.h"

#include <random>

#include "common/log.h"
#include "metadata/ops/ops.h"
#include "metadata/schema/keys.h"
#include "metadata/schema/records.h"
#include "metadata/state/quota_usage.h"

namespace granary::metadata {
namespace {

// Counts the keys under `prefix` without keeping them.
Result<int64_t> CountKeys(KvStore& kv, std::string_view prefix) {
  KeyRange range = KeyRange::Prefix(prefix);
  int64_t n = 0;
  constexpr size_t kPage = 4096;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, kPage));
    n += static_cast<int64_t>(page.size());
    if (page.size() < kPage) return n;
    range.start = page.back().key + '\0';
  }
}

uint64_t PickSeed(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

MetaState::MetaState(KvStore& kv, Clock& clock, MetaOptions options, uint64_t seed)
    : kv_(kv),
      clock_(clock),
      options_(options),
      // Lease ids start at a random point below 2^62 so that ids of an earlier
      // process (lost at restart) do not match new leases. Always random, even
      // with a fixed placement seed.
      leases_(clock, options.lease_ms, (PickSeed(0) >> 2) | 1),
      nodes_(kv, clock, options.nodes),
      inode_ids_(kv, std::string(kNextInodeKey), kRootInode + 1, options.id_batch),
      chunk_ids_(kv, std::string(kNextChunkKey), 1, options.id_batch),
      dir_times_(kv),
      orphans_(clock),
      last_sync_ms_(clock.SteadyMs()),
      rng_(seed) {}

Result<std::unique_ptr<MetaState>> MetaState::Open(KvStore& kv, Clock& clock,
                                                   MetaOptions options) {
  uint64_t seed = PickSeed(options.seed);
  std::unique_ptr<MetaState> state(new MetaState(kv, clock, options, seed));
  RETURN_IF_ERROR(state->Bootstrap());
  RETURN_IF_ERROR(state->nodes_.Load());
  RETURN_IF_ERROR(state->CountRecords());
  RETURN_IF_ERROR(state->orphans_.Load(kv));
  RETURN_IF_ERROR(LoadQuotas(kv, state->quotas_));
  return state;
}

Status MetaState::Bootstrap() {
  ASSIGN_OR_RETURN(std::optional<InodeRecord> root, LoadInode(kv_, kRootInode));
  if (root) return Status::Ok();
  proto::Inode inode;
  inode.set_id(kRootInode);
  inode.set_type(proto::INODE_DIR);
  inode.set_mode(0755);
  inode.set_nlink(1);
  proto::Timespec now = clock_.WallTimespec();
  *inode.mutable_atime() = now;
  *inode.mutable_mtime() = now;
  *inode.mutable_ctime() = now;
  inode.set_replicas(options_.default_replicas);
  inode.set_chunk_size(options_.default_chunk_size);
  inode.set_parent(kRootInode);
  KvTxn txn;
  txn.ExpectAbsent(InodeKey(kRootInode));
  txn.Put(InodeKey(kRootInode), SerializeInode(inode));
  Status st = kv_.Commit(txn, CommitOptions{.sync = true});
  if (st.code() == proto::STALE_VERSION) return Status::Ok();  // another metad won
  if (st.ok()) {
    LOG_INFO("created root folder (replicas {}, chunk size {})", options_.default_replicas,
             options_.default_chunk_size);
  }
  return st;
}

Status MetaState::CountRecords() {
  ASSIGN_OR_RETURN(int64_t inodes, CountKeys(kv_, InodePrefix()));
  ASSIGN_OR_RETURN(int64_t chunks, CountKeys(kv_, AllChunksPrefix()));
  inode_count = inodes;
  chunk_count = chunks;
  return Status::Ok();
}

Result<std::vector<proto::NodeAddress>> MetaState::PlaceReplicas(
    uint32_t replicas, std::span<const std::string> exclude) {
  std::vector<PlacementCandidate> live = nodes_.LiveCandidates();
  std::vector<size_t> picks;
  {
    std::lock_guard lock(rng_mu_);
    ASSIGN_OR_RETURN(picks, ChooseReplicas(live, replicas, exclude, options_.placement, rng_));
  }
  std::vector<proto::NodeAddress> out;
  out.reserve(picks.size());
  for (size_t i : picks) {
    proto::NodeAddress a;
    a.set_node_id(live[i].node_id);
    out.push_back(std::move(a));
  }
  return out;
}

CommitOptions MetaState::CommitMode(bool lazy_sync) {
  // Set before the commit: a failed commit costs at most one needless sync,
  // while setting it after could let a sync that started in between miss it.
  if (lazy_sync) lazy_unsynced_.store(true);
  return CommitOptions{.sync = !lazy_sync};
}

Status MetaState::SyncAll() {
  // Cleared before syncing: a lazy commit landing during the sync sets it
  // again and is covered by the next one.
  lazy_unsynced_.store(false);
  last_sync_ms_.store(clock_.SteadyMs());
  Status st = kv_.Sync();
  if (!st.ok()) lazy_unsynced_.store(true);
  return st;
}

Status MetaState::Maintain(bool final) {
  Status times = dir_times_.Flush();
  Status usage = nodes_.PersistUsage(final);
  leases_.SweepExpired();
  // Orphan release lives with the operations (it is one): see release_orphan.cc.
  Status orphans = ReleaseExpiredOrphans(*this);
  Status trash = final ? Status::Ok() : PurgeExpiredTrash(*this);
  // Last, so that the sync also covers the unsynced writes above.
  Status sync;
  if (lazy_unsynced_.load() &&
      (final || clock_.SteadyMs() - last_sync_ms_.load() >= options_.wal_sync_interval_ms)) {
    sync = SyncAll();
  }
  for (Status* st : {&times, &usage, &orphans, &trash, &sync}) {
    if (!st->ok()) return *st;
  }
  return Status::Ok();
}

}  // namespace granary::metadata

