#pragma once
// LeaseTable: the write leases, one writer per file.
//
// In memory only: inode -> {lease id, client id, expiry}. A lease lives
// `lease_ms` after its grant or last renewal; every AllocateChunk, CommitChunk
// and Close renews it. Leases are not persisted: for `lease_ms` after metad
// starts, a writer presenting a lease this process never granted reclaims it
// when nobody holds the file (as NFS clients reclaim state in a grace
// period), so a write rides through a metad restart. After that window an
// unknown lease is LEASE_EXPIRED and the writer must open the file again.
// Lease ids start at a random point per process and count up, so the ids
// this process granted form one range: an id outside it comes from an
// earlier incarnation, one inside it that is not held was released or
// expired here and is refused.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "metadata/state/clock.h"

namespace granary::metadata {

struct Lease {
  uint64_t id = 0;
  std::string client_id;
  int64_t expires_ms = 0;  // Clock::SteadyMs() time
};

class LeaseTable {
 public:
  LeaseTable(Clock& clock, int64_t lease_ms, uint64_t first_lease_id);

  // Grants the write lease of `inode` to `client_id`. LEASE_CONFLICT when a live
  // lease is held, naming the holder's client id and when the lease expires
  // (also when the holder is the same client: one writer per file).
  Result<Lease> Acquire(uint64_t inode, std::string_view client_id);

  // OK when `lease_id` holds the live lease of `inode`; the lease is then
  // renewed. Within the reclaim window, an unknown lease of a file nobody
  // holds is granted again. LEASE_EXPIRED otherwise (expired, released,
  // never granted, or another writer's).
  Status CheckAndRenew(uint64_t inode, uint64_t lease_id);

  // Releases the lease. LEASE_EXPIRED when `lease_id` does not hold it.
  Status Release(uint64_t inode, uint64_t lease_id);

  // Forgets the lease of `inode` whoever holds it (the file is gone).
  void Drop(uint64_t inode);

  // The live lease of `inode`, if any.
  std::optional<Lease> Holder(uint64_t inode);

  // Removes expired leases; returns how many. Called periodically to bound memory.
  size_t SweepExpired();

  int64_t lease_ms() const { return lease_ms_; }
  size_t size();

 private:
  Clock& clock_;
  const int64_t lease_ms_;
  const int64_t reclaim_until_ms_;  // SteadyMs() end of the reclaim window
  const uint64_t first_id_;         // ids in [first_id_, next_id_) are ours
  std::mutex mu_;
  uint64_t next_id_;
  std::unordered_map<uint64_t, Lease> leases_;
};

}  // namespace granary::metadata
