// CHUNK_READ and CHUNK_STAT.
//
// The server sends stored (possibly compressed) blocks with their headers and
// never decodes: the client decodes and checks raw_xxh3 end to end, so the
// network carries fewer bytes and the server spends no CPU on codecs.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/codec/block.h"
#include "common/codec/block_index.h"

#include "common/log.h"
#include "common/net/run_blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {

// The segments of one segmented block covering raw bytes [off, off+len), as
// codec::ReadSegmentRange lays them out: one read of the file once the
// block's index is cached with the open file. Null when the block is not
// segmented (the caller then sends it whole). Runs on the disk pool.
Result<std::shared_ptr<const Buffer>> ChunkService::ReadSegments(const store::BlockRange& r,
                                                                 uint32_t block, uint32_t off,
                                                                 uint32_t len) {
  const int fd = r.file->fd.get();
  ASSIGN_OR_RETURN(std::shared_ptr<const codec::BlockIndex> index,
                   r.file->index.Get(fd, r.file->footer, block, r.file->path));
  if (!index->segmented()) {
    // Sent whole with sendfile after all: start reading it now, on this
    // disk thread (LocateBlocks left it out for the range).
    (void)::posix_fadvise(fd, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                          POSIX_FADV_WILLNEED);
    return std::shared_ptr<const Buffer>();
  }
  ASSIGN_OR_RETURN(Buffer segments, codec::ReadSegmentRange(fd, r.file->footer.blocks[block],
                                                            *index, off, len));
  return std::make_shared<const Buffer>(std::move(segments));
}

net::Awaitable<Status> ChunkService::Read(net::CallContext& ctx, const proto::ChunkReadRequest& req,
                                          proto::ChunkReadResponse* resp) {
  const store::ChunkKey key{req.chunk_id(), req.version()};
  if (!ctx.payload.empty()) {
    co_return Status::InvalidArgument(key.ToString() + ": a read request carries no payload");
  }
  // The blocks go out with sendfile straight from the page cache; only their
  // headers are read here, to check them against the block table.
  Result<store::BlockRange> r = co_await net::RunBlocking(disk_, [&] {
    return store_.LocateBlocks(key, req.first_block(), req.block_count(), options_.max_read_blocks,
                               options_.max_read_bytes, /*prefetch=*/req.range_length() == 0);
  });
  if (!r.ok()) {
    if (r.status().code() != proto::CHUNK_NOT_FOUND &&
        r.status().code() != proto::INVALID_ARGUMENT) {
      LOG_ERROR("read of {} failed: {}", key.ToString(), r.status().ToString());
    }
    co_return r.status();
  }
  resp->set_block_count(r->block_count);
  resp->set_total_blocks(r->total_blocks);
  if (req.range_length() > 0 && r->block_count == 1 && r->length > 0) {
    Result<std::shared_ptr<const Buffer>> range = co_await net::RunBlocking(disk_, [&] {
      return ReadSegments(*r, req.first_block(), req.range_offset(), req.range_length());
    });
    if (!range.ok()) co_return range.status().WithContext(key.ToString());
    if (*range) {
      // First segment index is in the reply header: offset / segment size.
      resp->set_segments(true);
      resp->set_first_segment(req.range_offset() / codec::kSegmentSize);
      ctx.reply_payload = std::move(*range);
      co_return Status::Ok();
    }
    // Not a segmented block: it goes out whole below.
  }
  if (r->length > 0) {
    const int fd = r->file->fd.get();
    ctx.reply_file = net::FilePayload{r->file, fd, r->offset, r->length};
  }
  co_return Status::Ok();
}

net::Awaitable<Status> ChunkService::Stat(net::CallContext& /*ctx*/,
                                          const proto::ChunkStatRequest& req,
                                          proto::ChunkStatResponse* resp) {
  // An index lookup in memory: no disk, so it runs right here.
  Result<store::ChunkMeta> meta = store_.Stat({req.chunk_id(), req.version()});
  if (!meta.ok()) co_return meta.status();
  resp->set_stored_length(meta->total_stored);
  resp->set_raw_length(meta->total_raw);
  resp->set_block_count(meta->block_count);
  resp->set_path(meta->path);
  co_return Status::Ok();
}

}  // namespace granary::storage::service
