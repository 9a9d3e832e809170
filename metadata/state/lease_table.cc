#include "metadata/state/lease_table.h"

#include <fmt/format.h>

namespace granary::metadata {

LeaseTable::LeaseTable(Clock& clock, int64_t lease_ms, uint64_t first_lease_id)
    : clock_(clock),
      lease_ms_(lease_ms),
      reclaim_until_ms_(clock.SteadyMs() + lease_ms),
      first_id_(first_lease_id == 0 ? 1 : first_lease_id),
      next_id_(first_id_) {}

Result<Lease> LeaseTable::Acquire(uint64_t inode, std::string_view client_id) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  auto it = leases_.find(inode);
  if (it != leases_.end() && it->second.expires_ms > now) {
    return Status::LeaseConflict(fmt::format(
        "inode {} is open for writing by client '{}' (lease {} expires in {} ms unless renewed)",
        inode, it->second.client_id, it->second.id, it->second.expires_ms - now));
  }
  Lease lease{next_id_++, std::string(client_id), now + lease_ms_};
  if (next_id_ == 0) next_id_ = 1;  // 0 means "no lease" on the wire
  leases_.insert_or_assign(inode, lease);
  return lease;
}

Status LeaseTable::CheckAndRenew(uint64_t inode, uint64_t lease_id) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  auto it = leases_.find(inode);
  const bool ours = lease_id >= first_id_ && lease_id < next_id_;
  if (it == leases_.end() && lease_id != 0 && !ours && now < reclaim_until_ms_) {
    // Most likely granted before this metad restarted: the writer goes on.
    leases_.emplace(inode, Lease{lease_id, "reclaimed", now + lease_ms_});
    return Status::Ok();
  }
  if (it == leases_.end() || it->second.id != lease_id || lease_id == 0) {
    return {proto::LEASE_EXPIRED,
            fmt::format("lease {} does not hold inode {} (expired, released, or never granted; "
                        "open the file for writing again)",
                        lease_id, inode)};
  }
  if (it->second.expires_ms <= now) {
    leases_.erase(it);
    return {proto::LEASE_EXPIRED,
            fmt::format("lease {} on inode {} expired; open the file for writing again",
                        lease_id, inode)};
  }
  it->second.expires_ms = now + lease_ms_;
  return Status::Ok();
}

Status LeaseTable::Release(uint64_t inode, uint64_t lease_id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(inode);
  if (it == leases_.end() || it->second.id != lease_id || lease_id == 0) {
    return {proto::LEASE_EXPIRED,
            fmt::format("lease {} does not hold inode {}; nothing to release", lease_id, inode)};
  }
  leases_.erase(it);
  return Status::Ok();
}

void LeaseTable::Drop(uint64_t inode) {
  std::lock_guard lock(mu_);
  leases_.erase(inode);
}

std::optional<Lease> LeaseTable::Holder(uint64_t inode) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(inode);
  if (it == leases_.end() || it->second.expires_ms <= clock_.SteadyMs()) return std::nullopt;
  return it->second;
}

size_t LeaseTable::SweepExpired() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  return std::erase_if(leases_, [now](const auto& kv) { return kv.second.expires_ms <= now; });
}

size_t LeaseTable::size() {
  std::lock_guard lock(mu_);
  return leases_.size();
}

}  // namespace granary::metadata
