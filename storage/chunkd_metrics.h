#pragma once
// The granary_chunkd_* metrics: the chunk server's state, read at scrape
// time from the objects that already keep it (the store's index and
// statvfs per folder, the scrubber's and the services' counters). Nothing
// here runs on the request path. docs/metrics.md lists every metric.
//
// Lifetime: every object passed in must outlive the registry's last
// Render(), i.e. the metrics HTTP server must be stopped first.

#include "common/metrics/registry.h"
#include "storage/service/chunk_service.h"
#include "storage/service/local_read_server.h"
#include "storage/service/scrubber.h"
#include "storage/store/chunk_store.h"

namespace granary::storage {

void AddChunkdMetrics(metrics::Registry& registry, const store::ChunkStore& store,
                      const service::Scrubber& scrubber, const service::ChunkService& service,
                      const service::LocalReadServer& local_reads);

}  // namespace granary::storage
