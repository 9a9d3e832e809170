#pragma once
// On-disk format of one chunk replica (full spec: storage/FORMAT.md), shared
// by the chunk server (storage/store) and clients reading replicas locally.
//
// A chunk file holds the chunk's encoded blocks back to back, exactly the
// bytes the wire carried (block header + stored bytes each, see
// common/codec/block.h), followed by a footer:
//
//   blocks      total_stored bytes
//   index       (format 2) index_size bytes: per block, u8 codec then a copy
//               of its segment table (SegmentTableSize bytes, none for
//               unsegmented codecs)
//   block table block_count entries of kBlockEntrySize bytes (BlockEntry)
//   trailer     kTrailerSize bytes:
//     u32 magic "GCHK"  u16 format_version  u16 reserved (0)
//     u32 block_count   u32 reserved (0)
//     u64 total_raw     u64 total_stored
//     u64 chunk_id      u64 version
//     u64 index_size    (format 1: reserved, 0)
//     u64 footer_xxh3   XXH3-64 of the index, the block table and the 56
//                       trailer bytes before it
//
// The index lets a small read of a segmented block go straight to the
// segments it needs, with one read of the file: without it the reader reads
// the block's header and table first (two or three dependent disk reads on
// cold data). Format-1 files (no index) are still read.
//
// All integers little-endian. The table lets a reader serve any block range
// with one pread and no scan. Everything here is pure (no I/O) and
// thread-compatible.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"

namespace granary::codec {

inline constexpr uint32_t kChunkMagic = 0x4B484347;  // bytes "GCHK"
inline constexpr uint16_t kChunkFormatVersion = 2;
inline constexpr uint16_t kOldestChunkFormatVersion = 1;
inline constexpr size_t kBlockEntrySize = 32;
inline constexpr size_t kTrailerSize = 64;
// Bounds on what one chunk may hold, checked before anything is allocated or
// written. 64 Ki blocks keep the table at 2 MiB; 4 GiB is 64x the default chunk.
inline constexpr uint32_t kMaxBlocksPerChunk = 1u << 16;
inline constexpr uint64_t kMaxChunkStoredBytes = 4ull << 30;

// Identifies one replica: a chunk id and one of its versions.
struct ChunkKey {
  uint64_t chunk_id = 0;
  uint64_t version = 0;
  bool operator==(const ChunkKey&) const = default;
  auto operator<=>(const ChunkKey&) const = default;
  // "chunk 00000000000000ab v3", for messages and logs.
  std::string ToString() const;
};

struct ChunkKeyHash {
  size_t operator()(const ChunkKey& k) const {
    return std::hash<uint64_t>()(k.chunk_id * 0x9E3779B97F4A7C15ull ^ k.version);
  }
};

struct BlockHeader;  // block.h

// One block as the table records it. `offset` is where the block's header
// starts in the file; the block occupies kBlockHeaderSize + stored_len bytes.
struct BlockEntry {
  uint64_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint64_t stored_xxh3 = 0;
  uint64_t raw_xxh3 = 0;

  uint64_t encoded_size() const;
  uint64_t end() const { return offset + encoded_size(); }
  // `h` (a header read from the file) agrees with this entry: both lengths
  // and both checksums.
  bool Describes(const BlockHeader& h) const;
  bool operator==(const BlockEntry&) const = default;
};

// One block in the footer's index: its codec (block.h CodecId) and a copy of
// its segment table (empty unless the codec is segmented).
struct BlockIndexEntry {
  uint8_t codec = 0;
  std::vector<uint8_t> table;
  bool operator==(const BlockIndexEntry&) const = default;
};

struct ChunkFooter {
  ChunkKey key;
  uint64_t total_raw = 0;
  uint64_t total_stored = 0;
  std::vector<BlockEntry> blocks;
  // One per block (format 2), or empty (format 1: written without an index).
  std::vector<BlockIndexEntry> index;

  uint64_t index_size() const;
  uint64_t footer_size() const {
    return index_size() + blocks.size() * kBlockEntrySize + kTrailerSize;
  }
  uint64_t file_size() const { return total_stored + footer_size(); }
};

// Serializes the footer (index + table + trailer); format 2 when `index` is
// set, else format 1. Precondition: ValidateBlockTable ok, and `index` empty
// or one entry per block.
Buffer EncodeFooter(const ChunkFooter& footer);

// What the trailer says, before the table has been read.
struct TrailerInfo {
  ChunkKey key;
  uint32_t block_count = 0;
  uint64_t total_raw = 0;
  uint64_t total_stored = 0;
  uint64_t footer_xxh3 = 0;
  uint64_t index_size = 0;  // 0 in format 1
  uint64_t table_size() const { return uint64_t{block_count} * kBlockEntrySize; }
  // Index, table and trailer: the bytes from total_stored to the end.
  uint64_t footer_offset() const { return total_stored; }
  uint64_t footer_size() const { return index_size + table_size() + kTrailerSize; }
};

// Parses the last kTrailerSize bytes of a file of `file_size` bytes and checks
// magic, version, bounds and that the sizes add up to `file_size`. The
// checksum is checked by ParseFooter once the whole footer is read. CORRUPTION
// on error.
Result<TrailerInfo> ParseTrailer(ByteSpan trailer, uint64_t file_size);

// Parses the whole footer (the last TrailerInfo::footer_size() bytes of a
// file of `file_size` bytes), verifies footer_xxh3, the table
// (ValidateBlockTable) and every index entry against its block's lengths.
// CORRUPTION on error.
Result<ChunkFooter> ParseFooter(ByteSpan footer, uint64_t file_size);

// Checks that `blocks` tile [0, total_stored) in order with no gap or overlap,
// that every block's lengths are within codec bounds, and that raw lengths
// sum to total_raw. CORRUPTION naming the first offending block.
Status ValidateBlockTable(const std::vector<BlockEntry>& blocks, uint64_t total_stored,
                          uint64_t total_raw);

// A validated piece of a chunk write: where its blocks go.
struct PieceLayout {
  uint64_t offset = 0;  // chunk byte offset of the piece
  uint32_t first_block = 0;
  std::vector<BlockEntry> blocks;  // offsets are absolute within the chunk
  std::vector<BlockIndexEntry> index;  // one per block, for the footer
};

// Validates a write piece: `payload` must be exactly `block_count` encoded
// blocks, each with a well-formed header and a matching stored checksum, and
// the piece must stay within kMaxBlocksPerChunk and kMaxChunkStoredBytes.
// Errors name the block: INVALID_ARGUMENT (shape), CORRUPTION (header),
// CHECKSUM_MISMATCH (stored bytes).
Result<PieceLayout> ValidatePiece(ByteSpan payload, uint64_t offset, uint32_t first_block,
                                  uint32_t block_count);

// File names: "<chunk_id as 16 hex digits>.<version in decimal>".
std::string ChunkFileName(const ChunkKey& key);
// Subfolder of chunks/ for a chunk: two hex digits of the id's low byte.
std::string ChunkSubdirName(uint64_t chunk_id);
// Parses a committed chunk file name; nullopt for anything else.
std::optional<ChunkKey> ParseChunkFileName(std::string_view name);

}  // namespace granary::codec
