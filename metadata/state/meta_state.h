#pragma once
// MetaState: everything a metadata operation works on. The KvStore holds the
// truth; the rest is in-memory state rebuilt at start (leases, node liveness,
// counters, pending folder times).
//
// Ownership: MetaState borrows the KvStore and the Clock, which must outlive it.
// Thread-safety: all members are thread-safe; operations (metadata/ops/) run
// concurrently on a thread pool and coordinate through KvStore transactions.

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/proto/granary.pb.h"
#include "metadata/kv/kv_store.h"
#include "metadata/placement/placement.h"
#include "metadata/state/backup_sessions.h"
#include "metadata/state/bad_replicas.h"
#include "metadata/state/clock.h"
#include "metadata/state/dir_times.h"
#include "metadata/state/id_allocator.h"
#include "metadata/state/lease_table.h"
#include "metadata/state/node_registry.h"
#include "metadata/state/orphan_table.h"
#include "metadata/state/quota_table.h"

namespace granary::metadata {

// Re-replication (metadata/repair/). Replicas on a node DOWN for delay_ms,
// and replicas reported bad, are replaced by copies made chunk server to
// chunk server, the chunks with fewest good replicas first.
struct RepairOptions {
  // A DOWN node's replicas are replaced after this long: a reboot or a short
  // network cut should not trigger a flood of copies. Default 300000 (5 min).
  int64_t delay_ms = 300000;
  // How often the loop looks for work. Default 1000.
  int64_t interval_ms = 1000;
  // A full scan of every chunk at least this often, whatever changed. Default 600000.
  int64_t full_scan_interval_ms = 600000;
  // Chunk copies in flight at once, cluster-wide (the rate limit). Default 8.
  int max_inflight = 8;
  // Deadline of one copy. Default 300000.
  int64_t copy_timeout_ms = 300000;
  // Rebalance: when the fullest UP server holds more than this many percent
  // above the emptiest, relative to the mean (bytes held / capacity), and
  // at least rebalance_min_bytes more, chunks move from fullest to emptiest,
  // a copy first, the old replica dropped after. 0 turns it off. Default 20.
  int64_t rebalance_threshold_percent = 20;
  int64_t rebalance_min_bytes = 1ll << 30;
  // How often usage is checked for imbalance. Default 60000.
  int64_t rebalance_interval_ms = 60000;
  // How often every UP chunk server's replica list is compared with metad's
  // records. A replica no record names in two sweeps in a row (a crash
  // between a chunk's commit on the servers and its record here) is deleted.
  // Default 3600000 (1 h).
  int64_t orphan_sweep_interval_ms = 3600000;
};

// What the repair loop reports (META_REPAIR_STATUS). Written by the loop only.
struct RepairStats {
  std::atomic<uint64_t> under_replicated{0};
  std::atomic<uint64_t> unrecoverable{0};
  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> last_scan_unix_ms{0};
};

struct MetaOptions {
  // Replication factor of the root folder, inherited by everything below it
  // unless set per file or folder. Default 3. Applied when the root is created.
  uint32_t default_replicas = 3;
  // Chunk size of the root folder, bytes (a multiple of 1 MiB). Default 64 MiB.
  uint64_t default_chunk_size = 64ull << 20;
  // Write lease lifetime without renewal, ms. Default 60000.
  int64_t lease_ms = 60000;
  // Chunk servers' heartbeat period, ms, told to them at registration. Default 1000.
  int64_t heartbeat_interval_ms = 1000;
  NodeRegistryOptions nodes;
  PlacementOptions placement;
  RepairOptions repair;
  // Ids reserved per counter transaction. Default 1024.
  uint64_t id_batch = 1024;
  // Attempts of one operation's transaction on conflicts. Default 64.
  int max_txn_attempts = 64;
  // Most deletions handed to one chunk server per heartbeat. Default 1000.
  uint32_t deletions_per_heartbeat = 1000;
  // Seed of the placement RNG; 0 = from std::random_device.
  uint64_t seed = 0;
  // Upkeep syncs the WAL when lazy (lazy_sync) commits happened and this long
  // passed since the last sync, bounding what a machine crash can lose. Default 1000.
  int64_t wal_sync_interval_ms = 1000;
  // An orphan (an unlinked file a client still has open) not renewed by its
  // client's keep-alive for this long is freed by upkeep. Default 120000.
  int64_t orphan_ttl_ms = 120000;
  // Files removed by unlink are kept (with their chunks) this long in the
  // trash before they are freed; granary trash ls|restore|purge. 0 = no
  // trash: removed files are freed at once. Default 0.
  int64_t trash_ms = 0;
  // Lease of a backup session when its client asks for none, ms: a session
  // not renewed for this long ends, and replica deletions held for it resume.
  // Default 60000. Clients may ask for 1000..600000.
  int64_t backup_lease_ms = 60000;
};

class MetaState {
 public:
  // Creates the root folder on first start, loads the node registry and counts
  // inodes and chunks. Errors are the store's.
  static Result<std::unique_ptr<MetaState>> Open(KvStore& kv, Clock& clock, MetaOptions options);

  KvStore& kv() { return kv_; }
  Clock& clock() { return clock_; }
  const MetaOptions& options() const { return options_; }
  LeaseTable& leases() { return leases_; }
  NodeRegistry& nodes() { return nodes_; }
  IdAllocator& inode_ids() { return inode_ids_; }
  IdAllocator& chunk_ids() { return chunk_ids_; }
  DirTimes& dir_times() { return dir_times_; }
  OrphanTable& orphans() { return orphans_; }
  BadReplicas& bad_replicas() { return bad_replicas_; }
  RepairStats& repair_stats() { return repair_stats_; }
  QuotaTable& quotas() { return quotas_; }
  BackupSessions& backups() { return backups_; }

  // The commit options of a namespace change: synced unless the client asked
  // for lazy durability. Lazy ones are remembered so upkeep syncs the WAL.
  CommitOptions CommitMode(bool lazy_sync);
  // Makes every commit so far durable (META_SYNC, upkeep).
  Status SyncAll();

  // Inodes (files and folders, root included) and committed chunks. Counted at
  // start by a key scan, then adjusted by each operation after its commit.
  std::atomic<int64_t> inode_count{0};
  std::atomic<int64_t> chunk_count{0};
  // Bumped when a file's replication factor changes: the repair loop then
  // scans at once (copies up to a raised factor, trims to a lowered one).
  std::atomic<uint64_t> goal_generation{0};

  // Picks `replicas` UP nodes for a new chunk version (see placement.h).
  Result<std::vector<proto::NodeAddress>> PlaceReplicas(uint32_t replicas,
                                                        std::span<const std::string> exclude);

  // Periodic upkeep, about once a second: writes back folder times and node
  // usage, forgets expired leases, frees orphans whose client stopped renewing
  // them, and syncs the WAL after lazy commits (every wal_sync_interval_ms).
  // `final` (at shutdown) writes and syncs everything.
  Status Maintain(bool final);

 private:
  MetaState(KvStore& kv, Clock& clock, MetaOptions options, uint64_t seed);
  Status Bootstrap();
  Status CountRecords();

  KvStore& kv_;
  Clock& clock_;
  const MetaOptions options_;
  LeaseTable leases_;
  NodeRegistry nodes_;
  IdAllocator inode_ids_;
  IdAllocator chunk_ids_;
  DirTimes dir_times_;
  OrphanTable orphans_;
  BadReplicas bad_replicas_;
  RepairStats repair_stats_;
  QuotaTable quotas_;
  BackupSessions backups_;
  // A lazy commit happened since the last sync started.
  std::atomic<bool> lazy_unsynced_{false};
  std::atomic<int64_t> last_sync_ms_{0};  // Clock::SteadyMs() of the last sync
  std::mutex rng_mu_;
  PlacementRng rng_;
};

}  // namespace granary::metadata
