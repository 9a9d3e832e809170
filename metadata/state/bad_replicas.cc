#include "metadata/state/bad_replicas.h"

namespace granary::metadata {

bool BadReplicas::Add(const std::string& node_id, uint64_t chunk_id, uint64_t version) {
  std::lock_guard lock(mu_);
  const bool added = bad_.emplace(node_id, chunk_id, version).second;
  if (added) ++generation_;
  return added;
}

bool BadReplicas::Contains(const std::string& node_id, uint64_t chunk_id, uint64_t version) const {
  std::lock_guard lock(mu_);
  return bad_.count(Key{node_id, chunk_id, version}) != 0;
}

void BadReplicas::Remove(const std::string& node_id, uint64_t chunk_id, uint64_t version) {
  std::lock_guard lock(mu_);
  bad_.erase(Key{node_id, chunk_id, version});
}

size_t BadReplicas::size() const {
  std::lock_guard lock(mu_);
  return bad_.size();
}

uint64_t BadReplicas::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace granary::metadata
