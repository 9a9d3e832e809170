// CHUNK_WRITE: pieces and commits, with chain replication.
//
// A piece is validated before anything else happens: a corrupt block must
// not reach this disk nor travel further down the chain. Then the local write
// (on the disk pool) and the forward to chain[0] run concurrently, so a
// chain of R replicas costs about one disk write plus R network hops, not R
// disk writes in sequence.
//
// Commit also runs locally and downstream at once, so the fdatasyncs of all
// replicas overlap. If one side fails the client sees the error and rewrites
// the chunk as a new version on a new chain; a replica that did commit the
// failed version is an orphan that metad never references and later deletes.
#include <asio/experimental/awaitable_operators.hpp>

#include "common/log.h"
#include "common/net/run_blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {
namespace {

using namespace asio::experimental::awaitable_operators;

store::ChunkKey KeyOf(const proto::ChunkWriteRequest& req) {
  return {req.chunk_id(), req.version()};
}

// Combines the outcome of the local and the downstream half of one step.
Status Join(const store::ChunkKey& key, Status local, Status downstream) {
  if (local.ok()) return downstream;
  if (!downstream.ok()) {
    LOG_WARN("{}: downstream failed too: {}", key.ToString(), downstream.ToString());
  }
  return local;
}

}  // namespace

net::Awaitable<Status> ChunkService::Write(net::CallContext& ctx,
                                           const proto::ChunkWriteRequest& req,
                                           proto::ChunkWriteResponse* /*resp*/) {
  CO_RETURN_IF_ERROR(CheckChain(req));
  if (req.commit()) {
    if (!ctx.payload.empty()) {
      co_return Status::InvalidArgument(KeyOf(req).ToString() + ": a commit carries no payload");
    }
    co_return co_await Commit(req, ctx.trace);
  }
  co_return co_await WritePiece(ctx, req);
}

Status ChunkService::CheckChain(const proto::ChunkWriteRequest& req) const {
  if (req.chain_size() > options_.max_chain) {
    return Status::InvalidArgument("chain of " + std::to_string(req.chain_size()) +
                                   " replicas exceeds " + std::to_string(options_.max_chain));
  }
  for (const proto::NodeAddress& n : req.chain()) {
    // A chain through this node would forward to itself forever.
    if (n.node_id() == store_.node_id()) {
      return Status::InvalidArgument("chain names this node (" + n.node_id() + ") again");
    }
    if (n.address().empty()) return Status::InvalidArgument("chain entry without an address");
  }
  return Status::Ok();
}

net::Awaitable<Status> ChunkService::WritePiece(net::CallContext& ctx,
                                                const proto::ChunkWriteRequest& req) {
  const store::ChunkKey key = KeyOf(req);
  // Shared, never copied: the local write and the forward read the same bytes.
  auto payload = std::make_shared<const Buffer>(std::move(ctx.payload));
  // Checksumming up to 20 MiB is a few ms of CPU: keep it off the I/O thread.
  Result<store::PieceLayout> layout = co_await net::RunBlocking(disk_, [&] {
    return store::ValidatePiece(payload->span(), req.offset(), req.first_block(),
                                req.block_count());
  });
  if (!layout.ok()) {
    LOG_WARN("refused piece of {} from {} trace={}: {}", key.ToString(), ctx.peer,
             net::TraceHex(ctx.trace), layout.status().ToString());
    co_return layout.status().WithContext(key.ToString());
  }
  auto local = [&]() -> net::Awaitable<Status> {
    co_return co_await net::RunBlocking(
        disk_, [&] { return store_.WritePiece(key, *layout, payload->span()); });
  };
  if (req.chain_size() == 0) co_return co_await local();
  auto [local_st, down_st] =
      co_await (local() && Forward(req, payload, options_.forward_timeout, ctx.trace));
  co_return Join(key, std::move(local_st), std::move(down_st));
}

net::Awaitable<Status> ChunkService::Commit(const proto::ChunkWriteRequest& req,
                                            net::TraceId trace) {
  const store::ChunkKey key = KeyOf(req);
  const store::CommitSpec spec{req.total_blocks(), req.total_stored(), req.total_raw(),
                               req.fsync()};
  auto local = [&]() -> net::Awaitable<Status> {
    Status st = co_await net::RunBlocking(disk_, [&] { return store_.Commit(key, spec); });
    if (st.ok()) {
      LOG_DEBUG("committed {} ({} blocks{}) trace={}", key.ToString(), spec.total_blocks,
                spec.fsync ? ", synced" : "", net::TraceHex(trace));
    }
    co_return st;
  };
  if (req.chain_size() == 0) co_return co_await local();
  auto [local_st, down_st] = co_await (local() && Forward(req, nullptr, options_.commit_timeout, trace));
  co_return Join(key, std::move(local_st), std::move(down_st));
}

net::Awaitable<Status> ChunkService::Forward(const proto::ChunkWriteRequest& req,
                                             net::SharedBuffer payload, net::Millis timeout,
                                             net::TraceId trace) {
  // Same request one hop further: chain[0] receives chain[1..].
  proto::ChunkWriteRequest next = req;
  next.clear_chain();
  for (int i = 1; i < req.chain_size(); ++i) *next.add_chain() = req.chain(i);
  const proto::NodeAddress& to = req.chain(0);
  Result<proto::ChunkWriteResponse> r = co_await peers_.Call<proto::ChunkWriteResponse>(
      to.address(), proto::CHUNK_WRITE, next, timeout, std::move(payload), nullptr, trace);
  if (!r.ok()) {
    co_return r.status().WithContext("replica " + to.node_id() + " at " + to.address());
  }
  co_return Status::Ok();
}

}  // namespace granary::storage::service
