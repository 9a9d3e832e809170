#include "metadata/state/quota_table.h"

#include <fmt/format.h>

namespace granary::metadata {

bool QuotaTable::empty() const {
  std::lock_guard lock(mu_);
  return quotas_.empty();
}

void QuotaTable::Set(uint64_t dir, Quota quota) {
  std::lock_guard lock(mu_);
  quotas_[dir] = quota;
}

void QuotaTable::Remove(uint64_t dir) {
  std::lock_guard lock(mu_);
  quotas_.erase(dir);
}

bool QuotaTable::Has(uint64_t dir) const {
  std::lock_guard lock(mu_);
  return quotas_.contains(dir);
}

std::optional<Quota> QuotaTable::Get(uint64_t dir) const {
  std::lock_guard lock(mu_);
  auto it = quotas_.find(dir);
  if (it == quotas_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<uint64_t, Quota>> QuotaTable::List() const {
  std::lock_guard lock(mu_);
  return {quotas_.begin(), quotas_.end()};
}

Status QuotaTable::Reserve(std::span<const uint64_t> dirs, int64_t bytes, int64_t files) {
  std::lock_guard lock(mu_);
  for (uint64_t d : dirs) {
    auto it = quotas_.find(d);
    if (it == quotas_.end()) continue;
    const Quota& q = it->second;
    if (bytes > 0 && q.max_bytes != 0 &&
        q.used_bytes + bytes > static_cast<int64_t>(q.max_bytes)) {
      return Status::FromCode(
          proto::QUOTA_EXCEEDED,
          fmt::format("folder {} is over its quota of {} bytes ({} used, {} more asked)", d,
                      q.max_bytes, q.used_bytes, bytes));
    }
    if (files > 0 && q.max_files != 0 &&
        q.used_files + files > static_cast<int64_t>(q.max_files)) {
      return Status::FromCode(proto::QUOTA_EXCEEDED,
                              fmt::format("folder {} is at its quota of {} files", d,
                                          q.max_files));
    }
  }
  for (uint64_t d : dirs) {
    auto it = quotas_.find(d);
    if (it == quotas_.end()) continue;
    it->second.used_bytes += bytes;
    it->second.used_files += files;
  }
  return Status::Ok();
}

void QuotaTable::Charge(std::span<const uint64_t> dirs, int64_t bytes, int64_t files) {
  std::lock_guard lock(mu_);
  for (uint64_t d : dirs) {
    auto it = quotas_.find(d);
    if (it == quotas_.end()) continue;
    it->second.used_bytes += bytes;
    it->second.used_files += files;
  }
}

}  // namespace granary::metadata
