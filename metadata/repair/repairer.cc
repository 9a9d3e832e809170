#include "metadata/repair/repairer.h"

#include <fmt/format.h>

#include <map>

#include "common/log.h"
#include "common/net/run_blocking.h"
#include "metadata/ops/op_util.h"
#include "metadata/schema/keys.h"
#include "metadata/schema/records.h"

namespace granary::metadata {
namespace {

// Tasks kept from one scan: the rest waits for the next pass, so planning a
// huge outage never holds millions of tasks in memory.
constexpr size_t kMaxTasksPerScan = 100'000;

std::string ChunkName(const proto::ChunkInfo& c) {
  return fmt::format("chunk {:016x} v{}", c.chunk_id(), c.version());
}

}  // namespace

Repairer::Repairer(MetaState& state, net::Executor pool,
                   std::shared_ptr<const net::ClusterKey> key)
    : s_(state),
      pool_(pool),
      strand_(asio::make_strand(pool)),
      peers_(strand_, net::Millis(3000), 1, {}, std::move(key)),
      timer_(strand_),
      last_sweep_ms_(state.clock().SteadyMs()) {}

Repairer::~Repairer() { peers_.CloseAll(); }

void Repairer::Stop() {
  stop_ = true;
  asio::post(strand_, [this] {
    timer_.cancel();
    peers_.CloseAll();
  });
}

ReplicaHealth Repairer::Health(const std::string& node_id, const proto::ChunkInfo& chunk) {
  if (s_.bad_replicas().Contains(node_id, chunk.chunk_id(), chunk.version())) {
    return ReplicaHealth::kGone;
  }
  const int64_t down = s_.nodes().DownForMs(node_id);
  if (down < 0) return ReplicaHealth::kGone;  // a node metad no longer knows
  if (down == 0) {
    return s_.nodes().IsDraining(node_id) ? ReplicaHealth::kDraining : ReplicaHealth::kGood;
  }
  return down >= s_.options().repair.delay_ms ? ReplicaHealth::kGone : ReplicaHealth::kWaiting;
}

bool Repairer::ShouldScan() {
  const int64_t now = s_.clock().SteadyMs();
  std::set<std::string> gone;
  for (const proto::NodeInfo& n : s_.nodes().List()) {
    if (s_.nodes().DownForMs(n.node_id()) >= s_.options().repair.delay_ms &&
        n.state() != proto::NODE_UP) {
      gone.insert(n.node_id());
    }
    if (n.draining()) gone.insert("draining:" + n.node_id());
  }
  const uint64_t generation = s_.bad_replicas().generation();
  const uint64_t goals = s_.goal_generation.load();
  const RepairOptions& o = s_.options().repair;
  rebalance_due_ = o.rebalance_threshold_percent > 0 &&
                   now - last_rebalance_ms_ >= o.rebalance_interval_ms;
  if (rebalance_due_) last_rebalance_ms_ = now;
  const bool due = now - last_full_scan_ms_ >= o.full_scan_interval_ms || work_left_ ||
                   gone != last_gone_ || generation != last_bad_generation_ || rebalance_due_ ||
                   goals != last_goal_generation_;
  if (!due) return false;
  last_goal_generation_ = goals;
  last_gone_ = std::move(gone);
  last_bad_generation_ = generation;
  last_full_scan_ms_ = now;
  return true;
}

Result<std::vector<RepairTask>> Repairer::Scan() {
  std::vector<RepairTask> tasks;
  uint64_t short_chunks = 0, lost = 0;
  std::map<uint64_t, uint32_t> goals;  // inode -> replicas, for this scan
  struct Excess {
    uint64_t inode;
    proto::ChunkInfo chunk;
    uint32_t goal;
  };
  std::vector<Excess> excess;  // replication factor lowered: trimmed below
  held_.clear();
  RETURN_IF_ERROR(ForEachChunkRecord(s_.kv(), AllChunksPrefix(), [&](uint64_t inode,
                                                                      proto::ChunkInfo& chunk) {
    auto g = goals.find(inode);
    if (g == goals.end()) {
      Result<std::optional<InodeRecord>> rec = LoadInode(s_.kv(), inode);
      const uint32_t goal = rec.ok() && *rec ? (*rec)->inode.replicas() : 0;
      g = goals.emplace(inode, goal).first;
    }
    if (g->second == 0) return true;  // inode gone: its chunks are garbage already
    for (const proto::NodeAddress& r : chunk.replicas()) {
      held_[r.node_id()] += chunk.stored_length();
    }
    s_.nodes().FillAddresses(&chunk);
    bool unrecoverable = false;
    std::optional<RepairTask> t = PlanChunk(
        inode, chunk, g->second,
        [&](const std::string& node) { return Health(node, chunk); }, &unrecoverable);
    if (unrecoverable) {
      ++lost;
      LOG_ERROR("{} of inode {} has no usable replica left", ChunkName(chunk), inode);
    }
    if (t) {
      ++short_chunks;
      if (tasks.size() < kMaxTasksPerScan) tasks.push_back(std::move(*t));
    } else if (static_cast<uint32_t>(chunk.replicas_size()) > g->second &&
               excess.size() < kMaxTasksPerScan && !copying_.contains(chunk.chunk_id())) {
      bool all_good = true;
      for (const proto::NodeAddress& r : chunk.replicas()) {
        all_good = all_good && Health(r.node_id(), chunk) == ReplicaHealth::kGood;
      }
      if (all_good) excess.push_back({inode, chunk, g->second});
    }
    return !stop_;
  }));
  for (const Excess& e : excess) {
    Status st = Trim(e.inode, e.chunk.chunk_index(), e.chunk, e.goal);
    if (!st.ok()) {
      LOG_WARN("trimming {} of inode {} to {} replicas: {}", ChunkName(e.chunk), e.inode, e.goal,
               st.ToString());
    }
  }
  if (!excess.empty()) {
    LOG_INFO("repair: {} chunks trimmed to their lowered replica goal", excess.size());
  }
  SortByUrgency(tasks);
  s_.repair_stats().under_replicated = short_chunks;
  s_.repair_stats().unrecoverable = lost;
  s_.repair_stats().last_scan_unix_ms = s_.clock().WallMs();
  return tasks;
}

Result<std::vector<RepairTask>> Repairer::PlanRebalance() {
  std::vector<RepairTask> tasks;
  std::map<std::string, std::string> domains;
  std::vector<NodeLoad> loads;
  for (const proto::NodeInfo& n : s_.nodes().List()) {
    domains[n.node_id()] = n.failure_domain().empty() ? n.node_id() : n.failure_domain();
    if (n.state() != proto::NODE_UP || n.draining()) continue;
    loads.push_back({n.node_id(), domains[n.node_id()], n.capacity_bytes(), held_[n.node_id()]});
  }
  const RepairOptions& o = s_.options().repair;
  auto pair = PickRebalance(loads, o.rebalance_threshold_percent,
                            static_cast<uint64_t>(o.rebalance_min_bytes));
  if (!pair) return tasks;
  const auto& [from, to] = *pair;
  auto domain_of = [&](const std::string& node) {
    auto it = domains.find(node);
    return it == domains.end() ? node : it->second;
  };
  // Enough moves to close half the byte gap, at most a few rounds of copies.
  const uint64_t budget = (from.held - to.held) / 2;
  const size_t max_tasks = static_cast<size_t>(o.max_inflight) * 4;
  uint64_t planned = 0;
  if (budget == 0 || max_tasks == 0) return tasks;
  RETURN_IF_ERROR(ForEachChunkRecord(s_.kv(), AllChunksPrefix(), [&](uint64_t inode,
                                                                      proto::ChunkInfo& chunk) {
    if (!CanMove(chunk, from, to, domain_of)) return true;
    s_.nodes().FillAddresses(&chunk);
    RepairTask t;
    bool healthy = true;
    for (const proto::NodeAddress& r : chunk.replicas()) {
      healthy = healthy && Health(r.node_id(), chunk) == ReplicaHealth::kGood;
      t.sources.push_back(r);
    }
    if (!healthy) return true;  // repair comes first
    t.inode = inode;
    t.chunk_index = chunk.chunk_index();
    t.chunk = chunk;
    t.goal = static_cast<uint32_t>(chunk.replicas_size());
    t.good = t.sources.size();
    t.move_from = from.node_id;
    t.move_to = to.node_id;
    planned += chunk.stored_length();
    tasks.push_back(std::move(t));
    return tasks.size() < max_tasks && planned < budget;
  }));
  if (!tasks.empty()) {
    LOG_INFO("rebalance: moving {} chunks from {} ({} bytes held) to {} ({} bytes held)",
             tasks.size(), from.node_id, from.held, to.node_id, to.held);
  }
  return tasks;
}

net::Awaitable<void> Repairer::Run() {
  while (!stop_) {
    timer_.expires_after(net::Millis(s_.options().repair.interval_ms));
    co_await timer_.async_wait(net::kUseTuple);
    if (stop_) break;
    if (s_.clock().SteadyMs() - last_sweep_ms_ >= s_.options().repair.orphan_sweep_interval_ms) {
      last_sweep_ms_ = s_.clock().SteadyMs();
      co_await SweepOrphans();
    }
    if (!ShouldScan()) continue;
    Result<std::vector<RepairTask>> tasks =
        co_await net::RunBlocking(pool_, [this] { return Scan(); });
    if (!tasks.ok()) {
      LOG_WARN("repair scan failed: {}", tasks.status().ToString());
      work_left_ = true;
      continue;
    }
    work_left_ = !tasks->empty();
    if (tasks->empty() && rebalance_due_) {
      Result<std::vector<RepairTask>> moves =
          co_await net::RunBlocking(pool_, [this] { return PlanRebalance(); });
      if (moves.ok()) {
        *tasks = std::move(*moves);
      } else {
        LOG_WARN("rebalance planning failed: {}", moves.status().ToString());
      }
    }
    if (work_left_) {
      LOG_INFO("repair: {} chunks below their replica goal",
               s_.repair_stats().under_replicated.load());
    }
    for (RepairTask& t : *tasks) {
      while (in_flight_ >= s_.options().repair.max_inflight && !stop_) {
        timer_.expires_after(net::Millis(20));
        co_await timer_.async_wait(net::kUseTuple);
      }
      if (stop_) break;
      if (copying_.count(t.chunk.chunk_id())) continue;
      copying_.insert(t.chunk.chunk_id());
      ++in_flight_;
      s_.repair_stats().in_flight = in_flight_;
      asio::co_spawn(strand_, Repair(std::move(t)), asio::detached);
    }
  }
}

net::Awaitable<void> Repairer::Repair(RepairTask task) {
  const proto::ChunkInfo& c = task.chunk;
  auto done = [&](bool ok) {
    copying_.erase(c.chunk_id());
    --in_flight_;
    s_.repair_stats().in_flight = in_flight_;
    if (!ok) {
      ++s_.repair_stats().failed;
      work_left_ = true;
    }
  };
  // Any node holding a counted replica is excluded; a node whose replica was
  // reported bad (and quarantined there) may take a fresh copy.
  std::vector<std::string> exclude;
  for (const proto::NodeAddress& r : c.replicas()) {
    if (!s_.bad_replicas().Contains(r.node_id(), c.chunk_id(), c.version())) {
      exclude.push_back(r.node_id());
    }
  }
  // Nor may a node that still has a deletion of this very version queued:
  // its old file would pass for the new copy ("already here"), and the
  // deletion, handed out with its next heartbeat, would then remove the
  // replica just recorded.
  // (Store reads: off the strand.)
  const std::vector<std::string> queued = co_await net::RunBlocking(pool_, [&] {
    std::vector<std::string> out;
    for (const proto::NodeInfo& n : s_.nodes().List()) {
      auto g = s_.kv().Get(GarbageKey(n.node_id(), c.chunk_id(), c.version()));
      if (!g.ok() || g->has_value()) out.push_back(n.node_id());  // unknown counts as queued
    }
    return out;
  });
  exclude.insert(exclude.end(), queued.begin(), queued.end());
  Result<std::vector<proto::NodeAddress>> placed;
  if (!task.move_to.empty()) {
    if (std::find(queued.begin(), queued.end(), task.move_to) != queued.end()) {
      // Not now: the move is planned again once the deletion has gone out.
      done(true);
      work_left_ = true;
      co_return;
    }
    proto::NodeAddress to;
    to.set_node_id(task.move_to);
    placed = std::vector<proto::NodeAddress>{to};  // a rebalance move has its target
  } else {
    placed = s_.PlaceReplicas(1, exclude);
  }
  if (!placed.ok() || placed->empty()) {
    LOG_WARN("repair of {}: no node to copy to: {}", ChunkName(c),
             placed.ok() ? "none" : placed.status().ToString());
    done(false);
    co_return;
  }
  proto::ChunkInfo target_info;
  *target_info.add_replicas() = (*placed)[0];
  s_.nodes().FillAddresses(&target_info);
  const proto::NodeAddress target = target_info.replicas(0);

  proto::ChunkReplicateRequest req;
  req.set_chunk_id(c.chunk_id());
  req.set_version(c.version());
  for (const proto::NodeAddress& src : task.sources) *req.add_sources() = src;
  req.set_total_blocks(c.block_count());
  req.set_total_stored(c.stored_length());
  req.set_total_raw(c.length());
  // Each copy is an operation of its own: the target's reads from the source
  // carry the same trace, so both chunk servers' logs join up with this one.
  const net::TraceId trace = net::NewTraceId();
  auto r = co_await peers_.Call<proto::ChunkReplicateResponse>(
      target.address(), proto::CHUNK_REPLICATE, req,
      net::Millis(s_.options().repair.copy_timeout_ms), nullptr, nullptr, trace);
  if (!r.ok()) {
    LOG_WARN("repair of {} to {} failed trace={}: {}", ChunkName(c), target.address(),
             net::TraceHex(trace), r.status().ToString());
    done(false);
    co_return;
  }
  Status st = co_await net::RunBlocking(pool_, [&] { return Record(task, target); });
  if (!st.ok()) {
    LOG_WARN("repair of {}: recording the copy on {} failed: {}", ChunkName(c), target.node_id(),
             st.ToString());
    done(false);
    co_return;
  }
  s_.repair_stats().bytes += r->bytes();
  ++s_.repair_stats().done;
  if (!task.move_from.empty()) rebalance_moves_.fetch_add(1, std::memory_order_relaxed);
  if (task.move_from.empty()) {
    LOG_INFO("repaired {} of inode {}: new replica on {} ({} of {} good before) trace={}",
             ChunkName(c), task.inode, target.address(), task.good, task.goal,
             net::TraceHex(trace));
  } else {
    LOG_INFO("moved {} of inode {} from node {} to {} trace={}", ChunkName(c), task.inode,
             task.move_from, target.address(), net::TraceHex(trace));
  }
  done(true);
}

net::Awaitable<void> Repairer::SweepOrphans() {
  // 1. What every UP server holds, listed before metad's records are read.
  std::map<std::string, std::vector<proto::ChunkRef>> held;
  for (const proto::NodeInfo& n : s_.nodes().List()) {
    if (n.state() != proto::NODE_UP) continue;
    auto r = co_await peers_.Call<proto::ChunkListResponse>(n.address(), proto::CHUNK_LIST,
                                                            proto::ChunkListRequest{},
                                                            net::Millis(30000));
    if (!r.ok()) {
      LOG_WARN("orphan sweep: listing {} failed: {}", n.address(), r.status().ToString());
      continue;
    }
    held[n.node_id()].assign(r->chunks().begin(), r->chunks().end());
  }
  // 2. Every version a record names: pending first, then committed (a chunk
  // moving from pending to committed meanwhile is then seen in one of them).
  Result<std::set<std::pair<uint64_t, uint64_t>>> known =
      co_await net::RunBlocking(pool_, [&]() -> Result<std::set<std::pair<uint64_t, uint64_t>>> {
        std::set<std::pair<uint64_t, uint64_t>> out;
        for (std::string_view prefix : {AllPendingChunksPrefix(), AllChunksPrefix()}) {
          RETURN_IF_ERROR(ForEachChunkRecord(s_.kv(), prefix, [&](uint64_t, proto::ChunkInfo& c) {
            out.emplace(c.chunk_id(), c.version());
            return true;
          }));
        }
        return out;
      });
  if (!known.ok()) {
    LOG_WARN("orphan sweep: reading records failed: {}", known.status().ToString());
    co_return;
  }
  // 3. Unknown twice in a row: delete (through the usual deletion queue).
  std::set<std::tuple<std::string, uint64_t, uint64_t>> suspects;
  KvTxn txn;
  size_t freed = 0;
  for (const auto& [node, refs] : held) {
    for (const proto::ChunkRef& ref : refs) {
      if (known->count({ref.chunk_id(), ref.version()})) continue;
      auto key = std::make_tuple(node, ref.chunk_id(), ref.version());
      if (orphan_suspects_.count(key)) {
        txn.Put(GarbageKey(node, ref.chunk_id(), ref.version()), "");
        ++freed;
      } else {
        suspects.insert(std::move(key));
      }
    }
  }
  orphan_suspects_ = std::move(suspects);
  if (freed > 0) {
    Status st = co_await net::RunBlocking(
        pool_, [&] { return s_.kv().Commit(txn, CommitOptions{.sync = false}); });
    if (st.ok()) {
      LOG_INFO("orphan sweep: {} replicas no record names queued for deletion", freed);
    } else {
      LOG_WARN("orphan sweep: {}", st.ToString());
    }
  }
}

Status Repairer::Trim(uint64_t inode, uint64_t chunk_index, const proto::ChunkInfo& seen,
                      uint32_t goal) {
  return RunTxn(s_, "trim replicas", [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> rec, LoadChunk(s_.kv(), inode, chunk_index));
    if (!rec || rec->chunk.chunk_id() != seen.chunk_id() ||
        rec->chunk.version() != seen.version() ||
        static_cast<uint32_t>(rec->chunk.replicas_size()) <= goal || goal == 0) {
      return Status::Ok();  // rewritten, deleted or already trimmed meanwhile
    }
    proto::ChunkInfo updated = rec->chunk;
    updated.clear_replicas();
    KvTxn txn;
    for (const proto::NodeAddress& r : rec->chunk.replicas()) {
      if (static_cast<uint32_t>(updated.replicas_size()) < goal) {
        updated.add_replicas()->set_node_id(r.node_id());
      } else {
        txn.Put(GarbageKey(r.node_id(), rec->chunk.chunk_id(), rec->chunk.version()), "");
      }
    }
    const std::string key = ChunkKey(inode, chunk_index);
    txn.ExpectEquals(key, rec->raw);
    txn.Put(key, EncodeStoredChunk(updated));
    return s_.kv().Commit(txn, CommitOptions{.sync = true});
  });
}

Status Repairer::Record(const RepairTask& task, const proto::NodeAddress& target) {
  std::vector<std::string> dropped;
  Status st = RunTxn(s_, "repair", [&]() -> Status {
    dropped.clear();
    ASSIGN_OR_RETURN(std::optional<ChunkRecord> rec,
                     LoadChunk(s_.kv(), task.inode, task.chunk_index));
    KvTxn txn;
    if (!rec || rec->chunk.chunk_id() != task.chunk.chunk_id() ||
        rec->chunk.version() != task.chunk.version()) {
      // Rewritten or deleted while copying: the new copy is garbage.
      txn.Put(GarbageKey(target.node_id(), task.chunk.chunk_id(), task.chunk.version()), "");
      return s_.kv().Commit(txn, CommitOptions{.sync = false});
    }
    proto::ChunkInfo updated = rec->chunk;
    updated.clear_replicas();
    bool has_target = false;
    for (const proto::NodeAddress& r : rec->chunk.replicas()) {
      const bool planned_drop =
          std::find(task.drop.begin(), task.drop.end(), r.node_id()) != task.drop.end();
      if (r.node_id() == target.node_id()) {
        // The node that lost its copy took the new one: it stays, good again.
        dropped.push_back(r.node_id());
      } else if (!task.move_from.empty() && r.node_id() == task.move_from) {
        // A rebalance move: the new copy is in place, the old one goes.
        txn.Put(GarbageKey(r.node_id(), rec->chunk.chunk_id(), rec->chunk.version()), "");
        continue;
      } else if (planned_drop) {
        // Replaced by the new copy, even if its server came back meanwhile:
        // keeping it too would leave the chunk over-replicated. Its copy
        // there is deleted like any other garbage.
        txn.Put(GarbageKey(r.node_id(), rec->chunk.chunk_id(), rec->chunk.version()), "");
        dropped.push_back(r.node_id());
        continue;
      }
      has_target = has_target || r.node_id() == target.node_id();
      proto::NodeAddress* kept = updated.add_replicas();
      kept->set_node_id(r.node_id());
    }
    if (!has_target) updated.add_replicas()->set_node_id(target.node_id());
    // A replica the record names is never also queued for deletion there.
    txn.Delete(GarbageKey(target.node_id(), task.chunk.chunk_id(), task.chunk.version()));
    const std::string key = ChunkKey(task.inode, task.chunk_index);
    txn.ExpectEquals(key, rec->raw);
    txn.Put(key, EncodeStoredChunk(updated));
    return s_.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (st.ok()) {
    for (const std::string& node : dropped) {
      s_.bad_replicas().Remove(node, task.chunk.chunk_id(), task.chunk.version());
    }
  }
  return st;
}

}  // namespace granary::metadata
