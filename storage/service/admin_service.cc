// CHUNK_DELETE, CHUNK_LIST, PING, registration and the janitor.
#include "common/log.h"
#include "common/net/run_blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {

namespace {

// Counts a request in flight for as long as its coroutine frame lives. The
// counter is shared: a frame destroyed with the io_context after the service
// is gone must not touch freed memory.
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)) { ++*n_; }
  ~InFlight() { --*n_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::shared_ptr<std::atomic<int>> n_;
};

// Registers `fn` for `method`, counted in `inflight` while it runs. The
// handler holds a raw `svc`: the service must outlive the server.
template <class Req, class Resp>
void AddTracked(net::RpcServer& server, proto::Method method, ChunkService* svc,
                net::Awaitable<Status> (ChunkService::*fn)(net::CallContext&, const Req&, Resp*),
                std::shared_ptr<std::atomic<int>> inflight) {
  server.Add<Req, Resp>(method,
                        [svc, fn, inflight](net::CallContext& ctx, const Req& req,
                                            Resp* resp) -> net::Awaitable<Status> {
                          InFlight guard(inflight);
                          co_return co_await (svc->*fn)(ctx, req, resp);
                        });
}

}  // namespace

ChunkService::ChunkService(store::ChunkStore& store, net::Executor disk, net::ConnectionPool& peers,
                           ServiceOptions options)
    : store_(store),
      disk_(std::move(disk)),
      peers_(peers),
      options_(options),
      inflight_(std::make_shared<std::atomic<int>>(0)) {}

void ChunkService::Register(net::RpcServer& server) {
  AddTracked(server, proto::CHUNK_WRITE, this, &ChunkService::Write, inflight_);
  AddTracked(server, proto::CHUNK_READ, this, &ChunkService::Read, inflight_);
  AddTracked(server, proto::CHUNK_STAT, this, &ChunkService::Stat, inflight_);
  AddTracked(server, proto::CHUNK_WARM, this, &ChunkService::Warm, inflight_);
  AddTracked(server, proto::CHUNK_DELETE, this, &ChunkService::Delete, inflight_);
  AddTracked(server, proto::CHUNK_LIST, this, &ChunkService::List, inflight_);
  AddTracked(server, proto::CHUNK_REPLICATE, this, &ChunkService::Replicate, inflight_);
  AddTracked(server, proto::PING, this, &ChunkService::Ping, inflight_);
}

net::Awaitable<Status> ChunkService::Delete(net::CallContext& /*ctx*/,
                                            const proto::ChunkDeleteRequest& req,
                                            proto::ChunkDeleteResponse* resp) {
  // Deleting what is not here succeeds: metad may resend a delete whose
  // answer it missed, and the end state is the same.
  Result<uint32_t> deleted = co_await net::RunBlocking(disk_, [&]() -> Result<uint32_t> {
    uint32_t n = 0;
    for (const proto::ChunkRef& ref : req.chunks()) {
      Result<bool> r = store_.Delete({ref.chunk_id(), ref.version()});
      if (!r.ok()) return r.status();
      n += *r ? 1 : 0;
    }
    return n;
  });
  if (!deleted.ok()) co_return deleted.status();
  resp->set_deleted(*deleted);
  LOG_DEBUG("deleted {} of {} requested replicas", *deleted, req.chunks_size());
  co_return Status::Ok();
}

net::Awaitable<Status> ChunkService::List(net::CallContext& /*ctx*/,
                                          const proto::ChunkListRequest& /*req*/,
                                          proto::ChunkListResponse* resp) {
  std::vector<store::ChunkKey> keys = co_await net::RunBlocking(disk_, [&] { return store_.List(); });
  if (keys.size() > options_.max_list_chunks) {
    // A partial list would read as "the rest is gone"; refuse instead.
    co_return Status::ResourceExhausted(std::to_string(keys.size()) +
                                        " replicas exceed the listing limit of " +
                                        std::to_string(options_.max_list_chunks));
  }
  resp->mutable_chunks()->Reserve(static_cast<int>(keys.size()));
  for (const store::ChunkKey& k : keys) {
    proto::ChunkRef* ref = resp->add_chunks();
    ref->set_chunk_id(k.chunk_id);
    ref->set_version(k.version);
  }
  co_return Status::Ok();
}

net::Awaitable<Status> ChunkService::Ping(net::CallContext& /*ctx*/,
                                          const proto::PingRequest& /*req*/,
                                          proto::PingResponse* resp) {
  resp->set_server("granary-chunkd " + store_.node_id());
  // A writer replacing a chain asks: a full server must not be offered to it
  // again before metad hears of it at the next heartbeat. statvfs can stall
  // on a sick disk, so off the I/O threads.
  Result<store::StoreUsage> usage =
      co_await net::RunBlocking(disk_, [&] { return store_.Usage(); });
  resp->set_full(usage.ok() && usage->writable_bytes == 0);
  co_return Status::Ok();
}

net::Awaitable<void> ChunkService::RunJanitor() {
  while (co_await stop_.SleepFor(options_.janitor_interval)) {
    try {
      co_await net::RunBlocking(disk_,
                           [&] { return store_.AbortIdleWrites(options_.idle_write_timeout); });
    } catch (const std::exception& e) {
      LOG_ERROR("janitor: {}", e.what());
    }
  }
}

void ChunkService::Stop() { stop_.Stop(); }

}  // namespace granary::storage::service
