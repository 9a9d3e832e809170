#pragma once
// How operations move folder quotas (metadata/state/quota_table.h): growth
// is reserved before the transaction commits and given back when it does
// not; shrinking is charged once it has committed. Both are free when no
// folder has a quota.

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

class QuotaCharge {
 public:
  QuotaCharge() = default;
  // Reserves `bytes` and `files` in every quota'd folder from `dir` up.
  // QUOTA_EXCEEDED when that would take one past its limit.
  static Result<QuotaCharge> Reserve(MetaState& s, uint64_t dir, int64_t bytes, int64_t files);
  // The same in exactly the quota'd folders `dirs`.
  static Result<QuotaCharge> ReserveIn(MetaState& s, std::vector<uint64_t> dirs, int64_t bytes,
                                       int64_t files);
  QuotaCharge(QuotaCharge&& o) noexcept { *this = std::move(o); }
  QuotaCharge& operator=(QuotaCharge&& o) noexcept;
  QuotaCharge(const QuotaCharge&) = delete;
  QuotaCharge& operator=(const QuotaCharge&) = delete;
  // Gives the reservation back unless Keep() was called.
  ~QuotaCharge() { GiveBack(); }

  // The operation committed: the reservation stays charged.
  void Keep() { state_ = nullptr; }

 private:
  void GiveBack();
  MetaState* state_ = nullptr;
  std::vector<uint64_t> dirs_;
  int64_t bytes_ = 0;
  int64_t files_ = 0;
};

// Charges a committed change (usually shrinking) to every quota'd folder
// from `dir` up, without checking limits. A failure to walk the folders is
// logged: the commit stands, and usage is recounted at the next start.
void ChargeQuota(MetaState& s, uint64_t dir, int64_t bytes, int64_t files);

// What moving an entry from folder `from` to folder `to` does to quotas:
// the quota'd folders above `to` but not `from` gain it, those above `from`
// but not `to` lose it.
struct QuotaMove {
  std::vector<uint64_t> gaining;
  std::vector<uint64_t> losing;
  bool empty() const { return gaining.empty() && losing.empty(); }
};
Result<QuotaMove> QuotaMoveBetween(MetaState& s, uint64_t from, uint64_t to);

// QUOTA_EXCEEDED when the quota'd folders from `dir` up could not take
// `bytes` more; reserves nothing.
Status CheckQuotaRoom(MetaState& s, uint64_t dir, int64_t bytes);

}  // namespace granary::metadata
