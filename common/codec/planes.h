#pragma once
// Byte planes for floating-point weights (block codec 3, docs/block_format.md).
//
// The sign and exponent bits of trained weights take few distinct values,
// the low mantissa bits are close to random. Compressed as plain bytes the
// two are interleaved and zstd finds little; cut into planes (all exponents
// together, all mantissa bytes together) the exponent plane compresses to a
// fraction and the mantissa planes are stored as they are, at memcpy cost.
//
// A planes block is a sequence of regions (a block may straddle tensors of
// different dtypes), each cut into the planes of its layout; each plane is
// stored raw or as a zstd frame, whichever is smaller.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/buffer.h"
#include "common/status.h"

namespace granary::codec {

// What the bytes of a range hold, as far as the codec is concerned.
enum class ElementType : uint8_t {
  kBytes = 0,  // anything else: stored as bytes (zstd or raw)
  kBf16 = 1,
  kF16 = 2,
  kF32 = 3,
};
uint32_t ElementWidth(ElementType t);
const char* ElementTypeName(ElementType t);

// How a region's elements are cut into planes. Persistent ids: never renumber.
enum class PlaneLayout : uint8_t {
  kBytes = 0,        // one plane: the bytes as they are
  kBytePlanes2 = 1,  // 2-byte elements (fp16): plane i = byte i of each element
  kBf16Split = 2,    // bf16: exponent (8 bits) | sign + 7 mantissa bits
  kF32Split = 3,     // fp32: exponent | sign + mantissa[22:16] | mantissa[15:8] | mantissa[7:0]
  kBytePlanes4 = 4,  // 4-byte elements: plane i = byte i of each element
};
inline constexpr uint8_t kMaxPlaneLayout = 4;
uint32_t LayoutWidth(PlaneLayout layout);  // element bytes = number of planes
PlaneLayout LayoutFor(ElementType t);

// A stretch of a block encoded with one layout; `length` is a multiple of
// the layout's width.
struct Region {
  uint32_t length = 0;
  PlaneLayout layout = PlaneLayout::kBytes;
};
inline constexpr size_t kMaxRegions = 16;

// Cuts `n` elements at `raw` into the layout's planes (planes[i] gets n bytes).
void SplitPlanes(PlaneLayout layout, const uint8_t* raw, size_t n, uint8_t* const* planes);
// The inverse: n elements into `out`.
void JoinPlanes(PlaneLayout layout, const uint8_t* const* planes, size_t n, uint8_t* out);

// Encodes `raw`, cut into `regions` (lengths summing to raw.size()), into
// `stored`. Returns the stored size, or nullopt when it would exceed `cap`
// bytes (the caller then stores the block another way). Planes whose zstd
// frame does not save `min_saving` are stored raw.
// `literal_planes`: code the planes of float layouts with Huffman literals
// only (ThreadPlaneCCtx, the default); false uses zstd at `zstd_level` for
// them too (kept to measure the difference).
Result<std::optional<size_t>> EncodePlanes(ByteSpan raw, std::span<const Region> regions,
                                           int zstd_level, double min_saving, uint8_t* stored,
                                           size_t cap, bool literal_planes = true);

// Decodes a planes block's stored bytes into `out` (exactly the block's
// raw_len). Every length and id is checked before use: CORRUPTION names the
// region or plane at fault.
Status DecodePlanes(ByteSpan stored, MutableByteSpan out);

// Stored-size estimate of `sample` cut by `layout`, from the order-0 entropy
// of each plane: what an entropy coder could reach, before matches.
double EstimatePlanesSize(PlaneLayout layout, ByteSpan sample);

// Order-0 entropy of `bytes` in bits per byte (0..8).
double ByteEntropy(const uint8_t* bytes, size_t n, size_t stride = 1);
// The same from a histogram of 256 counts that add up to `total`.
double EntropyOfCounts(const uint32_t* counts, size_t total);

}  // namespace granary::codec
