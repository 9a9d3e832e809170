#pragma once
// Replica placement: which chunk servers hold a new chunk version.
//
// ChooseReplicas is a pure function of its arguments (the random generator is
// passed in, so tests and simulations are reproducible). It picks `replicas`
// distinct nodes from `candidates`:
//  - nodes in `exclude`, and nodes below the free-space floor, are skipped;
//  - the replicas spread over as many failure domains as exist among the
//    eligible nodes: while some domain is unused, the next replica comes from an
//    unused domain; only when every domain holds one replica does a domain get a
//    second (then a third, ...). A node without a label is its own domain;
//  - within those rules each pick is random, weighted by free bytes, without
//    replacement, so fuller nodes fill more slowly and the cluster evens out.
// The result is in chain order (the order of the picks).
//
// Errors: INVALID_ARGUMENT for replicas == 0; NOT_ENOUGH_NODES (retryable) when
// fewer eligible nodes than `replicas` exist, naming how many are live, how many
// were excluded or too full, and how many are needed.

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace granary::metadata {

struct PlacementCandidate {
  std::string node_id;
  std::string failure_domain;  // empty = unlabeled (a domain of its own)
  uint64_t capacity_bytes = 0;
  uint64_t free_bytes = 0;
};

struct PlacementOptions {
  // A node with less free space than this is not given new chunks. Bytes,
  // default 1 GiB. Hot-reloadable (read per call).
  uint64_t min_free_bytes = 1ull << 30;
  // ... nor one with less than this percentage of its capacity free. Default 1.
  double min_free_percent = 1.0;
};

using PlacementRng = std::mt19937_64;

// Returns indexes into `candidates`, in chain order.
Result<std::vector<size_t>> ChooseReplicas(std::span<const PlacementCandidate> candidates,
                                           uint32_t replicas,
                                           std::span<const std::string> exclude,
                                           const PlacementOptions& options, PlacementRng& rng);

}  // namespace granary::metadata
