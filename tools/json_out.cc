#include "tools/json_out.h"

#include <cstdio>

namespace granary::tools {

nlohmann::json ToJson(const NodeStatus& n) {
  return {{"node_id", n.node_id},
          {"address", n.address},
          {"failure_domain", n.failure_domain},
          {"up", n.up},
          {"draining", n.draining},
          {"capacity_bytes", n.capacity_bytes},
          {"used_bytes", n.used_bytes},
          {"free_bytes", n.free_bytes},
          {"chunk_count", n.chunk_count},
          {"last_heartbeat_ms", n.last_heartbeat_ms},
          {"replicas_referenced", n.replicas_referenced}};
}

nlohmann::json ToJson(const std::vector<NodeStatus>& nodes) {
  nlohmann::json a = nlohmann::json::array();
  for (const NodeStatus& n : nodes) a.push_back(ToJson(n));
  return a;
}

nlohmann::json ToJson(const FsStats& s) {
  return {{"capacity_bytes", s.capacity_bytes}, {"used_bytes", s.used_bytes},
          {"free_bytes", s.free_bytes},         {"files", s.files},
          {"chunks", s.chunks},                 {"nodes_up", s.nodes_up},
          {"nodes_total", s.nodes_total}};
}

nlohmann::json ToJson(const RepairStatusInfo& r) {
  return {{"under_replicated", r.under_replicated}, {"unrecoverable", r.unrecoverable},
          {"copies_in_flight", r.copies_in_flight}, {"copies_done", r.copies_done},
          {"copies_failed", r.copies_failed},       {"bytes_copied", r.bytes_copied},
          {"bad_replicas", r.bad_replicas},         {"last_scan_ms", r.last_scan_ms}};
}

nlohmann::json ToJson(const QuotaStatus& q) {
  return {{"path", q.path},           {"inode", q.inode},
          {"max_bytes", q.max_bytes}, {"max_files", q.max_files},
          {"used_bytes", q.used_bytes}, {"used_files", q.used_files}};
}

void PrintJson(const nlohmann::json& doc) {
  // Replace invalid UTF-8 (a file name is any bytes) instead of throwing.
  std::puts(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace granary::tools
