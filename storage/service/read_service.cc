// CHUNK_READ and CHUNK_STAT.
//
// The server sends stored (possibly compressed) blocks with their headers and
// never decodes: the client decodes and checks raw_xxh3 end to end, so the
// network carries fewer bytes and the server spends no CPU on codecs.
#include <algorithm>

#include "common/log.h"
#include "storage/service/blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {

net::Awaitable<Status> ChunkService::Read(net::CallContext& ctx, const proto::ChunkReadRequest& req,
                                          proto::ChunkReadResponse* resp) {
  const store::ChunkKey key{req.chunk_id(), req.version()};
  if (!ctx.payload.empty()) {
    co_return Status::InvalidArgument(key.ToString() + ": a read request carries no payload");
  }
  // The blocks go out with sendfile straight from the page cache; only their
  // headers are read here, to check them against the block table.
  Result<store::BlockRange> r = co_await RunBlocking(disk_, [&] {
    return store_.LocateBlocks(key, req.first_block(), req.block_count(), options_.max_read_blocks,
                               options_.max_read_bytes);
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
