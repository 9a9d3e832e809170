#pragma once
// BadReplicas: replicas reported unusable (a chunk server's scrub found them
// corrupt, a client's read failed verification). The repair loop stops
// counting them and copies their chunks from good replicas; a replica leaves
// the set when its chunk's record no longer names it.
//
// In memory only: after a metad restart a corrupt replica is found again by
// the next read or scrub of it (the chunk server has quarantined its file,
// so reads of it fail over at once). Thread-safe.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

namespace granary::metadata {

class BadReplicas {
 public:
  // Returns true when the replica was not known bad yet.
  bool Add(const std::string& node_id, uint64_t chunk_id, uint64_t version);
  bool Contains(const std::string& node_id, uint64_t chunk_id, uint64_t version) const;
  void Remove(const std::string& node_id, uint64_t chunk_id, uint64_t version);
  size_t size() const;
  // Bumps on every Add: the repair loop rescans when it changed.
  uint64_t generation() const;

 private:
  using Key = std::tuple<std::string, uint64_t, uint64_t>;
  mutable std::mutex mu_;
  std::set<Key> bad_;
  uint64_t generation_ = 0;
};

}  // namespace granary::metadata
