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

std::optional<std::pair<NodeLoad, NodeLoad>> PickRebalance(const std::vector<NodeLoad>& loads,
                                                           int64_t threshold_percent,
                                                           uint64_t min_bytes) {
  if (threshold_percent <= 0 || loads.size() < 2) return std::nullopt;
  const NodeLoad* full = nullptr;
  const NodeLoad* empty = nullptr;
  double sum = 0;
  size_t n = 0;
  auto fill = [](const NodeLoad& l) { return double(l.held) / double(l.capacity); };
  for (const NodeLoad& l : loads) {
    if (l.capacity == 0) continue;
    sum += fill(l);
    ++n;
    if (!full || fill(l) > fill(*full)) full = &l;
    if (!empty || fill(l) < fill(*empty)) empty = &l;
  }
  if (n < 2 || full == empty || sum <= 0) return std::nullopt;
  const double mean = sum / n;
  const double gap = fill(*full) - fill(*empty);
  if (gap * 100.0 <= double(threshold_percent) * mean) return std::nullopt;
  if (full->held < empty->held + min_bytes) return std::nullopt;
  return std::make_pair(*full, *empty);
}

bool CanMove(const proto::ChunkInfo& chunk, const NodeLoad& from, const NodeLoad& to,
             const std::function<std::string(const std::string&)>& domain_of) {
  bool on_from = false;
  for (const proto::NodeAddress& r : chunk.replicas()) {
    if (r.node_id() == to.node_id) return false;
    if (r.node_id() == from.node_id) {
      on_from = true;
      continue;
    }
    if (from.failure_domain != to.failure_domain && domain_of(r.node_id()) == to.failure_domain) {
      return false;
    }
  }
  return on_from;
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
