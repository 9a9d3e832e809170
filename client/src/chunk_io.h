#pragma once
// Chunk I/O against chunk servers: pieces down a replica chain, the chain
// commit, and ranged block reads with replica failover. Every call carries
// the trace id of the file operation it serves (net/trace.h), and its
// failures name it.

#include <optional>
#include <vector>

#include "client/src/client_context.h"
#include "common/codec/block.h"
#include "common/proto/granary.pb.h"

namespace granary::client {

// Sends one piece (whole encoded blocks) of chunk `chunk` to the head of its
// replica chain; completes when every replica has stored it.
net::Awaitable<Status> SendPiece(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                 uint32_t first_block, uint32_t block_count, uint64_t offset,
                                 net::SharedBuffer piece, net::TraceId trace);

// Commits a fully sent chunk on every replica of its chain.
net::Awaitable<Status> CommitOnChain(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                     bool fsync, net::TraceId trace);

// Reads blocks [first_block, first_block + count) of a chunk and returns the
// encoded blocks (header + stored bytes, back to back). Tries the replicas in
// order starting at `preferred`, moving on after an error or timeout.
// `*served` (when given) is the index of the replica that answered.
net::Awaitable<Result<Buffer>> ReadBlocks(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                          uint32_t first_block, uint32_t count, size_t preferred,
                                          net::TraceId trace, size_t* served = nullptr);

// Reads blocks [first, first + dests.size()) of a chunk stored raw straight
// into `dests` (each exactly its block's length) from a replica on this
// host (LocalChunks::ReadRawInto), trying the replicas from `preferred` on.
// nullopt when no local replica can serve it this way: use ReadBlocks.
// `*served` is the replica that answered (also on CHECKSUM_MISMATCH).
net::Awaitable<std::optional<Status>> ReadLocalInto(ClientContext& ctx,
                                                    const proto::ChunkInfo& chunk, uint32_t first,
                                                    std::vector<MutableByteSpan> dests,
                                                    size_t preferred, size_t* served);

// Tells metad, in the background, that replica `index` of `chunk` returned
// bytes that failed verification, so it is replaced (docs/reliability.md).
void ReportBadReplica(ClientContext& ctx, const proto::ChunkInfo& chunk, size_t index,
                      const Status& why, net::TraceId trace);

// A ranged read of one block (ChunkReadRequest.range_*): the segments that
// cover the range (segments = true: header, segment bytes, checksums), or the
// whole encoded block when it is not segmented.
struct RangeReply {
  bool segments = false;
  uint32_t first_segment = 0;
  Buffer payload;
};
net::Awaitable<Result<RangeReply>> ReadRange(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                             uint32_t block, uint32_t offset, uint32_t length,
                                             size_t preferred, net::TraceId trace);

// ReadRange from a replica on this host, on the calling thread (blocking):
// the replicas in turn from `preferred`, those known to be remote skipped.
// nullopt when none can be read locally: use ReadRange.
std::optional<RangeReply> ReadRangeLocal(ClientContext& ctx, const proto::ChunkInfo& chunk,
                                         uint32_t block, uint32_t offset, uint32_t length,
                                         size_t preferred);

// One decoded view into a read reply.
struct EncodedBlockRef {
  codec::BlockHeader header;
  ByteSpan stored;
};

// Splits a read reply into its blocks, validating every header and length
// against the reply size; CORRUPTION names the chunk on any mismatch.
Result<std::vector<EncodedBlockRef>> SplitBlocks(const proto::ChunkInfo& chunk, ByteSpan reply,
                                                 uint32_t expected);

}  // namespace granary::client
