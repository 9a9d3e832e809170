#include "common/codec/block.h"
#include "common/endian.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "common/checksum/xxh3.h"
#include "common/codec/zstd_ctx.h"

namespace granary::codec {
namespace {

// Sampling: a few slices spread over the block are compressed at level 1. A
// block whose samples do not compress is stored raw without ever running zstd
// over all of it, so incompressible writes cost about a memcpy plus a hash.
constexpr size_t kSampleCount = 4;
constexpr size_t kSampleBytes = 8u << 10;
// Below this, sampling saves nothing: compressing the whole block is as cheap.
constexpr size_t kMinSampledBlock = kSampleCount * kSampleBytes * 2;

// Largest stored size a zstd block of `raw_len` bytes may claim.
size_t MaxStoredSize(size_t raw_len) {
  return std::max<size_t>(ZSTD_COMPRESSBOUND(raw_len),
                          raw_len + 8 * SegmentCount(static_cast<uint32_t>(raw_len)));
}

// Stored length of a kRawSegmented block.
size_t SegmentedStoredSize(uint32_t raw_len) { return raw_len + 8ull * SegmentCount(raw_len); }

// What sampling found: the sampled bytes, their zstd size, and the element
// type whose planes would be smallest, with their estimated size.
struct SampleResult {
  size_t in = 0;
  size_t zstd = 0;
  ElementType type = ElementType::kBytes;
  double planes = 0;
};

// Compresses a few slices spread over the block at level 1 and estimates
// what each plane layout would reach on them (entropy of the planes). Slice
// starts are 4-byte aligned so that elements line up with the block's.
SampleResult Sample(ByteSpan raw) {
  thread_local std::unique_ptr<uint8_t[]> scratch(new uint8_t[ZSTD_COMPRESSBOUND(kSampleBytes)]);
  SampleResult r;
  ZSTD_CCtx* cctx = ThreadCCtx();
  const size_t stride = (raw.size() - kSampleBytes) / (kSampleCount - 1) & ~size_t{3};
  constexpr ElementType kCandidates[] = {ElementType::kBf16, ElementType::kF16,
                                         ElementType::kF32};
  // One cheap pass first: when every byte position of a 4-byte element is
  // close to random, no plane layout can pay (random bytes, compressed
  // files, int8 weights), and the three estimates below are skipped.
  double lowest = 8;
  for (size_t pos = 0; pos < 4; ++pos) {
    uint32_t counts[256] = {};
    for (size_t i = 0; i < kSampleCount; ++i) {
      const uint8_t* src = raw.data() + i * stride;
      for (size_t k = pos; k < kSampleBytes; k += 4) ++counts[src[k]];
    }
    lowest = std::min(lowest, EntropyOfCounts(counts, kSampleCount * kSampleBytes / 4));
  }
  const bool try_planes = lowest < 8.0 * 0.97;
  double planes[3] = {};
  for (size_t i = 0; i < kSampleCount; ++i) {
    const uint8_t* src = raw.data() + i * stride;
    size_t n = cctx ? ZSTD_compressCCtx(cctx, scratch.get(), ZSTD_COMPRESSBOUND(kSampleBytes), src,
                                        kSampleBytes, 1)
                    : kSampleBytes;
    if (ZSTD_isError(n)) n = kSampleBytes;
    r.in += kSampleBytes;
    r.zstd += n;
    for (size_t c = 0; c < 3 && try_planes; ++c) {
      planes[c] += EstimatePlanesSize(LayoutFor(kCandidates[c]), ByteSpan(src, kSampleBytes));
    }
  }
  r.planes = static_cast<double>(r.in);
  if (!try_planes) return r;
  for (size_t c = 0; c < 3; ++c) {
    if (planes[c] < r.planes) {
      r.planes = planes[c];
      r.type = kCandidates[c];
    }
  }
  return r;
}


}  // namespace

size_t MaxEncodedSize(size_t raw_len) { return kBlockHeaderSize + MaxStoredSize(raw_len); }

Result<size_t> EncodeBlock(ByteSpan raw, const EncodeOptions& options, MutableByteSpan out) {
  if (raw.size() > kMaxBlockSize) {
    return Status::InvalidArgument("block of " + std::to_string(raw.size()) +
                                   " bytes exceeds the " + std::to_string(kMaxBlockSize) +
                                   "-byte limit");
  }
  if (out.size() < MaxEncodedSize(raw.size())) {
    return Status::InvalidArgument("output buffer of " + std::to_string(out.size()) +
                                   " bytes is below MaxEncodedSize " +
                                   std::to_string(MaxEncodedSize(raw.size())));
  }
  BlockHeader h;
  h.raw_len = static_cast<uint32_t>(raw.size());
  h.raw_xxh3 = checksum::Xxh3(raw.data(), raw.size());
  uint8_t* stored = out.data() + kBlockHeaderSize;

  const double saving = std::clamp(options.min_saving, 0.0, 1.0);
  const double zstd_saving =
      options.policy == CodecPolicy::kAuto
          ? std::max(saving, std::clamp(options.min_zstd_saving, 0.0, 1.0))
          : saving;
  // The largest stored size worth keeping: past it a block is stored raw.
  auto cap_for = [&](double s) {
    return std::min(MaxStoredSize(raw.size()),
                    static_cast<size_t>(static_cast<double>(raw.size()) * (1.0 - s)));
  };
  const size_t cap = cap_for(saving);
  const size_t zstd_cap = cap_for(zstd_saving);

  // Decide: planes (with their regions), zstd, or raw. `whole`: the block
  // is planes of one element type throughout (forced, or found by sampling).
  std::vector<Region> regions;
  ElementType whole = ElementType::kBytes;
  bool try_zstd = !raw.empty() && zstd_saving < 1.0;
  switch (options.policy) {
    case CodecPolicy::kRaw:
      try_zstd = false;
      break;
    case CodecPolicy::kZstd:
      break;
    case CodecPolicy::kBf16:
    case CodecPolicy::kF16:
    case CodecPolicy::kF32:
      whole = options.policy == CodecPolicy::kBf16  ? ElementType::kBf16
              : options.policy == CodecPolicy::kF16 ? ElementType::kF16
                                                    : ElementType::kF32;
      break;
    case CodecPolicy::kAuto:
      if (!options.types.empty()) {
        regions = BuildRegions(h.raw_len, options.types);
      } else if (options.sample_first && raw.size() >= kMinSampledBlock) {
        const SampleResult sr = Sample(raw);
        const double keep = static_cast<double>(sr.in) * (1.0 - saving);
        const double keep_zstd = static_cast<double>(sr.in) * (1.0 - zstd_saving);
        // Planes when their estimate beats both zstd and the bar; zstd
        // when it clears its own bar; otherwise raw, never compressing the
        // whole block.
        if (sr.type != ElementType::kBytes && sr.planes < keep &&
            sr.planes < static_cast<double>(sr.zstd)) {
          whole = sr.type;
        } else {
          try_zstd = static_cast<double>(sr.zstd) <= keep_zstd;
        }
      }
      break;
  }
  if (whole != ElementType::kBytes) {
    const TypedRange all{0, h.raw_len, whole};
    regions = BuildRegions(h.raw_len, std::span(&all, 1));
  }
  const bool any_planes = std::any_of(regions.begin(), regions.end(), [](const Region& r) {
    return r.layout != PlaneLayout::kBytes;
  });
  if (any_planes && !raw.empty() && saving < 1.0) {
    ASSIGN_OR_RETURN(std::optional<size_t> n,
                     EncodePlanes(raw, regions, options.zstd_level, saving, stored, cap,
                                                  options.literal_planes));
    if (n) {
      h.codec = CodecId::kPlanes;
      h.stored_len = static_cast<uint32_t>(*n);
      h.stored_xxh3 = checksum::Xxh3(stored, *n);
      WriteBlockHeader(h, out.data());
      return h.encoded_size();
    }
    try_zstd = false;  // planes did not pay: the bytes are close to random
  }
  if (try_zstd && raw.size() > kSegmentSize) {
    // One frame per 64 KiB segment (kZstdSegmented), so random reads decode
    // 64 KiB. Each frame's destination is capped by what is left of `zstd_cap`:
    // a block that cannot pay stops at the first frame that overruns.
    ZSTD_CCtx* cctx = ThreadCCtx();
    const uint32_t segs = SegmentCount(h.raw_len);
    size_t pos = ZstdSegmentTableSize(h.raw_len);
    bool paid = cctx != nullptr && pos < zstd_cap;
    for (uint32_t i = 0; paid && i < segs; ++i) {
      const size_t off = size_t(i) * kSegmentSize;
      const size_t len = std::min<size_t>(kSegmentSize, raw.size() - off);
      const size_t n = ZSTD_compressCCtx(cctx, stored + pos, zstd_cap - pos, raw.data() + off,
                                         len, options.zstd_level);
      if (ZSTD_isError(n) || n == 0) {
        paid = false;
        break;
      }
      PutU32(stored + 4 * i, static_cast<uint32_t>(n));
      PutU64(stored + 4ull * segs + 8 * i, checksum::Xxh3(raw.data() + off, len));
      pos += n;
    }
    if (paid) {
      h.codec = CodecId::kZstdSegmented;
      h.stored_len = static_cast<uint32_t>(pos);
      h.stored_xxh3 = checksum::Xxh3(stored, pos);
      WriteBlockHeader(h, out.data());
      return h.encoded_size();
    }
    try_zstd = false;
  }
  if (try_zstd) {
    // Capped destination: zstd gives up with dstSize_tooSmall as soon as the
    // block cannot pay, instead of finishing a compression we would discard.
    ZSTD_CCtx* cctx = ThreadCCtx();
    size_t n =
        cctx ? ZSTD_compressCCtx(cctx, stored, zstd_cap, raw.data(), raw.size(), options.zstd_level)
             : 0;
    if (cctx && !ZSTD_isError(n) && n > 0) {
      h.codec = CodecId::kZstd;
      h.stored_len = static_cast<uint32_t>(n);
      h.stored_xxh3 = checksum::Xxh3(stored, n);
      WriteBlockHeader(h, out.data());
      return h.encoded_size();
    }
  }
  if (raw.size() > kSegmentSize) {
    // Raw with segment checksums: random reads can verify 64 KiB at a time.
    h.codec = CodecId::kRawSegmented;
    std::memcpy(stored, raw.data(), raw.size());
    const uint32_t n = SegmentCount(h.raw_len);
    for (uint32_t i = 0; i < n; ++i) {
      const size_t off = size_t(i) * kSegmentSize;
      const size_t len = std::min<size_t>(kSegmentSize, raw.size() - off);
      PutU64(stored + raw.size() + 8 * i, checksum::Xxh3(raw.data() + off, len));
    }
    h.stored_len = static_cast<uint32_t>(SegmentedStoredSize(h.raw_len));
    h.stored_xxh3 = checksum::Xxh3(stored, h.stored_len);
    WriteBlockHeader(h, out.data());
    return h.encoded_size();
  }
  // Raw: the stored bytes are the raw bytes, so one hash serves both.
  h.codec = CodecId::kRaw;
  h.stored_len = h.raw_len;
  h.stored_xxh3 = h.raw_xxh3;
  if (!raw.empty()) std::memcpy(stored, raw.data(), raw.size());
  WriteBlockHeader(h, out.data());
  return h.encoded_size();
}

void WriteBlockHeader(const BlockHeader& h, uint8_t* p) {
  PutU32(p + 0, kBlockMagic);
  p[4] = static_cast<uint8_t>(h.codec);
  p[5] = kBlockFormatVersion;
  PutU16(p + 6, 0);
  PutU32(p + 8, h.raw_len);
  PutU32(p + 12, h.stored_len);
  PutU64(p + 16, h.stored_xxh3);
  PutU64(p + 24, h.raw_xxh3);
}

Result<BlockHeader> ParseBlockHeader(ByteSpan bytes) {
  if (bytes.size() < kBlockHeaderSize) {
    return Status::Corruption("block header truncated: " + std::to_string(bytes.size()) + " of " +
                              std::to_string(kBlockHeaderSize) + " bytes");
  }
  const uint8_t* p = bytes.data();
  if (GetU32(p) != kBlockMagic) return Status::Corruption("bad block magic");
  if (p[5] != kBlockFormatVersion) {
    return Status::Corruption("unsupported block format version " + std::to_string(p[5]));
  }
  if (GetU16(p + 6) != 0) return Status::Corruption("block header reserved field is not zero");
  BlockHeader h;
  const uint8_t codec = p[4];
  if (codec != static_cast<uint8_t>(CodecId::kRaw) &&
      codec != static_cast<uint8_t>(CodecId::kZstd) &&
      codec != static_cast<uint8_t>(CodecId::kRawSegmented) &&
      codec != static_cast<uint8_t>(CodecId::kPlanes) &&
      codec != static_cast<uint8_t>(CodecId::kZstdSegmented)) {
    return Status::Corruption("unknown block codec " + std::to_string(codec));
  }
  h.codec = static_cast<CodecId>(codec);
  h.raw_len = GetU32(p + 8);
  h.stored_len = GetU32(p + 12);
  h.stored_xxh3 = GetU64(p + 16);
  h.raw_xxh3 = GetU64(p + 24);
  if (h.raw_len > kMaxBlockSize) {
    return Status::Corruption("block raw_len " + std::to_string(h.raw_len) + " exceeds " +
                              std::to_string(kMaxBlockSize));
  }
  if (h.codec == CodecId::kRaw && h.stored_len != h.raw_len) {
    return Status::Corruption("raw block stored_len " + std::to_string(h.stored_len) +
                              " != raw_len " + std::to_string(h.raw_len));
  }
  if (h.codec == CodecId::kRawSegmented && h.stored_len != SegmentedStoredSize(h.raw_len)) {
    return Status::Corruption("segmented block stored_len " + std::to_string(h.stored_len) +
                              " != " + std::to_string(SegmentedStoredSize(h.raw_len)) +
                              " for raw_len " + std::to_string(h.raw_len));
  }
  if (h.codec == CodecId::kZstd && (h.stored_len == 0 || h.stored_len > MaxStoredSize(h.raw_len))) {
    return Status::Corruption("zstd block stored_len " + std::to_string(h.stored_len) +
                              " out of bounds for raw_len " + std::to_string(h.raw_len));
  }
  if (h.codec == CodecId::kZstdSegmented &&
      (h.raw_len <= kSegmentSize || h.stored_len <= ZstdSegmentTableSize(h.raw_len) ||
       h.stored_len > MaxStoredSize(h.raw_len))) {
    return Status::Corruption("segmented zstd block stored_len " + std::to_string(h.stored_len) +
                              " out of bounds for raw_len " + std::to_string(h.raw_len));
  }
  if (h.codec == CodecId::kPlanes && (h.stored_len == 0 || h.stored_len > MaxStoredSize(h.raw_len))) {
    return Status::Corruption("planes block stored_len " + std::to_string(h.stored_len) +
                              " out of bounds for raw_len " + std::to_string(h.raw_len));
  }
  return h;
}

Status VerifyStored(const BlockHeader& header, ByteSpan stored) {
  if (stored.size() != header.stored_len) {
    return Status::Corruption("block has " + std::to_string(stored.size()) +
                              " stored bytes, header says " + std::to_string(header.stored_len));
  }
  if (checksum::Xxh3(stored.data(), stored.size()) != header.stored_xxh3) {
    return Status::ChecksumMismatch("stored bytes do not match the block's stored_xxh3");
  }
  return Status::Ok();
}

Status VerifySegments(uint32_t first, ByteSpan bytes, ByteSpan sums) {
  const size_t n = sums.size() / 8;
  if (sums.size() % 8 != 0 || n == 0 || bytes.size() > n * size_t(kSegmentSize) ||
      bytes.size() <= (n - 1) * size_t(kSegmentSize)) {
    return Status::Corruption(std::to_string(bytes.size()) + " bytes do not make " +
                              std::to_string(n) + " segments");
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t off = i * kSegmentSize;
    const size_t len = std::min<size_t>(kSegmentSize, bytes.size() - off);
    if (checksum::Xxh3(bytes.data() + off, len) != GetU64(sums.data() + 8 * i)) {
      return Status::ChecksumMismatch("segment " + std::to_string(first + i) +
                                      " does not match its checksum");
    }
  }
  return Status::Ok();
}

Result<ZstdSegmentTable> ParseZstdSegmentTable(const BlockHeader& header, ByteSpan table) {
  const uint32_t segs = SegmentCount(header.raw_len);
  const size_t size = ZstdSegmentTableSize(header.raw_len);
  if (header.codec != CodecId::kZstdSegmented || table.size() < size) {
    return Status::Corruption("segmented zstd table of " + std::to_string(table.size()) +
                              " bytes, " + std::to_string(size) + " needed");
  }
  ZstdSegmentTable t;
  t.frame_len.resize(segs);
  t.frame_offset.resize(segs);
  t.raw_xxh3.resize(segs);
  uint64_t pos = size;
  for (uint32_t i = 0; i < segs; ++i) {
    t.frame_len[i] = GetU32(table.data() + 4 * i);
    t.raw_xxh3[i] = GetU64(table.data() + 4ull * segs + 8 * i);
    t.frame_offset[i] = pos;
    // Every length is bounded before use: no frame may be empty or reach
    // past the block's stored bytes.
    if (t.frame_len[i] == 0 || pos + t.frame_len[i] > header.stored_len) {
      return Status::Corruption("segmented zstd frame " + std::to_string(i) + " of " +
                                std::to_string(t.frame_len[i]) + " bytes past the block's " +
                                std::to_string(header.stored_len));
    }
    pos += t.frame_len[i];
  }
  if (pos != header.stored_len) {
    return Status::Corruption("segmented zstd frames end at " + std::to_string(pos) +
                              ", the block's stored bytes at " +
                              std::to_string(header.stored_len));
  }
  return t;
}

namespace {

// Frame `i` into exactly `out` (its segment's size), unchecked: a frame that
// would expand past it fails, and so does one that decodes to fewer bytes.
Status DecompressSegment(uint32_t i, ByteSpan frame, MutableByteSpan out) {
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (dctx == nullptr) return Status::Internal("cannot allocate a zstd context");
  const size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != out.size()) {
    return Status::Corruption("segment " + std::to_string(i) + " does not decode to " +
                              std::to_string(out.size()) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

Status DecodeZstdSegment(const ZstdSegmentTable& table, uint32_t i, ByteSpan frame,
                         MutableByteSpan out) {
  if (i >= table.frame_len.size() || frame.size() != table.frame_len[i]) {
    return Status::Corruption("segment " + std::to_string(i) + ": frame of " +
                              std::to_string(frame.size()) + " bytes does not match the table");
  }
  RETURN_IF_ERROR(DecompressSegment(i, frame, out));
  if (checksum::Xxh3(out.data(), out.size()) != table.raw_xxh3[i]) {
    return Status::ChecksumMismatch("segment " + std::to_string(i) +
                                    " does not match its checksum");
  }
  return Status::Ok();
}

Status DecodeBlock(const BlockHeader& header, ByteSpan stored, MutableByteSpan out) {
  if (stored.size() != header.stored_len) {
    return Status::Corruption("block has " + std::to_string(stored.size()) +
                              " stored bytes, header says " + std::to_string(header.stored_len));
  }
  if (out.size() != header.raw_len || header.raw_len > kMaxBlockSize) {
    return Status::InvalidArgument("decode buffer of " + std::to_string(out.size()) +
                                   " bytes for a block of raw_len " +
                                   std::to_string(header.raw_len));
  }
  switch (header.codec) {
    case CodecId::kRaw:
      if (header.stored_len != header.raw_len) {
        return Status::Corruption("raw block stored_len != raw_len");
      }
      if (!out.empty()) std::memcpy(out.data(), stored.data(), stored.size());
      break;
    case CodecId::kRawSegmented:
      if (header.stored_len != SegmentedStoredSize(header.raw_len)) {
        return Status::Corruption("segmented block stored_len does not match raw_len");
      }
      if (!out.empty()) std::memcpy(out.data(), stored.data(), header.raw_len);
      break;
    case CodecId::kZstd: {
      ZSTD_DCtx* dctx = ThreadDCtx();
      if (dctx == nullptr) return Status::Internal("cannot allocate a zstd context");
      // The destination is exactly raw_len: a frame that would expand past it
      // fails with dstSize_tooSmall instead of writing out of bounds.
      size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), stored.data(), stored.size());
      if (ZSTD_isError(n)) {
        return Status::Corruption(std::string("zstd block does not decode: ") +
                                  ZSTD_getErrorName(n));
      }
      if (n != header.raw_len) {
        return Status::Corruption("zstd block decoded to " + std::to_string(n) +
                                  " bytes, header says raw_len " + std::to_string(header.raw_len));
      }
      break;
    }
    case CodecId::kPlanes:
      RETURN_IF_ERROR(DecodePlanes(stored, out));
      break;
    case CodecId::kZstdSegmented: {
      // Whole block: raw_xxh3 below checks every byte once, so the segment
      // checksums (for range reads) are not computed a second time here.
      ASSIGN_OR_RETURN(ZstdSegmentTable t, ParseZstdSegmentTable(header, stored));
      for (uint32_t i = 0; i < t.frame_len.size(); ++i) {
        const size_t off = size_t(i) * kSegmentSize;
        const size_t len = std::min<size_t>(kSegmentSize, out.size() - off);
        RETURN_IF_ERROR(DecompressSegment(
            i, stored.subspan(t.frame_offset[i], t.frame_len[i]), out.subspan(off, len)));
      }
      break;
    }
    default:
      return Status::Corruption("unknown block codec " +
                                std::to_string(static_cast<int>(header.codec)));
  }
  if (checksum::Xxh3(out.data(), out.size()) != header.raw_xxh3) {
    return Status::ChecksumMismatch("decoded bytes do not match the block's raw_xxh3");
  }
  return Status::Ok();
}

const char* CodecPolicyName(CodecPolicy p) {
  switch (p) {
    case CodecPolicy::kAuto: return "auto";
    case CodecPolicy::kRaw: return "raw";
    case CodecPolicy::kZstd: return "zstd";
    case CodecPolicy::kBf16: return "bf16";
    case CodecPolicy::kF16: return "fp16";
    case CodecPolicy::kF32: return "fp32";
  }
  return "?";
}

Result<CodecPolicy> ParseCodecPolicy(std::string_view name) {
  for (CodecPolicy p : {CodecPolicy::kAuto, CodecPolicy::kRaw, CodecPolicy::kZstd,
                        CodecPolicy::kBf16, CodecPolicy::kF16, CodecPolicy::kF32}) {
    if (name == CodecPolicyName(p)) return p;
  }
  return Status::InvalidArgument("unknown codec \"" + std::string(name) +
                                 "\" (expected auto, raw, zstd, bf16, fp16 or fp32)");
}

std::vector<Region> BuildRegions(uint32_t block_len, std::span<const TypedRange> types) {
  // Typed stretches cut to whole elements, clipped to the block.
  struct Typed {
    uint32_t begin, end;
    PlaneLayout layout;
  };
  std::vector<Typed> typed;
  uint32_t cursor = 0;
  for (const TypedRange& t : types) {
    const PlaneLayout layout = LayoutFor(t.type);
    if (layout == PlaneLayout::kBytes) continue;
    const uint32_t w = LayoutWidth(layout);
    const uint32_t begin = std::max(t.offset, cursor);
    if (begin >= block_len) break;
    // An overlap with the previous range shifts the start: keep element
    // boundaries of this range.
    const uint32_t skip = (begin - t.offset) % w == 0 ? 0 : w - (begin - t.offset) % w;
    const uint64_t end64 = std::min<uint64_t>(uint64_t{t.offset} + t.length, block_len);
    if (begin + uint64_t{skip} >= end64) continue;
    const uint32_t b = begin + skip;
    const uint32_t e = b + static_cast<uint32_t>((end64 - b) / w * w);
    if (e <= b) continue;
    if (!typed.empty() && typed.back().layout == layout && typed.back().end == b) {
      typed.back().end = e;
    } else {
      typed.push_back({b, e, layout});
    }
    cursor = e;
  }
  // Too many: the shortest typed stretches become bytes (a block of many
  // tiny tensors loses little by it).
  // Each typed stretch may need a bytes gap before it, plus one at the end.
  while (!typed.empty() && typed.size() * 2 + 1 > kMaxRegions) {
    auto shortest = std::min_element(typed.begin(), typed.end(), [](const Typed& a, const Typed& b) {
      return a.end - a.begin < b.end - b.begin;
    });
    typed.erase(shortest);
  }
  std::vector<Region> regions;
  uint32_t pos = 0;
  for (const Typed& t : typed) {
    if (t.begin > pos) regions.push_back({t.begin - pos, PlaneLayout::kBytes});
    regions.push_back({t.end - t.begin, t.layout});
    pos = t.end;
  }
  if (pos < block_len || regions.empty()) regions.push_back({block_len - pos, PlaneLayout::kBytes});
  return regions;
}

}  // namespace granary::codec
