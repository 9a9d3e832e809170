// CHUNK_REPLICATE: metad asks this server to copy a chunk version from a
// surviving replica (re-replication after a failure, a corrupt replica, a
// drain). The copy is the client's write path with another chunk server as
// the client: blocks are read with CHUNK_READ, every block's stored checksum
// is verified (ValidatePiece) before it touches this disk, and the chunk is
// committed synced, so metad may count the new replica as soon as it answers.
#include "common/log.h"
#include "common/net/run_blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {

net::Awaitable<Result<uint64_t>> ChunkService::CopyFrom(const proto::ChunkReplicateRequest& req,
                                                        const std::string& source,
                                                        net::TraceId trace) {
  const store::ChunkKey key{req.chunk_id(), req.version()};
  uint64_t offset = 0;
  uint32_t block = 0;
  while (block < req.total_blocks()) {
    proto::ChunkReadRequest rr;
    rr.set_chunk_id(key.chunk_id);
    rr.set_version(key.version);
    rr.set_first_block(block);
    rr.set_block_count(std::min(req.total_blocks() - block, options_.max_read_blocks));
    Buffer payload;
    auto r = co_await peers_.Call<proto::ChunkReadResponse>(
        source, proto::CHUNK_READ, rr, options_.forward_timeout, nullptr, &payload, trace);
    if (!r.ok()) co_return r.status();
    const uint32_t n = r->block_count();
    if (n == 0 || n > rr.block_count()) {
      co_return Status::Protocol("source returned " + std::to_string(n) + " blocks");
    }
    auto shared = std::make_shared<const Buffer>(std::move(payload));
    Status st = co_await net::RunBlocking(disk_, [&]() -> Status {
      ASSIGN_OR_RETURN(store::PieceLayout layout,
                       store::ValidatePiece(shared->span(), offset, block, n));
      return store_.WritePiece(key, layout, shared->span());
    });
    CO_RETURN_IF_ERROR(st);
    offset += shared->size();
    block += n;
  }
  const store::CommitSpec spec{req.total_blocks(), req.total_stored(), req.total_raw(),
                               /*fsync=*/true};
  CO_RETURN_IF_ERROR(co_await net::RunBlocking(disk_, [&] { return store_.Commit(key, spec); }));
  co_return offset;
}

net::Awaitable<Status> ChunkService::Replicate(net::CallContext& ctx,
                                               const proto::ChunkReplicateRequest& req,
                                               proto::ChunkReplicateResponse* resp) {
  const store::ChunkKey key{req.chunk_id(), req.version()};
  if (req.total_blocks() > store::kMaxBlocksPerChunk ||
      req.total_stored() > store::kMaxChunkStoredBytes) {
    co_return Status::InvalidArgument(key.ToString() + ": chunk too large to replicate");
  }
  if (req.sources().empty()) {
    co_return Status::InvalidArgument(key.ToString() + ": no source replica named");
  }
  if (store_.Stat(key).ok()) {
    // Already here: a retried request, or metad replacing a copy someone
    // reported bad. Verify it; a corrupt one is quarantined and copied anew.
    Result<uint64_t> verified = co_await net::RunBlocking(disk_, [&] { return store_.Verify(key); });
    if (verified.ok()) {
      replicate_stats_.done.fetch_add(1, std::memory_order_relaxed);
      resp->set_bytes(0);
      co_return Status::Ok();
    }
    if (verified.status().code() != proto::CORRUPTION) co_return verified.status();
  }
  std::string errors;
  for (const proto::NodeAddress& src : req.sources()) {
    if (src.node_id() == store_.node_id() || src.address().empty()) continue;
    Result<uint64_t> copied = co_await CopyFrom(req, src.address(), ctx.trace);
    if (copied.ok()) {
      store_.ForgetLost(key);
      replicate_stats_.done.fetch_add(1, std::memory_order_relaxed);
      replicate_stats_.bytes.fetch_add(*copied, std::memory_order_relaxed);
      resp->set_bytes(*copied);
      LOG_INFO("replicated {} from {} ({} bytes) trace={}", key.ToString(), src.address(), *copied,
               net::TraceHex(ctx.trace));
      co_return Status::Ok();
    }
    store_.AbortWrite(key);
    if (!errors.empty()) errors += "; ";
    errors += src.address() + ": " + copied.status().ToString();
  }
  replicate_stats_.failed.fetch_add(1, std::memory_order_relaxed);
  LOG_WARN("cannot replicate {}: {} trace={}", key.ToString(), errors, net::TraceHex(ctx.trace));
  co_return Status::Unavailable("no source could supply " + key.ToString() + " (" + errors + ")");
}

}  // namespace granary::storage::service
