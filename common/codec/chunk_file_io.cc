#include "common/codec/chunk_file_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/codec/block.h"

namespace granary::codec {

Status PReadExact(int fd, MutableByteSpan out, uint64_t offset, std::string_view what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + std::string(what) + ": " + std::strerror(errno));
    }
    if (n == 0) {
      return Status::Corruption(std::string(what) + " ends at " + std::to_string(offset + done) +
                                ", expected at least " + std::to_string(offset + out.size()));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<ChunkFooter> ReadChunkFooter(int fd, uint64_t file_size, std::string_view what) {
  if (file_size < kTrailerSize) {
    return Status::Corruption(std::string(what) + " is " + std::to_string(file_size) +
                              " bytes, too short for a chunk file");
  }
  uint8_t trailer[kTrailerSize];
  RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(trailer, sizeof trailer),
                             file_size - kTrailerSize, what));
  Result<TrailerInfo> info = ParseTrailer(ByteSpan(trailer, sizeof trailer), file_size);
  if (!info.ok()) return info.status().WithContext(what);
  Buffer footer(info->table_size() + kTrailerSize);
  RETURN_IF_ERROR(PReadExact(fd, footer.span(), info->table_offset(), what));
  Result<ChunkFooter> parsed = ParseFooter(footer.span(), file_size);
  if (!parsed.ok()) return parsed.status().WithContext(what);
  return parsed;
}

Result<std::optional<Buffer>> ReadSegmentRange(int fd, uint64_t block_offset,
                                               uint64_t block_length, uint32_t off,
                                               uint32_t len) {
  uint8_t hdr[kBlockHeaderSize];
  RETURN_IF_ERROR(
      PReadExact(fd, MutableByteSpan(hdr, sizeof hdr), block_offset, "block header"));
  ASSIGN_OR_RETURN(BlockHeader h, ParseBlockHeader(ByteSpan(hdr, sizeof hdr)));
  if (h.codec != CodecId::kRawSegmented && h.codec != CodecId::kZstdSegmented) {
    return std::optional<Buffer>();
  }
  if (h.encoded_size() != block_length) {
    return Status::Corruption("block header disagrees with the block table");
  }
  if (uint64_t(off) + len > h.raw_len || len == 0) {
    return Status::InvalidArgument("range " + std::to_string(off) + "+" + std::to_string(len) +
                                   " past the block's " + std::to_string(h.raw_len) + " bytes");
  }
  const uint32_t s0 = off / kSegmentSize;
  const uint32_t s1 = (off + len + kSegmentSize - 1) / kSegmentSize;
  if (h.codec == CodecId::kZstdSegmented) {
    // The table (12 bytes per segment) says where the frames are; the reply
    // carries all of it, so the reader can check it the same way.
    const size_t table_len = ZstdSegmentTableSize(h.raw_len);
    Buffer table(table_len);
    RETURN_IF_ERROR(PReadExact(fd, table.span(), block_offset + kBlockHeaderSize, "frame table"));
    ASSIGN_OR_RETURN(ZstdSegmentTable t, ParseZstdSegmentTable(h, table.span()));
    const uint64_t f0 = t.frame_offset[s0];
    const uint64_t f1 = t.frame_offset[s1 - 1] + t.frame_len[s1 - 1];
    Buffer out(kBlockHeaderSize + table_len + (f1 - f0));
    std::memcpy(out.data(), hdr, sizeof hdr);
    std::memcpy(out.data() + sizeof hdr, table.data(), table_len);
    RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(out.data() + sizeof hdr + table_len, f1 - f0),
                               block_offset + kBlockHeaderSize + f0, "segment frames"));
    return std::optional<Buffer>(std::move(out));
  }
  const uint64_t b0 = uint64_t(s0) * kSegmentSize;
  const uint64_t b1 = std::min<uint64_t>(h.raw_len, uint64_t(s1) * kSegmentSize);
  const size_t sums = 8ull * (s1 - s0);
  Buffer out(kBlockHeaderSize + (b1 - b0) + sums);
  std::memcpy(out.data(), hdr, sizeof hdr);
  const uint64_t stored = block_offset + kBlockHeaderSize;
  RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(out.data() + sizeof hdr, b1 - b0), stored + b0,
                             "block segments"));
  RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(out.data() + sizeof hdr + (b1 - b0), sums),
                             stored + h.raw_len + 8ull * s0, "segment checksums"));
  return std::optional<Buffer>(std::move(out));
}

}  // namespace granary::codec
