#pragma once
// NodeRegistry: the chunk servers metad knows, and which of them are up.
//
// Registration is persisted ("N" + node_id, synced) so that chunk maps can name
// a node's address after a restart. Heartbeats only touch memory: usage and the
// heartbeat time change every second per node, and a synced write each would
// cost more than everything else metad does; usage is written back at most once
// per `persist_interval_ms` (unsynced) and on shutdown.
//
// A node is UP while its last heartbeat (or registration) is younger than
// `node_timeout_ms`, by the steady clock. After a restart every node starts
// DOWN until it heartbeats again. Placement uses UP nodes only.
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/granary.pb.h"
#include "metadata/kv/kv_store.h"
#include "metadata/placement/placement.h"
#include "metadata/state/clock.h"

namespace granary::metadata {

struct NodeRegistryOptions {
  // Silence after which a node is DOWN. Milliseconds, default 10000.
  int64_t node_timeout_ms = 10000;
  // Most frequent write-back of a node's usage. Milliseconds, default 60000.
  int64_t persist_interval_ms = 60000;
};

struct ClusterTotals {
  uint64_t capacity_bytes = 0;  // sums over UP nodes
  uint64_t used_bytes = 0;
  uint64_t free_bytes = 0;
  uint32_t nodes_up = 0;
  uint32_t nodes_total = 0;
};

class NodeRegistry {
 public:
  NodeRegistry(KvStore& kv, Clock& clock, NodeRegistryOptions options);

  // Loads every registered node from the store (all DOWN).
  Status Load();

  // Stores or replaces `info` (synced) and counts as a heartbeat.
  Status Register(const proto::NodeInfo& info);

  // Records usage from a heartbeat. False when the node is not registered.
  bool Heartbeat(const proto::NodeInfo& usage);

  bool Known(const std::string& node_id);
  bool IsUp(const std::string& node_id);
  // How long a node has been DOWN, ms: 0 while UP, and counted from metad's
  // start for a node not heard from since (a restart of metad alone must not
  // look like every node failing). -1 for a node metad does not know.
  int64_t DownForMs(const std::string& node_id);
  // Nodes known from before this metad started that have not registered
  // with it yet, while they still may (within node_timeout_ms of the start):
  // placement short of nodes should then wait for them, not fail.
  size_t AwaitedAfterRestart();

  // Persists the draining flag (synced). NOT_FOUND for an unknown node.
  Status SetDraining(const std::string& node_id, bool draining);
  bool IsDraining(const std::string& node_id);
  // Forgets a node (synced). The caller checks no chunk record names it.
  Status Remove(const std::string& node_id);

  // Every node with its current state, sorted by id.
  std::vector<proto::NodeInfo> List();
  // UP nodes that are not draining, as placement candidates.
  std::vector<PlacementCandidate> LiveCandidates();
  // Fills each replica's address from the registry (left empty for a node
  // metad no longer knows).
  void FillAddresses(proto::ChunkInfo* chunk);
  ClusterTotals Totals();

  // Writes back usage of nodes not persisted for persist_interval_ms (all
  // changed nodes when `force`). Unsynced: usage is advisory.
  Status PersistUsage(bool force);

 private:
  struct Entry {
    proto::NodeInfo info;            // last_heartbeat_ms is wall time, for display
    int64_t last_seen_steady = INT64_MIN / 2;
    int64_t loaded_steady = 0;  // when Load() found it (DownForMs)
    int64_t persisted_steady = 0;
    bool dirty = false;
  };
  bool UpLocked(const Entry& e, int64_t now) const;

  KvStore& kv_;
  Clock& clock_;
  const NodeRegistryOptions options_;
  std::mutex write_mu_;  // serializes store writes; taken before mu_
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> nodes_;
};

}  // namespace granary::metadata
