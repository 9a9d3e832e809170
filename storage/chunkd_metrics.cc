#include "storage/chunkd_metrics.h"

namespace granary::storage {
namespace {

using metrics::Sink;
using metrics::Type;

double D(uint64_t v) { return static_cast<double>(v); }

// A gauge with one value from the store's usage (index counters, one lock).
template <class F>
void UsageGauge(metrics::Registry& r, std::string name, std::string help,
                const store::ChunkStore& store, F field) {
  r.AddCallback(std::move(name), std::move(help), Type::kGauge, {},
                [&store, field](Sink& s) {
                  Result<store::StoreUsage> u = store.Usage();
                  if (u.ok()) s.Add({}, D(field(*u)));
                });
}

// A gauge per data folder from its statvfs.
template <class F>
void FolderGauge(metrics::Registry& r, std::string name, std::string help,
                 const store::ChunkStore& store, F field) {
  r.AddCallback(std::move(name), std::move(help), Type::kGauge, {"folder"},
                [&store, field](Sink& s) {
                  for (const store::FolderStatus& f : store.FolderStatuses()) {
                    if (f.usage_ok) s.Add({f.path}, D(field(f.usage)));
                  }
                });
}

void Counter(metrics::Registry& r, std::string name, std::string help,
             std::function<uint64_t()> read) {
  r.AddCallback(std::move(name), std::move(help), Type::kCounter, {},
                [read = std::move(read)](Sink& s) { s.Add({}, D(read())); });
}

}  // namespace

void AddChunkdMetrics(metrics::Registry& r, const store::ChunkStore& store,
                      const service::Scrubber& scrubber, const service::ChunkService& service,
                      const service::LocalReadServer& local_reads) {
  UsageGauge(r, "granary_chunkd_chunks", "Committed chunk versions (replicas) on this server.",
             store, [](const store::StoreUsage& u) { return u.chunk_count; });
  UsageGauge(r, "granary_chunkd_chunk_bytes",
             "Bytes of committed chunk files (blocks and footers) on this server.", store,
             [](const store::StoreUsage& u) { return u.chunk_bytes; });
  UsageGauge(r, "granary_chunkd_pending_writes", "Chunk versions being written now.", store,
             [](const store::StoreUsage& u) { return u.pending_writes; });

  FolderGauge(r, "granary_chunkd_folder_capacity_bytes",
              "Size of the file system holding each data folder.", store,
              [](const store::FolderUsage& u) { return u.capacity_bytes; });
  FolderGauge(r, "granary_chunkd_folder_used_bytes",
              "Bytes used on the file system holding each data folder (as df shows).", store,
              [](const store::FolderUsage& u) { return u.used_bytes; });
  FolderGauge(r, "granary_chunkd_folder_free_bytes",
              "Bytes available to the server on the file system holding each data folder.",
              store, [](const store::FolderUsage& u) { return u.free_bytes; });
  r.AddCallback("granary_chunkd_folder_in_service",
                "1 while a data folder serves and takes chunks, 0 once it failed a check.",
                Type::kGauge, {"folder"}, [&store](Sink& s) {
                  for (const store::FolderStatus& f : store.FolderStatuses()) {
                    s.Add({f.path}, f.in_service ? 1 : 0);
                  }
                });

  Counter(r, "granary_chunkd_scrub_bytes_verified_total",
          "Bytes the background scrub re-read and verified.",
          [&scrubber] { return scrubber.bytes_verified(); });
  Counter(r, "granary_chunkd_scrub_replicas_checked_total",
          "Replicas the background scrub verified or found corrupt.",
          [&scrubber] { return scrubber.replicas_checked(); });
  Counter(r, "granary_chunkd_scrub_corrupt_total",
          "Replicas the background scrub found corrupt (and quarantined).",
          [&scrubber] { return scrubber.corrupt_found(); });
  Counter(r, "granary_chunkd_scrub_passes_total", "Scrub passes completed over every replica.",
          [&scrubber] { return scrubber.passes(); });

  r.AddCallback("granary_chunkd_replicate_copies_total",
                "Chunk copies this server made for metad (CHUNK_REPLICATE), by result.",
                Type::kCounter, {"result"}, [&service](Sink& s) {
                  const service::ReplicateStats& st = service.replicate_stats();
                  s.Add({"done"}, D(st.done.load(std::memory_order_relaxed)));
                  s.Add({"failed"}, D(st.failed.load(std::memory_order_relaxed)));
                });
  Counter(r, "granary_chunkd_replicate_bytes_total",
          "Stored bytes this server copied from other replicas for metad.", [&service] {
            return service.replicate_stats().bytes.load(std::memory_order_relaxed);
          });

  Counter(r, "granary_chunkd_warm_bytes_total",
          "Replica bytes read into the page cache for clients about to load them (CHUNK_WARM).",
          [&service] { return service.warm_bytes(); });

  Counter(r, "granary_chunkd_local_read_descriptors_total",
          "Replica file descriptors handed to clients on this host (local reads).",
          [&local_reads] { return local_reads.descriptors_sent(); });
  Counter(r, "granary_chunkd_local_read_errors_total",
          "Local-read requests refused or answered with an error.",
          [&local_reads] { return local_reads.requests_failed(); });
}

}  // namespace granary::storage
