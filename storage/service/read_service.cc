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

#include "common/log.h"
#include "storage/service/blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {

namespace {

Status PreadAll(int fd, uint8_t* out, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status::IoError(std::string("reading chunk file: ") +
                             (n < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

// The segments of one kRawSegmented block covering raw bytes [off, off+len),
// as header + segment bytes + their checksums; null when the block is not
// segmented (the caller then sends it whole). Runs on the disk pool.
Result<std::shared_ptr<const Buffer>> ChunkService::ReadSegments(const store::BlockRange& r,
                                                                 uint32_t off, uint32_t len) {
  const int fd = r.file->fd.get();
  uint8_t hdr[codec::kBlockHeaderSize];
  RETURN_IF_ERROR(PreadAll(fd, hdr, sizeof hdr, r.offset));
  ASSIGN_OR_RETURN(codec::BlockHeader h, codec::ParseBlockHeader(ByteSpan(hdr, sizeof hdr)));
  if (h.codec != codec::CodecId::kRawSegmented) {
    // Sent whole with sendfile after all: start reading it now, on this
    // disk thread (LocateBlocks left it out for the range).
    (void)::posix_fadvise(fd, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                          POSIX_FADV_WILLNEED);
    return std::shared_ptr<const Buffer>();
  }
  if (h.encoded_size() != r.length) {
    return Status::Corruption("block header disagrees with the block table");
  }
  if (uint64_t(off) + len > h.raw_len) {
    return Status::InvalidArgument("range " + std::to_string(off) + "+" + std::to_string(len) +
                                   " past the block's " + std::to_string(h.raw_len) + " bytes");
  }
  const uint32_t s0 = off / codec::kSegmentSize;
  const uint32_t s1 = (off + len + codec::kSegmentSize - 1) / codec::kSegmentSize;
  const uint64_t b0 = uint64_t(s0) * codec::kSegmentSize;
  const uint64_t b1 = std::min<uint64_t>(h.raw_len, uint64_t(s1) * codec::kSegmentSize);
  const size_t sums = 8ull * (s1 - s0);
  auto out = std::make_shared<Buffer>(codec::kBlockHeaderSize + (b1 - b0) + sums);
  std::memcpy(out->data(), hdr, sizeof hdr);
  const uint64_t stored = r.offset + codec::kBlockHeaderSize;
  RETURN_IF_ERROR(PreadAll(fd, out->data() + sizeof hdr, b1 - b0, stored + b0));
  RETURN_IF_ERROR(PreadAll(fd, out->data() + sizeof hdr + (b1 - b0), sums,
                           stored + h.raw_len + 8ull * s0));
  return std::shared_ptr<const Buffer>(std::move(out));
}

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
    Result<std::shared_ptr<const Buffer>> range = co_await RunBlocking(disk_, [&] {
      return ReadSegments(*r, req.range_offset(), req.range_length());
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
