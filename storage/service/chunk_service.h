#pragma once
// ChunkService: the RPC face of a chunk server.
//
//   CHUNK_WRITE  a piece: validate every block (header, stored checksum),
//                then write it locally and forward it to the next replica of
//                the chain at the same time; ack when both are done.
//                commit: commit locally and down the chain, also at once.
//   CHUNK_READ   up to max_read_blocks blocks / max_read_bytes, one pread
//   CHUNK_STAT   lengths and path of one replica
//   CHUNK_WARM   reads replicas into the page cache (warm_service.cc)
//   CHUNK_DELETE frees replicas; absent ones are not an error
//   CHUNK_LIST   every committed replica
//   PING         "granary-chunkd <node id>"
//
// Errors name the chunk (id and version) and, for a chain failure, the
// downstream node, so the client can tell which replica to exclude.
//
// Thread safety: handlers run concurrently on the server's executor; all
// blocking store calls go to the `disk` executor (a thread pool).
// Lifetime: `store` and `peers` must outlive the service; Stop() before
// destroying it if the janitor was started.

#include <asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "common/net/asio_types.h"
#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"
#include "common/proto/granary.pb.h"
#include "storage/service/stop_signal.h"
#include "storage/store/chunk_store.h"

namespace granary::storage::service {

struct ServiceOptions {
  // Deadline for a piece forwarded to the next replica (which forwards it on).
  net::Millis forward_timeout{20'000};
  // Deadline for a commit forwarded down the chain; covers every replica's fsync.
  net::Millis commit_timeout{30'000};
  // Cap on one CHUNK_READ reply: blocks, and bytes of encoded blocks (at least
  // one block is always sent). 16 default blocks fit the 20 MiB frame limit.
  uint32_t max_read_blocks = 16;
  uint64_t max_read_bytes = 17ull << 20;
  // Replicas in one CHUNK_LIST reply before it is refused (message size limit).
  size_t max_list_chunks = 300'000;
  // Longest chain accepted in a write: guards against forwarding loops.
  int max_chain = 15;
  // A write that receives nothing for this long is aborted by the janitor.
  net::Millis idle_write_timeout{10 * 60 * 1000};
  net::Millis janitor_interval{30'000};
};

// Copies this server made for metad (CHUNK_REPLICATE); relaxed counters.
struct ReplicateStats {
  std::atomic<uint64_t> done{0};     // copied, or already here and verified
  std::atomic<uint64_t> failed{0};   // no source could supply the chunk
  std::atomic<uint64_t> bytes{0};    // stored bytes copied
};

class ChunkService {
 public:
  ChunkService(store::ChunkStore& store, net::Executor disk, net::ConnectionPool& peers,
               ServiceOptions options = {});

  // Adds every handler (PING included, replacing the server's default).
  void Register(net::RpcServer& server);

  // Root coroutine that aborts idle writes every janitor_interval until
  // Stop(). Spawn it on a strand (see StopSignal).
  net::Awaitable<void> RunJanitor();
  // Thread-safe; ends RunJanitor at its next wake-up (at once if it waits).
  void Stop();

  // Requests being served right now (for a graceful shutdown).
  int inflight() const { return *inflight_; }
  const ReplicateStats& replicate_stats() const { return replicate_stats_; }
  // Replica bytes read into the page cache by CHUNK_WARM.
  uint64_t warm_bytes() const { return warm_bytes_.load(std::memory_order_relaxed); }

  net::Awaitable<Status> Write(net::CallContext& ctx, const proto::ChunkWriteRequest& req,
                               proto::ChunkWriteResponse* resp);
  net::Awaitable<Status> Read(net::CallContext& ctx, const proto::ChunkReadRequest& req,
                              proto::ChunkReadResponse* resp);
  net::Awaitable<Status> Stat(net::CallContext& ctx, const proto::ChunkStatRequest& req,
                              proto::ChunkStatResponse* resp);
  Result<std::shared_ptr<const Buffer>> ReadSegments(const store::BlockRange& range, uint32_t block, uint32_t off,
                                                     uint32_t len);
  net::Awaitable<Status> Warm(net::CallContext& ctx, const proto::ChunkWarmRequest& req,
                              proto::ChunkWarmResponse* resp);
  net::Awaitable<Status> Delete(net::CallContext& ctx, const proto::ChunkDeleteRequest& req,
                                proto::ChunkDeleteResponse* resp);
  net::Awaitable<Status> List(net::CallContext& ctx, const proto::ChunkListRequest& req,
                              proto::ChunkListResponse* resp);
  net::Awaitable<Status> Ping(net::CallContext& ctx, const proto::PingRequest& req,
                              proto::PingResponse* resp);
  net::Awaitable<Status> Replicate(net::CallContext& ctx, const proto::ChunkReplicateRequest& req,
                                   proto::ChunkReplicateResponse* resp);

 private:
  net::Awaitable<Status> WritePiece(net::CallContext& ctx, const proto::ChunkWriteRequest& req);
  net::Awaitable<Status> Commit(const proto::ChunkWriteRequest& req, net::TraceId trace);
  // Sends `req` one hop down its chain, with the caller's trace id.
  net::Awaitable<Status> Forward(const proto::ChunkWriteRequest& req, net::SharedBuffer payload,
                                 net::Millis timeout, net::TraceId trace);
  Status CheckChain(const proto::ChunkWriteRequest& req) const;
  net::Awaitable<Result<uint64_t>> CopyFrom(const proto::ChunkReplicateRequest& req,
                                            const std::string& source, net::TraceId trace);

  store::ChunkStore& store_;
  net::Executor disk_;
  net::ConnectionPool& peers_;
  const ServiceOptions options_;
  StopSignal stop_;
  std::shared_ptr<std::atomic<int>> inflight_;
  ReplicateStats replicate_stats_;
  // CHUNK_WARM reads whole replicas: on threads of its own, two, so that a
  // warm-up never takes the disk threads that serve reads and writes.
  asio::thread_pool warm_pool_{2};
  std::atomic<uint64_t> warm_bytes_{0};
};

}  // namespace granary::storage::service
