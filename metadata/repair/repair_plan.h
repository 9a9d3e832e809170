#pragma once
// Repair planning: which chunks need a new replica, from where, and in what
// order. Pure functions over a chunk record and a view of replica health, so
// the same code runs in metad's repair loop, in unit tests and in the
// placement/repair simulation (bench/repair_sim).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/granary.pb.h"

namespace granary::metadata {

enum class ReplicaHealth {
  kGood,     // on an UP node and not reported bad
  kWaiting,  // on a DOWN node still within the repair delay: still counted
  kGone,     // DOWN past the delay, reported bad, or on a node metad forgot
  kDraining, // on an UP node being drained: a source, but not counted
};

struct RepairTask {
  uint64_t inode = 0;
  uint64_t chunk_index = 0;
  proto::ChunkInfo chunk;                  // as recorded, addresses filled
  uint32_t goal = 0;                       // replicas the file wants
  // Good replicas (rotated by chunk id, to spread reads), then draining ones.
  std::vector<proto::NodeAddress> sources;
  std::vector<std::string> drop;           // node ids of gone and draining replicas
  size_t good = 0;
  // A rebalance move: copy to `move_to`, then drop the replica on
  // `move_from` (empty for repairs, whose target placement picks).
  std::string move_from;
  std::string move_to;
};

// Usage of one UP, non-draining server for rebalancing.
struct NodeLoad {
  std::string node_id;
  std::string failure_domain;
  uint64_t capacity = 0;
  uint64_t held = 0;  // stored bytes of the replicas chunk records place there
};

// The (fullest, emptiest) pair to move chunks between, by held / capacity,
// when the gap exceeds `threshold_percent` of the mean fill and `min_bytes`;
// nullopt when the cluster is balanced enough.
std::optional<std::pair<NodeLoad, NodeLoad>> PickRebalance(const std::vector<NodeLoad>& loads,
                                                           int64_t threshold_percent,
                                                           uint64_t min_bytes);

// Whether chunk `chunk` may move from `from` to `to` without crowding a
// failure domain: `to` holds none of it, and its domain holds no other
// replica unless `from` shares that domain.
bool CanMove(const proto::ChunkInfo& chunk, const NodeLoad& from, const NodeLoad& to,
             const std::function<std::string(const std::string&)>& domain_of);

// A task when the chunk's good + waiting replicas are fewer than `goal` and
// at least one good or draining replica is left to copy from; nullopt
// otherwise (*unrecoverable set when no replica is good, draining or waiting).
std::optional<RepairTask> PlanChunk(uint64_t inode, const proto::ChunkInfo& chunk, uint32_t goal,
                                    const std::function<ReplicaHealth(const std::string&)>& health,
                                    bool* unrecoverable);

// Most endangered first: fewest good replicas, then the largest shortfall,
// then file and chunk order (stable, so repeated scans agree).
void SortByUrgency(std::vector<RepairTask>& tasks);

}  // namespace granary::metadata
