#pragma once
// Block codec: a chunk is a sequence of blocks, each holding up to
// kDefaultBlockSize raw bytes, compressed on its own so a random read decodes
// only what it needs. Full spec: docs/block_format.md.
//
// Encoded block = 32-byte header + stored bytes:
//   u32 magic "GBLK"  u8 codec  u8 format_version  u16 reserved (0)
//   u32 raw_len       u32 stored_len
//   u64 stored_xxh3 (XXH3-64 of the stored bytes)
//   u64 raw_xxh3    (XXH3-64 of the raw bytes)
// All little-endian. Chunk servers check stored_xxh3 on every write and scrub;
// clients check raw_xxh3 after decoding (end to end).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <span>

#include <vector>

#include "common/buffer.h"
#include "common/codec/planes.h"
#include "common/status.h"

namespace granary::codec {

// Codec ids are persistent: never renumber, only add.
enum class CodecId : uint8_t {
  kRaw = 0,   // stored bytes == raw bytes
  kZstd = 1,  // one zstd frame of the raw bytes
  // The raw bytes, then the XXH3-64 (u64 LE) of each kSegmentSize segment of
  // them: a small random read fetches and verifies only the segments it
  // needs instead of the whole block. Used for raw blocks longer than one
  // segment.
  kRawSegmented = 2,
  // Regions of byte planes (floating-point weights), each plane raw or zstd:
  // common/codec/planes.h.
  kPlanes = 3,
  // Each kSegmentSize segment compressed as its own zstd frame, after a
  // table: u32 frame length per segment, then u64 XXH3-64 of each raw
  // segment (little endian), then the frames back to back. A small random
  // read fetches and decodes only the frames it needs (64 KiB, not 1 MiB).
  // Used for compressible blocks longer than one segment; kZstd remains for
  // shorter ones (and blocks written before this codec existed).
  kZstdSegmented = 4,
};

inline constexpr uint32_t kSegmentSize = 64u << 10;
inline constexpr uint32_t SegmentCount(uint32_t raw_len) {
  return (raw_len + kSegmentSize - 1) / kSegmentSize;
}

// Bytes of segment table a block of `codec` with `raw_len` raw bytes
// carries: the frame table of kZstdSegmented (at the front of its stored
// bytes), the checksums of kRawSegmented (at the end); 0 for the others.
inline constexpr size_t SegmentTableSize(CodecId codec, uint32_t raw_len) {
  return codec == CodecId::kZstdSegmented  ? 12ull * SegmentCount(raw_len)
         : codec == CodecId::kRawSegmented ? 8ull * SegmentCount(raw_len)
                                           : 0;
}

inline constexpr uint32_t kBlockMagic = 0x4B4C4247;  // bytes "GBLK"
inline constexpr uint8_t kBlockFormatVersion = 1;
inline constexpr size_t kBlockHeaderSize = 32;
inline constexpr uint32_t kDefaultBlockSize = 1u << 20;
// Upper bound on raw bytes in one block, checked before any allocation.
inline constexpr uint32_t kMaxBlockSize = 4u << 20;

struct BlockHeader {
  CodecId codec = CodecId::kRaw;
  uint32_t raw_len = 0;
  uint32_t stored_len = 0;
  uint64_t stored_xxh3 = 0;
  uint64_t raw_xxh3 = 0;

  size_t encoded_size() const { return kBlockHeaderSize + stored_len; }
};

// A range of a block known to hold elements of one type (from a safetensors
// header): `offset` (within the block) is an element boundary.
struct TypedRange {
  uint32_t offset = 0;
  uint32_t length = 0;
  ElementType type = ElementType::kBytes;
};

// Which codec a block may get. kAuto decides per block: from `types` when
// the writer knows them, otherwise by sampling. The others force a choice
// (a per-file or per-folder setting); a forced codec that does not pay still
// falls back to raw.
enum class CodecPolicy : uint8_t {
  kAuto = 0,
  kRaw = 1,
  kZstd = 2,   // zstd over whole bytes, never planes
  kBf16 = 3,   // planes, the whole block as bf16
  kF16 = 4,
  kF32 = 5,
};
const char* CodecPolicyName(CodecPolicy p);
Result<CodecPolicy> ParseCodecPolicy(std::string_view name);

struct EncodeOptions {
  // zstd level for CodecId::kZstd. 1 is the fastest that still pays on weights.
  int zstd_level = 1;
  // Compression is kept only when it saves at least this fraction of the
  // raw size; otherwise the block is stored raw (decodes as a memcpy).
  double min_saving = 0.03;
  // Under kAuto, whole-byte zstd (codecs 1 and 4) must save at least this
  // much as well. Its Huffman decode runs at about 1.4 GB/s per core, slower
  // than a local NVMe read, so a small saving costs every later read more
  // than it saves on disk (ZFS uses the same 1/8 bar). Byte planes decode two
  // to four times faster and keep `min_saving`; a forced zstd policy (the
  // user chose capacity) keeps it too.
  double min_zstd_saving = 0.125;
  // Skip compression outright when a sample of the block does not compress
  // (random bytes, already-compressed files): keeps writes at raw speed.
  bool sample_first = true;
  CodecPolicy policy = CodecPolicy::kAuto;
  // Planes of floats coded as Huffman literals (see ThreadPlaneCCtx); false
  // runs zstd at zstd_level on them, for comparison.
  bool literal_planes = true;
  // Element types of parts of this block (sorted, not overlapping); bytes in
  // no range are plain bytes. Only read under kAuto.
  std::span<const TypedRange> types;
};

// The regions a planes block gets for `types` in a block of `block_len`
// bytes: typed ranges cut to whole elements, gaps as bytes, neighbours of
// one layout merged, at most kMaxRegions (the shortest typed ranges become
// bytes first).
std::vector<Region> BuildRegions(uint32_t block_len, std::span<const TypedRange> types);

// Largest encoded size for `raw_len` raw bytes (header included).
size_t MaxEncodedSize(size_t raw_len);

// Encodes `raw` (<= kMaxBlockSize bytes) into `out`, which must hold
// MaxEncodedSize(raw.size()) bytes. Returns the encoded size.
Result<size_t> EncodeBlock(ByteSpan raw, const EncodeOptions& options, MutableByteSpan out);

// Writes `h` as the kBlockHeaderSize bytes at `p`.
void WriteBlockHeader(const BlockHeader& h, uint8_t* p);

// Parses and validates the header at the start of `bytes`: magic, version,
// known codec, raw_len <= kMaxBlockSize, stored_len within bounds. It does
// not require the stored bytes to be present.
Result<BlockHeader> ParseBlockHeader(ByteSpan bytes);

// Checks XXH3 of the stored bytes against the header (CHECKSUM_MISMATCH).
Status VerifyStored(const BlockHeader& header, ByteSpan stored);

// The table of a kZstdSegmented block, parsed from the front of its stored
// bytes and checked: frame lengths that sum, with the table, to stored_len.
// `frame_offset[i]` is where frame i starts in the stored bytes.
struct ZstdSegmentTable {
  std::vector<uint32_t> frame_len;
  std::vector<uint64_t> frame_offset;
  std::vector<uint64_t> raw_xxh3;  // of each raw segment
};
inline constexpr size_t ZstdSegmentTableSize(uint32_t raw_len) {
  return 12ull * SegmentCount(raw_len);
}
// `table` holds at least ZstdSegmentTableSize(header.raw_len) bytes.
Result<ZstdSegmentTable> ParseZstdSegmentTable(const BlockHeader& header, ByteSpan table);
// Decodes frame `i` of a kZstdSegmented block (`frame`: its bytes) into
// `out` (exactly the segment's raw length) and checks the segment's raw
// checksum. CORRUPTION / CHECKSUM_MISMATCH name the segment.
Status DecodeZstdSegment(const ZstdSegmentTable& table, uint32_t i, ByteSpan frame,
                         MutableByteSpan out);

// Checks segments [first, first + n) of a kRawSegmented block: `bytes` holds
// them back to back (the last may be short: the block's end), `sums` their n
// checksums from the block's table. CHECKSUM_MISMATCH names the segment.
Status VerifySegments(uint32_t first, ByteSpan bytes, ByteSpan sums);

// Decodes stored bytes into `out` (exactly header.raw_len bytes) and checks
// raw_xxh3. Errors: CORRUPTION for an undecodable block, CHECKSUM_MISMATCH.
Status DecodeBlock(const BlockHeader& header, ByteSpan stored, MutableByteSpan out);

}  // namespace granary::codec
