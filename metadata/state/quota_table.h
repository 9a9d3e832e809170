#pragma once
// QuotaTable: folder quotas (bytes and entries in a subtree) and what each
// quota'd subtree holds now.
//
// Limits are kept in RocksDB ("Q" keys); usage lives here only. It is
// counted by walking each quota'd subtree when metad starts or a quota is
// set, then moved by every operation that adds, removes or resizes an entry.
// Keeping usage out of the transactions keeps one busy folder's counter from
// becoming a key that every create and close below it conflicts on.
//
// Growth is reserved before an operation commits (Reserve: check and charge
// under one lock, so concurrent writers cannot both take the last bytes) and
// given back if the commit fails; shrinking is charged after the commit.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace granary::metadata {

struct Quota {
  uint64_t max_bytes = 0;  // 0 = no limit
  uint64_t max_files = 0;
  int64_t used_bytes = 0;
  int64_t used_files = 0;
};

class QuotaTable {
 public:
  // True when no folder has a quota: operations skip the ancestor walk.
  bool empty() const;

  void Set(uint64_t dir, Quota quota);
  void Remove(uint64_t dir);
  bool Has(uint64_t dir) const;
  std::optional<Quota> Get(uint64_t dir) const;
  std::vector<std::pair<uint64_t, Quota>> List() const;

  // Adds `bytes` and `files` (either may be negative) to every folder of
  // `dirs` that has a quota. When either is positive and would take a
  // folder past a limit, nothing is charged and QUOTA_EXCEEDED names the
  // folder (by inode) and the limit.
  Status Reserve(std::span<const uint64_t> dirs, int64_t bytes, int64_t files);
  // Adds without checking (shrinking, or giving a reservation back).
  void Charge(std::span<const uint64_t> dirs, int64_t bytes, int64_t files);

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Quota> quotas_;
};

}  // namespace granary::metadata
