#include "storage/service/heartbeat.h"

#include <algorithm>

#include "common/log.h"
#include "common/net/run_blocking.h"

namespace granary::storage::service {
namespace {

constexpr net::Millis kDefaultInterval{1000};
// Bounds on the interval metad asks for: a zero or absurd value from a buggy
// metad must neither spin this loop nor silence the node for hours.
constexpr net::Millis kMinInterval{10};
constexpr net::Millis kMaxInterval{60'000};

}  // namespace

Heartbeater::Heartbeater(store::ChunkStore& store, net::Executor disk, net::ConnectionPool& meta,
                         HeartbeatOptions options)
    : store_(store), disk_(std::move(disk)), meta_(meta), options_(std::move(options)) {}

net::Awaitable<void> Heartbeater::Run() {
  net::Millis backoff = options_.initial_backoff;
  while (!stop_.stopped()) {
    Result<net::Millis> interval = co_await Register();
    if (!interval.ok()) {
      NoteFailure(interval.status());
      if (!co_await stop_.SleepFor(backoff)) break;
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    NoteSuccess();
    registered_ = true;
    backoff = options_.initial_backoff;
    LOG_INFO("registered node {} ({}) with metad at {}; heartbeat every {} ms", store_.node_id(),
             options_.advertise_address, options_.meta_address, interval->count());
    while (co_await stop_.SleepFor(*interval)) {
      Result<bool> reregister = co_await Beat();
      if (!reregister.ok()) {
        NoteFailure(reregister.status());
        continue;  // keep beating: metad may be back at the next tick
      }
      NoteSuccess();
      if (*reregister) {
        LOG_INFO("metad at {} asked node {} to register again", options_.meta_address,
                 store_.node_id());
        registered_ = false;
        break;
      }
    }
  }
  LOG_DEBUG("heartbeats stopped");
}

net::Awaitable<Result<proto::NodeInfo>> Heartbeater::Describe() {
  // statvfs on every folder: a disk call, so on the pool.
  Result<store::StoreUsage> usage = co_await net::RunBlocking(disk_, [&] { return store_.Usage(); });
  if (!usage.ok()) co_return usage.status();
  proto::NodeInfo n;
  n.set_node_id(store_.node_id());
  n.set_address(options_.advertise_address);
  n.set_failure_domain(options_.failure_domain);
  n.set_capacity_bytes(usage->capacity_bytes);
  n.set_used_bytes(usage->used_bytes);
  // Free space as placement should see it: what new chunks may still fill
  // (each folder keeps min_free_bytes back), so a server that refuses writes
  // reports none.
  n.set_free_bytes(usage->writable_bytes);
  n.set_chunk_count(usage->chunk_count);
  n.set_state(proto::NODE_UP);
  co_return n;
}

net::Awaitable<Result<net::Millis>> Heartbeater::Register() {
  proto::RegisterNodeRequest req;
  Result<proto::NodeInfo> node = co_await Describe();
  if (!node.ok()) co_return node.status();
  *req.mutable_node() = std::move(node).value();
  Result<proto::RegisterNodeResponse> r = co_await meta_.Call<proto::RegisterNodeResponse>(
      options_.meta_address, proto::META_REGISTER_NODE, req, options_.rpc_timeout);
  if (!r.ok())
    co_return r.status().WithContext("registering with metad at " + options_.meta_address);
  net::Millis interval =
      r->heartbeat_interval_ms() == 0
          ? kDefaultInterval
          : net::Millis(std::clamp<uint64_t>(r->heartbeat_interval_ms(), kMinInterval.count(),
                                             kMaxInterval.count()));
  co_return interval;
}

net::Awaitable<Result<bool>> Heartbeater::Beat() {
  proto::HeartbeatRequest req;
  Result<proto::NodeInfo> node = co_await Describe();
  if (!node.ok()) co_return node.status();
  *req.mutable_node() = std::move(node).value();
  // A data folder that stopped working is taken out of service first, so
  // its replicas are reported lost with this very beat.
  co_await net::RunBlocking(disk_, [&] { return store_.CheckFolders(); });
  // Replicas quarantined since the last beat travel with it; they go back
  // in the queue if metad does not answer.
  const std::vector<store::ChunkKey> lost = store_.TakeLost();
  for (const store::ChunkKey& k : lost) {
    proto::ChunkRef* ref = req.add_lost_chunks();
    ref->set_chunk_id(k.chunk_id);
    ref->set_version(k.version);
  }
  // Deletions in the reply can only mean replicas this server held before
  // the request left (see ChunkStore::Delete).
  const uint64_t asked_at = store_.Stamp();
  Result<proto::HeartbeatResponse> r = co_await meta_.Call<proto::HeartbeatResponse>(
      options_.meta_address, proto::META_HEARTBEAT, req, options_.rpc_timeout);
  if (!r.ok() || r->reregister()) store_.ReturnLost(lost);
  if (!r.ok()) co_return r.status().WithContext("heartbeat to metad at " + options_.meta_address);
  if (!lost.empty() && !r->reregister()) {
    LOG_INFO("told metad about {} lost replicas", lost.size());
  }
  ++heartbeats_;
  if (r->delete_chunks_size() > 0) co_await DeleteReplicas(*r, asked_at);
  co_return r->reregister();
}

net::Awaitable<void> Heartbeater::DeleteReplicas(const proto::HeartbeatResponse& resp,
                                                 uint64_t asked_at) {
  // A failed delete is logged and left: metad repeats the request until the
  // replica is gone from this node's reports.
  size_t deleted = co_await net::RunBlocking(disk_, [&] {
    size_t n = 0;
    for (const proto::ChunkRef& ref : resp.delete_chunks()) {
      const store::ChunkKey key{ref.chunk_id(), ref.version()};
      Result<bool> r = store_.Delete(key, asked_at);
      if (!r.ok()) {
        LOG_ERROR("deleting {} for metad: {}", key.ToString(), r.status().ToString());
      } else if (*r) {
        ++n;
      }
    }
    return n;
  });
  LOG_INFO("metad released {} replicas; {} deleted", resp.delete_chunks_size(), deleted);
}

void Heartbeater::NoteFailure(const Status& st) {
  if (!meta_down_) {
    LOG_WARN("{} (retrying quietly until it answers)", st.ToString());
    meta_down_ = true;
  } else {
    LOG_DEBUG("{}", st.ToString());
  }
}

void Heartbeater::NoteSuccess() {
  if (meta_down_) LOG_INFO("metad at {} answers again", options_.meta_address);
  meta_down_ = false;
}

}  // namespace granary::storage::service
