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

// Chunk records read per KV scan page.
constexpr size_t kScanPage = 4096;
// Tasks kept from one scan: the rest waits for the next pass, so planning a
// huge outage never holds millions of tasks in memory.
constexpr size_t kMaxTasksPerScan = 100'000;

std::string ChunkName(const proto::ChunkInfo& c) {
  return fmt::format("chunk {:016x} v{}", c.chunk_id(), c.version());
}

}  // namespace

Repairer::Repairer(MetaState& state, net::Executor pool)
    : s_(state),
      pool_(pool),
      strand_(asio::make_strand(pool)),
      peers_(strand_, net::Millis(3000), 1),
      timer_(strand_) {}

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
  const bool due = now - last_full_scan_ms_ >= s_.options().repair.full_scan_interval_ms ||
                   work_left_ || gone != last_gone_ || generation != last_bad_generation_;
  if (!due) return false;
  last_gone_ = std::move(gone);
  last_bad_generation_ = generation;
  last_full_scan_ms_ = now;
  return true;
}

Result<std::vector<RepairTask>> Repairer::Scan() {
  std::vector<RepairTask> tasks;
  uint64_t short_chunks = 0, lost = 0;
  std::map<uint64_t, uint32_t> goals;  // inode -> replicas, for this scan
  KeyRange range = KeyRange::Prefix(AllChunksPrefix());
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, s_.kv().Scan(range, kScanPage));
    for (const KvPair& kvp : page) {
      std::optional<uint64_t> index = ChunkIndexFromKey(kvp.key);
      Result<uint64_t> inode = DecodeU64(std::string_view(kvp.key).substr(1, 8));
      if (!index || !inode.ok()) continue;
      Result<proto::ChunkInfo> chunk = DecodeStoredChunk(kvp.value, *index);
      if (!chunk.ok()) {
        LOG_ERROR("repair scan: {}", chunk.status().ToString());
        continue;
      }
      auto g = goals.find(*inode);
      if (g == goals.end()) {
        Result<std::optional<InodeRecord>> rec = LoadInode(s_.kv(), *inode);
        const uint32_t goal = rec.ok() && *rec ? (*rec)->inode.replicas() : 0;
        g = goals.emplace(*inode, goal).first;
      }
      if (g->second == 0) continue;  // inode gone: its chunks are garbage already
      s_.nodes().FillAddresses(&*chunk);
      bool unrecoverable = false;
      std::optional<RepairTask> t = PlanChunk(
          *inode, *chunk, g->second,
          [&](const std::string& node) { return Health(node, *chunk); }, &unrecoverable);
      if (unrecoverable) {
        ++lost;
        LOG_ERROR("{} of inode {} has no usable replica left", ChunkName(*chunk), *inode);
      }
      if (!t) continue;
      ++short_chunks;
      if (tasks.size() < kMaxTasksPerScan) tasks.push_back(std::move(*t));
    }
    if (page.size() < kScanPage) break;
    range.start = page.back().key + std::string(1, '\0');
    if (stop_) break;
  }
  SortByUrgency(tasks);
  s_.repair_stats().under_replicated = short_chunks;
  s_.repair_stats().unrecoverable = lost;
  s_.repair_stats().last_scan_unix_ms = s_.clock().WallMs();
  return tasks;
}

net::Awaitable<void> Repairer::Run() {
  while (!stop_) {
    timer_.expires_after(net::Millis(s_.options().repair.interval_ms));
    co_await timer_.async_wait(net::kUseTuple);
    if (stop_) break;
    if (!ShouldScan()) continue;
    Result<std::vector<RepairTask>> tasks =
        co_await net::RunBlocking(pool_, [this] { return Scan(); });
    if (!tasks.ok()) {
      LOG_WARN("repair scan failed: {}", tasks.status().ToString());
      work_left_ = true;
      continue;
    }
    work_left_ = !tasks->empty();
    if (!tasks->empty()) {
      LOG_INFO("repair: {} chunks below their replica goal", s_.repair_stats().under_replicated.load());
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
  Result<std::vector<proto::NodeAddress>> placed = s_.PlaceReplicas(1, exclude);
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
  auto r = co_await peers_.Call<proto::ChunkReplicateResponse>(
      target.address(), proto::CHUNK_REPLICATE, req,
      net::Millis(s_.options().repair.copy_timeout_ms));
  if (!r.ok()) {
    LOG_WARN("repair of {} to {} failed: {}", ChunkName(c), target.address(),
             r.status().ToString());
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
  LOG_INFO("repaired {} of inode {}: new replica on {} ({} of {} good before)", ChunkName(c),
           task.inode, target.address(), task.good, task.goal);
  done(true);
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
      } else if (planned_drop && (Health(r.node_id(), rec->chunk) == ReplicaHealth::kGone ||
                                  Health(r.node_id(), rec->chunk) == ReplicaHealth::kDraining)) {
        txn.Put(GarbageKey(r.node_id(), rec->chunk.chunk_id(), rec->chunk.version()), "");
        dropped.push_back(r.node_id());
        continue;
      }
      has_target = has_target || r.node_id() == target.node_id();
      proto::NodeAddress* kept = updated.add_replicas();
      kept->set_node_id(r.node_id());
    }
    if (!has_target) updated.add_replicas()->set_node_id(target.node_id());
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
