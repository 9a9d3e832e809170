#include "common/codec/block_index.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/codec/chunk_file_io.h"

namespace granary::codec {
namespace {

// Sets `index.table` to `bytes` and, for a segmented zstd block, parses it
// into `index.frames` (CORRUPTION when its frames do not fill the block).
Status SetTable(BlockIndex& index, ByteSpan bytes) {
  index.table = Buffer(bytes.size());
  if (!bytes.empty()) std::memcpy(index.table.data(), bytes.data(), bytes.size());
  if (index.header.codec != CodecId::kZstdSegmented) return Status::Ok();
  ASSIGN_OR_RETURN(index.frames, ParseZstdSegmentTable(index.header, index.table.span()));
  return Status::Ok();
}

}  // namespace

Result<BlockIndex> ReadBlockIndex(int fd, const BlockEntry& entry, uint32_t block,
                                  std::string_view what) {
  const std::string name = std::string(what) + " block " + std::to_string(block);
  BlockIndex index;
  // Header and a zstd frame table are adjacent: one read covers both when
  // the table's size (known from the entry's raw length) is read along.
  const size_t zstd_table = ZstdSegmentTableSize(entry.raw_len);
  const size_t front = std::min<uint64_t>(kBlockHeaderSize + zstd_table, entry.encoded_size());
  Buffer head(front);
  RETURN_IF_ERROR(PReadExact(fd, head.span(), entry.offset, name));
  std::memcpy(index.header_bytes, head.data(), kBlockHeaderSize);
  Result<BlockHeader> h = ParseBlockHeader(head.span());
  if (!h.ok()) return h.status().WithContext(name);
  if (!entry.Describes(*h)) {
    return Status::Corruption(name + " header disagrees with the block table");
  }
  index.header = *h;
  if (h->codec == CodecId::kZstdSegmented) {
    if (head.size() < kBlockHeaderSize + zstd_table) {
      return Status::Corruption(name + ": stored bytes shorter than the frame table");
    }
    // Validates every frame length against the stored length once, here.
    RETURN_IF_ERROR(
        SetTable(index, head.span().subspan(kBlockHeaderSize, zstd_table)).WithContext(name));
  } else if (h->codec == CodecId::kRawSegmented) {
    const size_t sums = 8ull * SegmentCount(h->raw_len);
    if (h->stored_len != h->raw_len + sums) {
      return Status::Corruption(name + ": segmented block of " + std::to_string(h->stored_len) +
                                " stored bytes for " + std::to_string(h->raw_len) + " raw");
    }
    index.table = Buffer(sums);
    RETURN_IF_ERROR(
        PReadExact(fd, index.table.span(), entry.offset + kBlockHeaderSize + h->raw_len, name));
  }
  return index;
}

Result<Buffer> ReadSegmentRange(int fd, const BlockEntry& entry, const BlockIndex& index,
                                uint32_t off, uint32_t len) {
  const BlockHeader& h = index.header;
  if (!index.segmented()) return Status::Internal("segment range of a block that has none");
  if (uint64_t(off) + len > h.raw_len || len == 0) {
    return Status::InvalidArgument("range " + std::to_string(off) + "+" + std::to_string(len) +
                                   " past the block's " + std::to_string(h.raw_len) + " bytes");
  }
  const uint32_t s0 = off / kSegmentSize;
  const uint32_t s1 = (off + len + kSegmentSize - 1) / kSegmentSize;
  const uint64_t stored = entry.offset + kBlockHeaderSize;
  if (h.codec == CodecId::kZstdSegmented) {
    // The reply carries the whole table so the reader checks it the same
    // way it checks a table read from the wire.
    const ZstdSegmentTable& t = index.frames;
    const uint64_t f0 = t.frame_offset[s0];
    const uint64_t f1 = t.frame_offset[s1 - 1] + t.frame_len[s1 - 1];
    Buffer out(kBlockHeaderSize + index.table.size() + (f1 - f0));
    std::memcpy(out.data(), index.header_bytes, kBlockHeaderSize);
    std::memcpy(out.data() + kBlockHeaderSize, index.table.data(), index.table.size());
    RETURN_IF_ERROR(
        PReadExact(fd, MutableByteSpan(out.data() + kBlockHeaderSize + index.table.size(), f1 - f0),
                   stored + f0, "segment frames"));
    return out;
  }
  const uint64_t b0 = uint64_t(s0) * kSegmentSize;
  const uint64_t b1 = std::min<uint64_t>(h.raw_len, uint64_t(s1) * kSegmentSize);
  const size_t sums = 8ull * (s1 - s0);
  Buffer out(kBlockHeaderSize + (b1 - b0) + sums);
  std::memcpy(out.data(), index.header_bytes, kBlockHeaderSize);
  RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(out.data() + kBlockHeaderSize, b1 - b0),
                             stored + b0, "block segments"));
  std::memcpy(out.data() + kBlockHeaderSize + (b1 - b0), index.table.data() + 8ull * s0, sums);
  return out;
}

Result<BlockIndex> IndexFromFooter(const ChunkFooter& footer, uint32_t block) {
  const BlockEntry& e = footer.blocks[block];
  const BlockIndexEntry& ie = footer.index[block];
  BlockIndex index;
  index.header.codec = static_cast<CodecId>(ie.codec);
  index.header.raw_len = e.raw_len;
  index.header.stored_len = e.stored_len;
  index.header.stored_xxh3 = e.stored_xxh3;
  index.header.raw_xxh3 = e.raw_xxh3;
  WriteBlockHeader(index.header, index.header_bytes);
  RETURN_IF_ERROR(SetTable(index, ByteSpan(ie.table)));
  return index;
}

Result<std::shared_ptr<const BlockIndex>> BlockIndexCache::Get(int fd, const ChunkFooter& footer,
                                                               uint32_t block,
                                                               std::string_view what) const {
  const std::vector<BlockEntry>& blocks = footer.blocks;
  if (block >= blocks.size()) {
    return Status::InvalidArgument("block " + std::to_string(block) + " of " +
                                   std::to_string(blocks.size()));
  }
  {
    std::lock_guard lock(mu_);
    if (slots_.size() != blocks.size()) slots_.resize(blocks.size());
    if (slots_[block]) return slots_[block];
  }
  // Format 1 reads the block outside the lock, so a cold read does not
  // stall readers of other blocks of the same file.
  ASSIGN_OR_RETURN(BlockIndex index, footer.index.size() == blocks.size()
                                         ? IndexFromFooter(footer, block)
                                         : ReadBlockIndex(fd, blocks[block], block, what));
  auto shared = std::make_shared<const BlockIndex>(std::move(index));
  std::lock_guard lock(mu_);
  if (!slots_[block]) slots_[block] = shared;
  return slots_[block];
}

}  // namespace granary::codec
