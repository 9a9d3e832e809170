#include "client/src/chunk_io.h"

#include <algorithm>
#include <optional>
#include <string>

#include "common/net/run_blocking.h"

namespace granary::client {
namespace {

std::string ChunkName(const proto::ChunkInfo& c) {
  return "chunk " + std::to_string(c.chunk_id()) + " v" + std::to_string(c.version());
}

// The request addressed to the chain head: the rest of the chain rides along.
void FillChain(const proto::ChunkInfo& chunk, proto::ChunkWriteRequest* req) {
  req->set_chunk_id(chunk.chunk_id());
  req->set_version(chunk.version());
  for (int i = 1; i < chunk.replicas_size(); ++i) *req->add_chain() = chunk.replicas(i);
}

}  // namespace

net::Awaitable<Status> SendPiece(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                 uint32_t first_block, uint32_t block_count, uint64_t offset,
                                 net::SharedBuffer piece, net::TraceId trace) {
  if (chunk.replicas().empty()) co_return Status::Internal(ChunkName(chunk) + " has no replicas");
  proto::ChunkWriteRequest req;
  FillChain(chunk, &req);
  req.set_offset(offset);
  req.set_first_block(first_block);
  req.set_block_count(block_count);
  const std::string& head = chunk.replicas(0).address();
  auto r = co_await ctx.chunk_servers().Call<proto::ChunkWriteResponse>(
      head, proto::CHUNK_WRITE, req, ctx.timeout(), std::move(piece), nullptr, trace);
  if (!r.ok()) {
    co_return net::WithTrace(r.status().WithContext("writing " + ChunkName(chunk) + " block " +
                                                    std::to_string(first_block) + " via " + head),
                             trace);
  }
  co_return Status::Ok();
}

net::Awaitable<Status> CommitOnChain(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                     bool fsync, net::TraceId trace) {
  if (chunk.replicas().empty()) co_return Status::Internal(ChunkName(chunk) + " has no replicas");
  proto::ChunkWriteRequest req;
  FillChain(chunk, &req);
  req.set_commit(true);
  req.set_total_blocks(chunk.block_count());
  req.set_total_stored(chunk.stored_length());
  req.set_total_raw(chunk.length());
  req.set_fsync(fsync);
  const std::string& head = chunk.replicas(0).address();
  auto r = co_await ctx.chunk_servers().Call<proto::ChunkWriteResponse>(
      head, proto::CHUNK_WRITE, req, ctx.timeout(), nullptr, nullptr, trace);
  if (!r.ok()) {
    co_return net::WithTrace(
        r.status().WithContext("committing " + ChunkName(chunk) + " via " + head), trace);
  }
  co_return Status::Ok();
}

namespace {

// Sends one CHUNK_READ to the replicas in turn, starting at `preferred`, until
// one answers with the number of blocks asked for. The error names every
// replica tried and `what` was asked.
net::Awaitable<Status> ReadFromReplicas(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                        const proto::ChunkReadRequest& req, size_t preferred,
                                        const std::string& what, net::TraceId trace,
                                        proto::ChunkReadResponse* resp, Buffer* payload,
                                        size_t* served = nullptr) {
  const int n = chunk.replicas_size();
  if (n == 0) co_return Status::Unavailable(ChunkName(chunk) + " has no replicas");
  // Replicas in turn from `preferred`; with local reads on, those known to
  // be on other hosts go last, so a client beside a chunk server reads its
  // replicas from their files whenever that server holds one.
  std::vector<size_t> order(static_cast<size_t>(n));
  for (int a = 0; a < n; ++a) order[static_cast<size_t>(a)] = (preferred + a) % n;
  if (LocalChunks* local = ctx.local_chunks()) {
    std::stable_partition(order.begin(), order.end(), [&](size_t i) {
      return !local->KnownRemote(chunk.replicas(static_cast<int>(i)).address());
    });
  }
  std::string errors;
  for (const size_t index : order) {
    const auto& replica = chunk.replicas(index);
    if (served) *served = index;
    if (LocalChunks* local = ctx.local_chunks()) {
      // A replica on this host is read from its file; anything that keeps
      // that from working falls through to the network below.
      bool segments = false;
      std::optional<Buffer> got = co_await net::RunBlocking(ctx.local_read_executor(), [&] {
        return req.range_length() > 0
                   ? local->ReadRange(replica.address(), chunk, req.first_block(),
                                      req.range_offset(), req.range_length(), &segments)
                   : local->ReadBlocks(replica.address(), chunk, req.first_block(),
                                       req.block_count());
      });
      if (got) {
        resp->set_block_count(req.block_count());
        resp->set_segments(segments);
        resp->set_first_segment(segments ? req.range_offset() / codec::kSegmentSize : 0);
        *payload = std::move(*got);
        co_return Status::Ok();
      }
    }
    auto r = co_await ctx.chunk_servers().Call<proto::ChunkReadResponse>(
        replica.address(), proto::CHUNK_READ, req, ctx.timeout(), nullptr, payload, trace);
    if (!errors.empty()) errors += "; ";
    if (!r.ok()) {
      errors += replica.address() + ": " + r.status().ToString();
      continue;
    }
    if (r->block_count() != req.block_count()) {
      errors += replica.address() + ": returned " + std::to_string(r->block_count()) +
                " blocks, asked for " + std::to_string(req.block_count());
      continue;
    }
    *resp = std::move(*r);
    co_return Status::Ok();
  }
  co_return net::WithTrace(Status::Unavailable("no replica of " + ChunkName(chunk) +
                                               " could serve " + what + " (" + errors + ")"),
                           trace);
}

}  // namespace

net::Awaitable<std::optional<Status>> ReadLocalInto(ClientContext& ctx,
                                                    const proto::ChunkInfo& chunk, uint32_t first,
                                                    std::vector<MutableByteSpan> dests,
                                                    size_t preferred, size_t* served) {
  LocalChunks* local = ctx.local_chunks();
  const int n = chunk.replicas_size();
  if (local == nullptr || n == 0) co_return std::nullopt;
  for (int a = 0; a < n; ++a) {
    const size_t index = (preferred + a) % n;
    const std::string& address = chunk.replicas(static_cast<int>(index)).address();
    if (local->KnownRemote(address)) continue;
    std::optional<Status> r = co_await net::RunBlocking(
        ctx.local_read_executor(), [&] { return local->ReadRawInto(address, chunk, first, dests); });
    if (!r) continue;  // not readable here; maybe another replica is
    if (r->code() == proto::UNIMPLEMENTED) co_return std::nullopt;  // not raw: no replica will do
    if (served) *served = index;
    co_return r;
  }
  co_return std::nullopt;
}

namespace {

proto::ChunkReadRequest ReadRequest(const proto::ChunkInfo& chunk, uint32_t first_block,
                                    uint32_t count) {
  proto::ChunkReadRequest req;
  req.set_chunk_id(chunk.chunk_id());
  req.set_version(chunk.version());
  req.set_first_block(first_block);
  req.set_block_count(count);
  return req;
}

}  // namespace

net::Awaitable<Result<Buffer>> ReadBlocks(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                          uint32_t first_block, uint32_t count, size_t preferred,
                                          net::TraceId trace, size_t* served) {
  proto::ChunkReadResponse resp;
  Buffer payload;
  CO_RETURN_IF_ERROR(co_await ReadFromReplicas(
      ctx, chunk, ReadRequest(chunk, first_block, count), preferred,
      "blocks " + std::to_string(first_block) + "+" + std::to_string(count), trace, &resp,
      &payload, served));
  co_return payload;
}

void ReportBadReplica(ClientContext& ctx, const proto::ChunkInfo& chunk, size_t index,
                      const Status& why, net::TraceId trace) {
  if (index >= static_cast<size_t>(chunk.replicas_size())) return;
  proto::ReportReplicasRequest req;
  req.set_node_id(chunk.replicas(static_cast<int>(index)).node_id());
  proto::ChunkRef* ref = req.add_chunks();
  ref->set_chunk_id(chunk.chunk_id());
  ref->set_version(chunk.version());
  req.set_reason("client read: " + why.message().substr(0, 150));
  // Best effort: the read already moved on to another replica.
  asio::co_spawn(
      ctx.io(),
      [&ctx, req = std::move(req), trace]() -> net::Awaitable<void> {
        (void)co_await ctx.Meta<proto::ReportReplicasResponse>(proto::META_REPORT_REPLICAS, req,
                                                               trace);
      },
      asio::detached);
}

net::Awaitable<Result<RangeReply>> ReadRange(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                             uint32_t block, uint32_t offset, uint32_t length,
                                             size_t preferred, net::TraceId trace) {
  proto::ChunkReadRequest req = ReadRequest(chunk, block, 1);
  req.set_range_offset(offset);
  req.set_range_length(length);
  proto::ChunkReadResponse resp;
  RangeReply out;
  CO_RETURN_IF_ERROR(co_await ReadFromReplicas(
      ctx, chunk, req, preferred,
      "block " + std::to_string(block) + " bytes " + std::to_string(offset) + "+" +
          std::to_string(length),
      trace, &resp, &out.payload));
  out.segments = resp.segments();
  out.first_segment = resp.first_segment();
  co_return out;
}

std::optional<RangeReply> ReadRangeLocal(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                         uint32_t block, uint32_t offset, uint32_t length,
                                         size_t preferred) {
  LocalChunks* local = ctx.local_chunks();
  const int n = chunk.replicas_size();
  if (local == nullptr || n == 0) return std::nullopt;
  for (int a = 0; a < n; ++a) {
    const std::string& address = chunk.replicas(static_cast<int>((preferred + a) % n)).address();
    if (local->KnownRemote(address)) continue;
    RangeReply out;
    std::optional<Buffer> got =
        local->ReadRange(address, chunk, block, offset, length, &out.segments);
    if (!got) continue;
    out.first_segment = out.segments ? offset / codec::kSegmentSize : 0;
    out.payload = std::move(*got);
    return out;
  }
  return std::nullopt;
}

Result<std::vector<EncodedBlockRef>> SplitBlocks(const proto::ChunkInfo& chunk, ByteSpan reply,
                                                 uint32_t expected) {
  std::vector<EncodedBlockRef> blocks;
  blocks.reserve(expected);
  size_t pos = 0;
  for (uint32_t i = 0; i < expected; ++i) {
    auto h = codec::ParseBlockHeader(reply.subspan(pos));
    if (!h.ok()) return h.status().WithContext(ChunkName(chunk) + " block reply #" + std::to_string(i));
    if (reply.size() - pos < h->encoded_size()) {
      return Status::Corruption(ChunkName(chunk) + ": read reply truncated in block #" +
                                std::to_string(i));
    }
    blocks.push_back({*h, reply.subspan(pos + codec::kBlockHeaderSize, h->stored_len)});
    pos += h->encoded_size();
  }
  if (pos != reply.size()) {
    return Status::Corruption(ChunkName(chunk) + ": " + std::to_string(reply.size() - pos) +
                              " unexpected bytes after the last block");
  }
  return blocks;
}

}  // namespace granary::client
