#pragma once
// The namespace walks quotas need: which quota'd folders an entry counts
// toward, and what a subtree holds (when metad starts, and when a quota is
// set on a folder that already has contents).

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "metadata/kv/kv_store.h"
#include "metadata/state/quota_table.h"

namespace granary::metadata {

// `dir` and its ancestors that have a quota, nearest first. Empty without a
// read when no folder has a quota.
Result<std::vector<uint64_t>> QuotaDirsOf(KvStore& kv, const QuotaTable& quotas, uint64_t dir);

struct SubtreeUsage {
  int64_t bytes = 0;  // sizes of the files below
  int64_t files = 0;  // entries below (files, folders, symlinks), `dir` not counted
};
// Walks every entry below `dir`, a page of entries at a time.
Result<SubtreeUsage> CountSubtree(KvStore& kv, uint64_t dir);

// Loads every quota's limits and counts its subtree into `quotas`.
Status LoadQuotas(KvStore& kv, QuotaTable& quotas);

}  // namespace granary::metadata
