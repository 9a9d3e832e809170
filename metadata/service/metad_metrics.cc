#include "metadata/service/metad_metrics.h"

namespace granary::metadata {
namespace {

using metrics::Sink;
using metrics::Type;

void Value(metrics::Registry& r, std::string name, std::string help, Type type,
           std::function<double()> read) {
  r.AddCallback(std::move(name), std::move(help), type, {},
                [read = std::move(read)](Sink& s) { s.Add({}, read()); });
}

template <class T>
double Load(const std::atomic<T>& v) {
  return static_cast<double>(v.load(std::memory_order_relaxed));
}

}  // namespace

void AddMetadMetrics(metrics::Registry& r, MetaState& s, const MetaService& service) {
  Value(r, "granary_metad_inodes", "Inodes (files, folders, symlinks; the root included).",
        Type::kGauge, [&s] { return Load(s.inode_count); });
  Value(r, "granary_metad_chunks", "Committed chunks recorded in metad.", Type::kGauge,
        [&s] { return Load(s.chunk_count); });

  // One registry walk per scrape (a lock and a copy of a few hundred
  // records at most), not a RocksDB read.
  r.AddCallback("granary_metad_nodes",
                "Chunk servers by state: draining (whether up or down), else up or down.",
                Type::kGauge, {"state"}, [&s](Sink& sink) {
                  double up = 0, down = 0, draining = 0;
                  for (const proto::NodeInfo& n : s.nodes().List()) {
                    if (n.draining()) {
                      ++draining;
                    } else if (n.state() == proto::NODE_UP) {
                      ++up;
                    } else {
                      ++down;
                    }
                  }
                  sink.Add({"up"}, up);
                  sink.Add({"down"}, down);
                  sink.Add({"draining"}, draining);
                });
  auto totals = [&r, &s](std::string name, std::string help, uint64_t ClusterTotals::*field) {
    Value(r, std::move(name), std::move(help), Type::kGauge,
          [&s, field] { return static_cast<double>(s.nodes().Totals().*field); });
  };
  totals("granary_metad_cluster_capacity_bytes",
         "Capacity of the UP chunk servers, from their heartbeats.",
         &ClusterTotals::capacity_bytes);
  totals("granary_metad_cluster_used_bytes", "Bytes used on the UP chunk servers.",
         &ClusterTotals::used_bytes);
  totals("granary_metad_cluster_free_bytes", "Bytes free on the UP chunk servers.",
         &ClusterTotals::free_bytes);

  RepairStats& rs = s.repair_stats();
  Value(r, "granary_metad_under_replicated_chunks",
        "Chunks short of their replication goal at the last repair scan.", Type::kGauge,
        [&rs] { return Load(rs.under_replicated); });
  Value(r, "granary_metad_unrecoverable_chunks",
        "Chunks with no good replica left at the last repair scan.", Type::kGauge,
        [&rs] { return Load(rs.unrecoverable); });
  Value(r, "granary_metad_repair_copies_in_flight", "Chunk copies (repairs and moves) running now.",
        Type::kGauge, [&rs] { return Load(rs.in_flight); });
  r.AddCallback("granary_metad_repair_copies_total",
                "Chunk copies (repairs and rebalance moves) finished, by result.", Type::kCounter,
                {"result"}, [&rs](Sink& sink) {
                  sink.Add({"done"}, Load(rs.done));
                  sink.Add({"failed"}, Load(rs.failed));
                });
  Value(r, "granary_metad_repair_bytes_total", "Stored bytes copied by repairs and moves.",
        Type::kCounter, [&rs] { return Load(rs.bytes); });
  Value(r, "granary_metad_rebalance_moves_total",
        "Rebalance moves done (a copy to the emptiest server, the old replica dropped).",
        Type::kCounter, [&service] { return static_cast<double>(service.rebalance_moves()); });
  Value(r, "granary_metad_repair_last_scan_timestamp_seconds",
        "Unix time of the last repair scan; 0 before the first.", Type::kGauge,
        [&rs] { return Load(rs.last_scan_unix_ms) / 1000.0; });
  Value(r, "granary_metad_bad_replicas",
        "Replicas reported bad (by a scrub or a client) and not yet replaced.", Type::kGauge,
        [&s] { return static_cast<double>(s.bad_replicas().size()); });
  Value(r, "granary_metad_write_leases", "Write leases held by clients now.", Type::kGauge,
        [&s] { return static_cast<double>(s.leases().size()); });
  Value(r, "granary_metad_orphans", "Unlinked files kept because a client still has them open.",
        Type::kGauge, [&s] { return static_cast<double>(s.orphans().size()); });
  // Per quota'd folder (by inode: paths cost a walk), from the in-memory table.
  auto quota = [&r, &s](std::string name, std::string help, auto pick) {
    r.AddCallback(std::move(name), std::move(help), Type::kGauge, {"folder"},
                  [&s, pick](Sink& sink) {
                    for (const auto& [dir, q] : s.quotas().List()) {
                      sink.Add({std::to_string(dir)}, pick(q));
                    }
                  });
  };
  quota("granary_metad_quota_used_bytes", "Bytes (file sizes) below a folder with a quota.",
        [](const Quota& q) { return static_cast<double>(q.used_bytes); });
  quota("granary_metad_quota_max_bytes", "A folder's byte quota; 0 = no limit.",
        [](const Quota& q) { return static_cast<double>(q.max_bytes); });
  quota("granary_metad_quota_used_files", "Entries below a folder with a quota.",
        [](const Quota& q) { return static_cast<double>(q.used_files); });
  quota("granary_metad_quota_max_files", "A folder's entry quota; 0 = no limit.",
        [](const Quota& q) { return static_cast<double>(q.max_files); });
}

}  // namespace granary::metadata
