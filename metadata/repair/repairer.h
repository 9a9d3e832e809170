#pragma once
// Repairer: metad's re-replication loop. Every RepairOptions::interval_ms it
// decides whether anything may have changed (a node passed the repair delay,
// a replica was reported bad, the last pass left work, or the periodic full
// scan is due); if so it scans every committed chunk record, plans the
// chunks short of their replication goal (repair_plan.h) and has chunk
// servers copy them (CHUNK_REPLICATE: target pulls from a good replica and
// verifies every block), at most max_inflight copies at a time, the most
// endangered first. Each finished copy is recorded with a transaction that
// checks the chunk was not rewritten meanwhile; the replaced replicas get
// garbage entries so their nodes delete them if they come back.
//
// Runs on a strand of the service's worker pool; blocking KV work happens
// on that pool. Stop() ends the loop; copies in flight are abandoned (a
// copy that finishes later is an orphan the chunk server deletes when told).

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include "common/net/asio_types.h"
#include "common/net/rpc_client.h"
#include "metadata/repair/repair_plan.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

class Repairer {
 public:
  // `key`: the cluster key of calls to chunk servers (null: none).
  Repairer(MetaState& state, net::Executor pool,
           std::shared_ptr<const net::ClusterKey> key = nullptr);
  ~Repairer();

  // The loop; spawn on strand().
  net::Awaitable<void> Run();
  void Stop();
  const net::Executor& strand() const { return strand_; }
  // Rebalance moves done since start (also counted in RepairStats::done).
  uint64_t rebalance_moves() const { return rebalance_moves_.load(std::memory_order_relaxed); }

 private:
  bool ShouldScan();
  Result<std::vector<RepairTask>> Scan();
  // Moves from the fullest to the emptiest server when usage is skewed.
  Result<std::vector<RepairTask>> PlanRebalance();
  ReplicaHealth Health(const std::string& node_id, const proto::ChunkInfo& chunk);
  net::Awaitable<void> Repair(RepairTask task);
  Status Record(const RepairTask& task, const proto::NodeAddress& target);
  // Drops the replicas of a chunk past its file's replication factor (the
  // factor was lowered): the last ones in chain order leave the record and
  // are deleted like any other garbage. Only when every replica is good.
  Status Trim(uint64_t inode, uint64_t chunk_index, const proto::ChunkInfo& seen, uint32_t goal);
  // Lists every UP server's replicas, then (in that order, so nothing
  // written meanwhile looks unknown) every chunk id and version metad's
  // pending and committed records name; replicas unknown in two sweeps in a
  // row get deletion entries.
  net::Awaitable<void> SweepOrphans();

  MetaState& s_;
  net::Executor pool_;
  net::Executor strand_;
  net::ConnectionPool peers_;
  asio::steady_timer timer_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rebalance_moves_{0};
  // Only touched on the strand.
  int64_t last_full_scan_ms_ = INT64_MIN / 2;
  uint64_t last_bad_generation_ = 0;
  uint64_t last_goal_generation_ = 0;
  std::set<std::string> last_gone_;
  bool work_left_ = true;  // scan once at start
  std::set<uint64_t> copying_;  // chunk ids with a copy in flight
  int64_t last_rebalance_ms_ = INT64_MIN / 2;
  bool rebalance_due_ = false;
  std::map<std::string, uint64_t> held_;  // bytes per node at the last scan (pool only)
  int64_t last_sweep_ms_;
  std::set<std::tuple<std::string, uint64_t, uint64_t>> orphan_suspects_;
  int in_flight_ = 0;
};

}  // namespace granary::metadata
