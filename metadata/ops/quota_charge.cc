#include "metadata/ops/quota_charge.h"

#include <algorithm>

#include "common/log.h"
#include "metadata/state/quota_usage.h"

namespace granary::metadata {

Result<QuotaCharge> QuotaCharge::Reserve(MetaState& s, uint64_t dir, int64_t bytes,
                                         int64_t files) {
  QuotaCharge c;
  if (s.quotas().empty() || (bytes == 0 && files == 0)) return c;
  ASSIGN_OR_RETURN(c.dirs_, QuotaDirsOf(s.kv(), s.quotas(), dir));
  if (c.dirs_.empty()) return c;
  RETURN_IF_ERROR(s.quotas().Reserve(c.dirs_, bytes, files));
  c.state_ = &s;
  c.bytes_ = bytes;
  c.files_ = files;
  return c;
}

Result<QuotaCharge> QuotaCharge::ReserveIn(MetaState& s, std::vector<uint64_t> dirs,
                                           int64_t bytes, int64_t files) {
  QuotaCharge c;
  if (dirs.empty() || (bytes == 0 && files == 0)) return c;
  RETURN_IF_ERROR(s.quotas().Reserve(dirs, bytes, files));
  c.state_ = &s;
  c.dirs_ = std::move(dirs);
  c.bytes_ = bytes;
  c.files_ = files;
  return c;
}

Result<QuotaMove> QuotaMoveBetween(MetaState& s, uint64_t from, uint64_t to) {
  QuotaMove m;
  if (s.quotas().empty() || from == to) return m;
  ASSIGN_OR_RETURN(std::vector<uint64_t> above_from, QuotaDirsOf(s.kv(), s.quotas(), from));
  ASSIGN_OR_RETURN(std::vector<uint64_t> above_to, QuotaDirsOf(s.kv(), s.quotas(), to));
  auto in = [](const std::vector<uint64_t>& v, uint64_t d) {
    return std::find(v.begin(), v.end(), d) != v.end();
  };
  for (uint64_t d : above_to) {
    if (!in(above_from, d)) m.gaining.push_back(d);
  }
  for (uint64_t d : above_from) {
    if (!in(above_to, d)) m.losing.push_back(d);
  }
  return m;
}

QuotaCharge& QuotaCharge::operator=(QuotaCharge&& o) noexcept {
  if (this != &o) {
    GiveBack();
    state_ = o.state_;
    dirs_ = std::move(o.dirs_);
    bytes_ = o.bytes_;
    files_ = o.files_;
    o.state_ = nullptr;
  }
  return *this;
}

void QuotaCharge::GiveBack() {
  if (state_ != nullptr) state_->quotas().Charge(dirs_, -bytes_, -files_);
  state_ = nullptr;
}

void ChargeQuota(MetaState& s, uint64_t dir, int64_t bytes, int64_t files) {
  if (s.quotas().empty() || (bytes == 0 && files == 0)) return;
  Result<std::vector<uint64_t>> dirs = QuotaDirsOf(s.kv(), s.quotas(), dir);
  if (!dirs.ok()) {
    LOG_ERROR("quota usage of the folders above {} not updated: {}", dir,
              dirs.status().ToString());
    return;
  }
  s.quotas().Charge(*dirs, bytes, files);
}

Status CheckQuotaRoom(MetaState& s, uint64_t dir, int64_t bytes) {
  ASSIGN_OR_RETURN(QuotaCharge probe, QuotaCharge::Reserve(s, dir, bytes, 0));
  return Status::Ok();  // `probe` gives the bytes back
}

}  // namespace granary::metadata
