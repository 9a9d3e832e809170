#include "metadata/placement/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace granary::metadata {
namespace {

bool HasRoom(const PlacementCandidate& c, const PlacementOptions& options) {
  if (c.free_bytes < options.min_free_bytes) return false;
  double floor = static_cast<double>(c.capacity_bytes) * options.min_free_percent / 100.0;
  return static_cast<double>(c.free_bytes) >= floor;
}

// Picks one index of `pool` at random, weighted by free bytes. When every
// weight is zero (a zero floor and full nodes) it picks uniformly.
size_t WeightedPick(const std::vector<size_t>& pool, std::span<const PlacementCandidate> candidates,
                    PlacementRng& rng) {
  double total = 0;
  for (size_t i : pool) total += static_cast<double>(candidates[i].free_bytes);
  if (total <= 0) {
    std::uniform_int_distribution<size_t> uniform(0, pool.size() - 1);
    return uniform(rng);
  }
  std::uniform_real_distribution<double> dist(0.0, total);
  double x = dist(rng);
  for (size_t k = 0; k < pool.size(); ++k) {
    x -= static_cast<double>(candidates[pool[k]].free_bytes);
    if (x < 0) return k;
  }
  return pool.size() - 1;  // rounding left x at ~0: the last one
}

}  // namespace

Result<std::vector<size_t>> ChooseReplicas(std::span<const PlacementCandidate> candidates,
                                           uint32_t replicas,
                                           std::span<const std::string> exclude,
                                           const PlacementOptions& options, PlacementRng& rng) {
  if (replicas == 0) return Status::InvalidArgument("replica count must be at least 1");

  // Eligible nodes, grouped by failure domain (an unlabeled node is alone).
  std::vector<size_t> eligible;
  size_t excluded = 0, full = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PlacementCandidate& c = candidates[i];
    if (std::find(exclude.begin(), exclude.end(), c.node_id) != exclude.end()) {
      ++excluded;
    } else if (!HasRoom(c, options)) {
      ++full;
    } else {
      eligible.push_back(i);
    }
  }
  if (eligible.size() < replicas) {
    return Status::NotEnoughNodes(fmt::format(
        "need {} replicas but only {} of {} live chunk servers are eligible ({} excluded by the "
        "writer, {} below the free-space floor of {} bytes / {}%)",
        replicas, eligible.size(), candidates.size(), excluded, full, options.min_free_bytes,
        options.min_free_percent));
  }

  std::unordered_map<std::string, uint32_t> domain_of;  // domain label -> dense id
  std::vector<uint32_t> domain(candidates.size(), 0);
  for (size_t i : eligible) {
    const PlacementCandidate& c = candidates[i];
    std::string label = c.failure_domain.empty() ? "\x01node:" + c.node_id : c.failure_domain;
    auto [it, inserted] = domain_of.emplace(std::move(label), domain_of.size());
    domain[i] = it->second;
  }
  // use[d] = replicas already in domain d. A pick always comes from the least
  // used domains, which spreads replicas over as many domains as exist and then
  // evenly.
  std::vector<uint32_t> use(domain_of.size(), 0);
  std::vector<size_t> chosen;
  std::vector<size_t> remaining = eligible;
  std::vector<size_t> pool;
  while (chosen.size() < replicas) {
    uint32_t least = UINT32_MAX;
    for (size_t i : remaining) least = std::min(least, use[domain[i]]);
    pool.clear();
    for (size_t i : remaining) {
      if (use[domain[i]] == least) pool.push_back(i);
    }
    size_t k = WeightedPick(pool, candidates, rng);
    size_t pick = pool[k];
    chosen.push_back(pick);
    ++use[domain[pick]];
    remaining.erase(std::find(remaining.begin(), remaining.end(), pick));
  }
  return chosen;
}

}  // namespace granary::metadata
