#include "metadata/state/node_registry.h"

#include <algorithm>

#include "metadata/schema/keys.h"

namespace granary::metadata {

NodeRegistry::NodeRegistry(KvStore& kv, Clock& clock, NodeRegistryOptions options)
    : kv_(kv), clock_(clock), options_(options) {}

Status NodeRegistry::Load() {
  KeyRange range = KeyRange::Prefix(NodePrefix());
  std::map<std::string, Entry, std::less<>> loaded;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv_.Scan(range, 1024));
    for (const KvPair& kvp : page) {
      Entry e;
      if (!e.info.ParseFromString(kvp.value)) {
        return Status::Corruption("node record " + PrintableKey(kvp.key) + " does not parse");
      }
      e.info.set_state(proto::NODE_DOWN);
      e.loaded_steady = clock_.SteadyMs();
      std::string id = e.info.node_id();
      loaded.insert_or_assign(std::move(id), std::move(e));
    }
    if (page.size() < 1024) break;
    range.start = page.back().key + '\0';
  }
  std::lock_guard lock(mu_);
  nodes_ = std::move(loaded);
  return Status::Ok();
}

Status NodeRegistry::Register(const proto::NodeInfo& info) {
  proto::NodeInfo stored = info;
  stored.set_state(proto::NODE_UNKNOWN);  // state is computed, never stored
  stored.set_last_heartbeat_ms(clock_.WallMs());
  stored.set_replicas_referenced(0);
  {
    // Draining is an admin decision: a restart of the node does not undo it.
    std::lock_guard lock(mu_);
    auto it = nodes_.find(info.node_id());
    stored.set_draining(it != nodes_.end() && it->second.info.draining());
  }
  // write_mu_ orders this write against PersistUsage, whose older snapshot
  // must never land after (and overwrite) a new registration.
  std::lock_guard write_lock(write_mu_);
  KvTxn txn;
  txn.Put(NodeKey(info.node_id()), stored.SerializeAsString());
  RETURN_IF_ERROR(kv_.Commit(txn, CommitOptions{.sync = true}));

  std::lock_guard lock(mu_);
  Entry& e = nodes_[info.node_id()];
  e.info = std::move(stored);
  e.last_seen_steady = clock_.SteadyMs();
  e.persisted_steady = e.last_seen_steady;
  e.dirty = false;
  return Status::Ok();
}

bool NodeRegistry::Heartbeat(const proto::NodeInfo& usage) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(usage.node_id());
  if (it == nodes_.end()) return false;
  Entry& e = it->second;
  // Identity (address, failure domain) changes only through Register.
  e.info.set_capacity_bytes(usage.capacity_bytes());
  e.info.set_used_bytes(usage.used_bytes());
  e.info.set_free_bytes(usage.free_bytes());
  e.info.set_chunk_count(usage.chunk_count());
  e.info.set_last_heartbeat_ms(clock_.WallMs());
  e.last_seen_steady = clock_.SteadyMs();
  e.dirty = true;
  return true;
}

size_t NodeRegistry::AwaitedAfterRestart() {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.SteadyMs();
  size_t n = 0;
  for (const auto& [id, e] : nodes_) {
    const bool seen = e.last_seen_steady > INT64_MIN / 2;
    if (!seen && now - e.loaded_steady < options_.node_timeout_ms) ++n;
  }
  return n;
}

bool NodeRegistry::UpLocked(const Entry& e, int64_t now) const {
  return now - e.last_seen_steady < options_.node_timeout_ms;
}

bool NodeRegistry::Known(const std::string& node_id) {
  std::lock_guard lock(mu_);
  return nodes_.count(node_id) != 0;
}

bool NodeRegistry::IsUp(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && UpLocked(it->second, clock_.SteadyMs());
}

Status NodeRegistry::SetDraining(const std::string& node_id, bool draining) {
  std::lock_guard write_lock(write_mu_);
  proto::NodeInfo stored;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end()) return Status::NotFound("node " + node_id + " is not registered");
    stored = it->second.info;
  }
  stored.set_draining(draining);
  stored.set_state(proto::NODE_UNKNOWN);
  KvTxn txn;
  txn.Put(NodeKey(node_id), stored.SerializeAsString());
  RETURN_IF_ERROR(kv_.Commit(txn, CommitOptions{.sync = true}));
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it != nodes_.end()) it->second.info.set_draining(draining);
  return Status::Ok();
}

Status NodeRegistry::Remove(const std::string& node_id) {
  std::lock_guard write_lock(write_mu_);
  KvTxn txn;
  txn.Delete(NodeKey(node_id));
  RETURN_IF_ERROR(kv_.Commit(txn, CommitOptions{.sync = true}));
  std::lock_guard lock(mu_);
  nodes_.erase(node_id);
  return Status::Ok();
}

bool NodeRegistry::IsDraining(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && it->second.info.draining();
}

int64_t NodeRegistry::DownForMs(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return -1;
  const int64_t now = clock_.SteadyMs();
  if (UpLocked(it->second, now)) return 0;
  const int64_t since = std::max(it->second.last_seen_steady + options_.node_timeout_ms,
                                 it->second.loaded_steady);
  return std::max<int64_t>(0, now - since);
}

std::vector<proto::NodeInfo> NodeRegistry::List() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  std::vector<proto::NodeInfo> out;
  out.reserve(nodes_.size());
  for (const auto& [id, e] : nodes_) {
    out.push_back(e.info);
    out.back().set_state(UpLocked(e, now) ? proto::NODE_UP : proto::NODE_DOWN);
  }
  return out;
}

std::vector<PlacementCandidate> NodeRegistry::LiveCandidates() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  std::vector<PlacementCandidate> out;
  for (const auto& [id, e] : nodes_) {
    if (!UpLocked(e, now) || e.info.draining()) continue;
    out.push_back({id, e.info.failure_domain(), e.info.capacity_bytes(), e.info.free_bytes()});
  }
  return out;
}

void NodeRegistry::FillAddresses(proto::ChunkInfo* chunk) {
  std::lock_guard lock(mu_);
  for (proto::NodeAddress& r : *chunk->mutable_replicas()) {
    auto it = nodes_.find(r.node_id());
    if (it != nodes_.end()) r.set_address(it->second.info.address());
  }
}

ClusterTotals NodeRegistry::Totals() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.SteadyMs();
  ClusterTotals t;
  t.nodes_total = static_cast<uint32_t>(nodes_.size());
  for (const auto& [id, e] : nodes_) {
    if (!UpLocked(e, now)) continue;
    ++t.nodes_up;
    t.capacity_bytes += e.info.capacity_bytes();
    t.used_bytes += e.info.used_bytes();
    t.free_bytes += e.info.free_bytes();
  }
  return t;
}

Status NodeRegistry::PersistUsage(bool force) {
  std::lock_guard write_lock(write_mu_);
  KvTxn txn;
  std::vector<std::string> written;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.SteadyMs();
    for (auto& [id, e] : nodes_) {
      if (!e.dirty) continue;
      if (!force && now - e.persisted_steady < options_.persist_interval_ms) continue;
      proto::NodeInfo stored = e.info;
      stored.set_state(proto::NODE_UNKNOWN);
      txn.Put(NodeKey(id), stored.SerializeAsString());
      e.dirty = false;
      e.persisted_steady = now;
      written.push_back(id);
    }
  }
  if (txn.empty()) return Status::Ok();
  Status st = kv_.Commit(txn, CommitOptions{.sync = false});
  if (!st.ok()) {
    std::lock_guard lock(mu_);
    for (const std::string& id : written) {
      auto it = nodes_.find(id);
      if (it != nodes_.end()) it->second.dirty = true;
    }
  }
  return st;
}

}  // namespace granary::metadata
