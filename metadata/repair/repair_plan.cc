#include "metadata/repair/repair_plan.h"

#include <algorithm>
#include <tuple>

namespace granary::metadata {

std::optional<RepairTask> PlanChunk(uint64_t inode, const proto::ChunkInfo& chunk, uint32_t goal,
                                    const std::function<ReplicaHealth(const std::string&)>& health,
                                    bool* unrecoverable) {
  *unrecoverable = false;
  RepairTask t;
  size_t waiting = 0;
  std::vector<proto::NodeAddress> draining;
  for (const proto::NodeAddress& r : chunk.replicas()) {
    switch (health(r.node_id())) {
      case ReplicaHealth::kGood:
        t.sources.push_back(r);
        break;
      case ReplicaHealth::kWaiting:
        ++waiting;
        break;
      case ReplicaHealth::kGone:
        t.drop.push_back(r.node_id());
        break;
      case ReplicaHealth::kDraining:
        draining.push_back(r);
        t.drop.push_back(r.node_id());
        break;
    }
  }
  t.good = t.sources.size();
  if (t.good + waiting >= goal) return std::nullopt;
  // The copy reads from the first source that answers: rotating the good
  // ones by chunk id spreads the reads of a repair over every survivor.
  if (t.good > 1) {
    std::rotate(t.sources.begin(), t.sources.begin() + chunk.chunk_id() % t.good,
                t.sources.end());
  }
  // Draining replicas are sources too, after the good ones.
  t.sources.insert(t.sources.end(), draining.begin(), draining.end());
  if (t.sources.empty()) {
    *unrecoverable = waiting == 0;
    return std::nullopt;  // nothing to copy from (yet)
  }
  t.inode = inode;
  t.chunk_index = chunk.chunk_index();
  t.chunk = chunk;
  t.goal = goal;
  return t;
}

void SortByUrgency(std::vector<RepairTask>& tasks) {
  std::stable_sort(tasks.begin(), tasks.end(), [](const RepairTask& a, const RepairTask& b) {
    const size_t short_a = a.goal - std::min<size_t>(a.goal, a.good);
    const size_t short_b = b.goal - std::min<size_t>(b.goal, b.good);
    return std::make_tuple(a.good, -static_cast<long>(short_a), a.inode, a.chunk_index) <
           std::make_tuple(b.good, -static_cast<long>(short_b), b.inode, b.chunk_index);
  });
}

}  // namespace granary::metadata
