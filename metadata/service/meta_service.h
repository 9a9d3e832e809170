#pragma once
// MetaService: the RPC face of metad. It registers one typed handler per
// META_* method on an RpcServer and runs each operation (metadata/ops/) on its
// own worker pool: operations block on the KvStore (synced RocksDB writes), so
// they must never run on the server's I/O threads. It also runs the periodic
// upkeep (MetaState::Maintain) on that pool.
//
// Lifetime: the MetaState must outlive the service. Call Stop() (or destroy
// the service) only after the RpcServer stopped, and before the I/O context
// that handlers resume on is destroyed. Thread safety: RegisterHandlers and
// Start before the server starts; Stop from any one thread.

#include <atomic>
#include <memory>

#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include "common/net/asio_types.h"
#include "common/net/rpc_server.h"
#include "metadata/repair/repairer.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

struct MetaServiceOptions {
  // Threads running metadata operations (and their blocking store calls).
  // Most of their time is spent waiting for a shared WAL fsync (group commit
  // in RocksDbKv), so synced operations per second grow with this number up to
  // about 16 (measured: 1 thread 290 creates/s, 4: 1,800/s, 16: 8,300/s).
  // Default 16.
  int worker_threads = 16;
  // Period of the upkeep task: folder times, node usage, lease sweep, orphan
  // expiry, WAL sync after lazy commits. Default 1 s.
  net::Millis maintenance_interval{1000};
  // Reads and lazy (unsynced) commits run on the I/O thread that received
  // them instead of a worker (see RunsInline in meta_service.cc).
  bool inline_fast_ops = true;
  // The key of metad's own calls to chunk servers (repair); null: none.
  std::shared_ptr<const net::ClusterKey> cluster_key;
};

class MetaService {
 public:
  MetaService(MetaState& state, MetaServiceOptions options);
  ~MetaService();
  MetaService(const MetaService&) = delete;
  MetaService& operator=(const MetaService&) = delete;

  // Adds a handler for every META_* method.
  void RegisterHandlers(net::RpcServer& server);

  // Starts the periodic upkeep and the repair loop.
  void Start();

  // Stops the upkeep, waits for running operations, then writes back what
  // upkeep keeps in memory (MetaState::Maintain(final)). Idempotent.
  Status Stop();

  // Rebalance moves the repair loop has done; 0 before Start(). Call after
  // Start() returned (metrics read it from another thread).
  uint64_t rebalance_moves() const { return repairer_ ? repairer_->rebalance_moves() : 0; }

 private:
  template <class Req, class Resp>
  void Add(net::RpcServer& server, proto::Method method,
           Status (*op)(MetaState&, const Req&, Resp*));
  net::Awaitable<void> MaintenanceLoop();

  MetaState& state_;
  const MetaServiceOptions options_;
  asio::thread_pool pool_;
  asio::strand<asio::thread_pool::executor_type> upkeep_strand_;
  asio::steady_timer upkeep_timer_;
  std::unique_ptr<Repairer> repairer_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
};

}  // namespace granary::metadata
