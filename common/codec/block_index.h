#pragma once
// BlockIndex: the small parts of a stored block that say where its bytes
// lie (its header and, for segmented blocks, its segment table), read from a
// chunk file once and kept with the open file.
//
// Why: a random 4 KiB read of a cold segmented block used to cost two or
// three dependent disk reads (header, then frame table or segment checksums
// at the far end of the block, then the segments); with the index cached it
// costs one. Chunk files are immutable once committed, so an index read from
// an open descriptor stays true for as long as that descriptor is open.
//
// Sizes: a 1 MiB block's index is 32 + at most 192 bytes; a 64 MiB chunk of
// 1 MiB blocks keeps about 14 KiB. The cache holds one slot per block of
// the file's validated block table, so it is bounded by the footer.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/buffer.h"
#include "common/codec/block.h"
#include "common/codec/chunk_format.h"
#include "common/status.h"

namespace granary::codec {

struct BlockIndex {
  BlockHeader header;
  uint8_t header_bytes[kBlockHeaderSize];
  // kZstdSegmented: the frame table at the front of the stored bytes;
  // kRawSegmented: the per-segment checksums after the data; else empty.
  Buffer table;
  // kZstdSegmented: `table` parsed and checked once, so a ranged read does
  // not parse it again.
  ZstdSegmentTable frames;
  bool segmented() const {
    return header.codec == CodecId::kZstdSegmented || header.codec == CodecId::kRawSegmented;
  }
};

// Reads block `entry`'s header (and segment table) from `fd` and checks the
// header against the block table entry (lengths and both checksums).
// CORRUPTION naming `what` and the block when they disagree.
Result<BlockIndex> ReadBlockIndex(int fd, const BlockEntry& entry, uint32_t block,
                                  std::string_view what);

// The segments of one segmented block covering raw bytes [off, off + len),
// back to back (the CHUNK_READ range reply), with one read of the file:
//   kRawSegmented:  block header, segment bytes, their checksums;
//   kZstdSegmented: block header, the whole frame table, the frames.
// INVALID_ARGUMENT for an empty range or one past the block; the index must
// be segmented.
Result<Buffer> ReadSegmentRange(int fd, const BlockEntry& entry, const BlockIndex& index,
                                uint32_t off, uint32_t len);

// The index of block `block` as a format-2 footer records it (no I/O).
Result<BlockIndex> IndexFromFooter(const ChunkFooter& footer, uint32_t block);

// Per open chunk file: block number -> its index, filled on first use, from
// the footer when it has an index (format 2), else read from the file.
// Thread-safe; a slot is read at most once per racing caller.
class BlockIndexCache {
 public:
  // The index of block `block` of the file open as `fd`, whose validated
  // footer is `footer`. INVALID_ARGUMENT for a block past the table.
  Result<std::shared_ptr<const BlockIndex>> Get(int fd, const ChunkFooter& footer, uint32_t block,
                                                std::string_view what) const;

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::shared_ptr<const BlockIndex>> slots_;
};

}  // namespace granary::codec
