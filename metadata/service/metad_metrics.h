#pragma once
// The granary_metad_* metrics, read at scrape time from what metad already
// keeps in memory: the inode and chunk counters, the node registry, the
// repair loop's statistics (what META_REPAIR_STATUS reports), the bad
// replica, lease and orphan tables. A scrape never reads RocksDB.
// docs/metrics.md lists every metric.
//
// Lifetime: `state` and `service` must outlive the registry's last Render();
// render only after service.Start() returned.

#include "common/metrics/registry.h"
#include "metadata/service/meta_service.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

void AddMetadMetrics(metrics::Registry& registry, MetaState& state, const MetaService& service);

}  // namespace granary::metadata
