#include "common/codec/planes.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/codec/zstd_ctx.h"
#include "common/endian.h"

namespace granary::codec {
namespace {

// Stored layout (all little-endian):
//   u8 format (1)  u8 region_count  u16 reserved (0)
//   region_count x { u32 raw_len  u8 layout  u8[3] reserved (0) }
//   for each region, for each of its planes: { u8 method  u8[3] reserved (0)  u32 stored_len }
//   the planes' stored bytes, in table order (a zstd plane may be several
//   concatenated frames)
constexpr uint8_t kPlanesFormat = 1;
constexpr size_t kPrologue = 4;
constexpr size_t kRegionEntry = 8;
constexpr size_t kPlaneEntry = 8;

enum class PlaneMethod : uint8_t { kRaw = 0, kZstd = 1 };

// Planes shorter than this are stored raw: a zstd frame's own overhead eats
// what it could save.
constexpr size_t kMinCompressedPlane = 256;
// Bytes sampled for a plane's entropy check.
constexpr size_t kEntropySample = 16u << 10;

// Scratch for split planes (encode) and decompressed planes (decode): at
// most one block's worth, reused by each thread.
uint8_t* Scratch(size_t n) {
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Float planes are coded as back-to-back zstd frames of this many bytes:
// each frame has its own Huffman table, which follows the tensors of a block
// (their scales differ) more closely than one table per 128 KiB. Measured on
// the real weights of bench/codec_bench: +0.8% (fp32) to +1.3% (bf16, fp16)
// over one frame per plane. The decoder needs nothing for it: zstd decodes
// concatenated frames in one call.
constexpr size_t kPlaneFrame = 16u << 10;

// Compresses `n` bytes as frames of kPlaneFrame into dst (capacity `room`).
// Returns the total size, or a zstd error code when they do not fit.
size_t CompressFrames(ZSTD_CCtx* cctx, uint8_t* dst, size_t room, const uint8_t* src, size_t n) {
  size_t used = 0;
  for (size_t off = 0; off < n; off += kPlaneFrame) {
    const size_t len = std::min(kPlaneFrame, n - off);
    const size_t z = ZSTD_compress2(cctx, dst + used, room - used, src + off, len);
    if (ZSTD_isError(z)) return z;
    used += z;
  }
  return used;
}

Status Bad(const std::string& what) { return Status::Corruption("planes block: " + what); }

}  // namespace

uint32_t ElementWidth(ElementType t) {
  switch (t) {
    case ElementType::kBf16:
    case ElementType::kF16:
      return 2;
    case ElementType::kF32:
      return 4;
    default:
      return 1;
  }
}

const char* ElementTypeName(ElementType t) {
  switch (t) {
    case ElementType::kBf16: return "bf16";
    case ElementType::kF16: return "fp16";
    case ElementType::kF32: return "fp32";
    default: return "bytes";
  }
}

uint32_t LayoutWidth(PlaneLayout layout) {
  switch (layout) {
    case PlaneLayout::kBytePlanes2:
    case PlaneLayout::kBf16Split:
      return 2;
    case PlaneLayout::kF32Split:
    case PlaneLayout::kBytePlanes4:
      return 4;
    default:
      return 1;
  }
}

PlaneLayout LayoutFor(ElementType t) {
  switch (t) {
    case ElementType::kBf16: return PlaneLayout::kBf16Split;
    // fp16 has a 5-bit exponent: its high byte (sign, exponent, 2 mantissa
    // bits) is the redundant one, so whole bytes split it well enough.
    case ElementType::kF16: return PlaneLayout::kBytePlanes2;
    case ElementType::kF32: return PlaneLayout::kF32Split;
    default: return PlaneLayout::kBytes;
  }
}

// The loops below are written element by element with byte loads so that
// they are independent of the host's byte order; the compiler turns them
// into vector shuffles (this file is built with -O3).
void SplitPlanes(PlaneLayout layout, const uint8_t* raw, size_t n, uint8_t* const* planes) {
  switch (layout) {
    case PlaneLayout::kBytes:
      if (n > 0) std::memcpy(planes[0], raw, n);
      break;
    case PlaneLayout::kBytePlanes2: {
      uint8_t* __restrict p0 = planes[0];
      uint8_t* __restrict p1 = planes[1];
      for (size_t i = 0; i < n; ++i) {
        p0[i] = raw[2 * i];
        p1[i] = raw[2 * i + 1];
      }
      break;
    }
    case PlaneLayout::kBytePlanes4: {
      uint8_t* __restrict p0 = planes[0];
      uint8_t* __restrict p1 = planes[1];
      uint8_t* __restrict p2 = planes[2];
      uint8_t* __restrict p3 = planes[3];
      for (size_t i = 0; i < n; ++i) {
        p0[i] = raw[4 * i];
        p1[i] = raw[4 * i + 1];
        p2[i] = raw[4 * i + 2];
        p3[i] = raw[4 * i + 3];
      }
      break;
    }
    case PlaneLayout::kBf16Split: {
      uint8_t* __restrict e = planes[0];
      uint8_t* __restrict sm = planes[1];
      for (size_t i = 0; i < n; ++i) {
        const uint8_t lo = raw[2 * i], hi = raw[2 * i + 1];
        e[i] = static_cast<uint8_t>((hi << 1) | (lo >> 7));
        sm[i] = static_cast<uint8_t>((hi & 0x80) | (lo & 0x7F));
      }
      break;
    }
    case PlaneLayout::kF32Split: {
      uint8_t* __restrict e = planes[0];
      uint8_t* __restrict sm = planes[1];
      uint8_t* __restrict m1 = planes[2];
      uint8_t* __restrict m0 = planes[3];
      for (size_t i = 0; i < n; ++i) {
        const uint8_t b0 = raw[4 * i], b1 = raw[4 * i + 1], b2 = raw[4 * i + 2],
                      b3 = raw[4 * i + 3];
        e[i] = static_cast<uint8_t>((b3 << 1) | (b2 >> 7));
        sm[i] = static_cast<uint8_t>((b3 & 0x80) | (b2 & 0x7F));
        m1[i] = b1;
        m0[i] = b0;
      }
      break;
    }
  }
}

void JoinPlanes(PlaneLayout layout, const uint8_t* const* planes, size_t n, uint8_t* out) {
  switch (layout) {
    case PlaneLayout::kBytes:
      if (n > 0) std::memcpy(out, planes[0], n);
      break;
    case PlaneLayout::kBytePlanes2: {
      const uint8_t* __restrict p0 = planes[0];
      const uint8_t* __restrict p1 = planes[1];
      for (size_t i = 0; i < n; ++i) {
        out[2 * i] = p0[i];
        out[2 * i + 1] = p1[i];
      }
      break;
    }
    case PlaneLayout::kBytePlanes4: {
      const uint8_t* __restrict p0 = planes[0];
      const uint8_t* __restrict p1 = planes[1];
      const uint8_t* __restrict p2 = planes[2];
      const uint8_t* __restrict p3 = planes[3];
      for (size_t i = 0; i < n; ++i) {
        out[4 * i] = p0[i];
        out[4 * i + 1] = p1[i];
        out[4 * i + 2] = p2[i];
        out[4 * i + 3] = p3[i];
      }
      break;
    }
    case PlaneLayout::kBf16Split: {
      const uint8_t* __restrict e = planes[0];
      const uint8_t* __restrict sm = planes[1];
      for (size_t i = 0; i < n; ++i) {
        out[2 * i] = static_cast<uint8_t>((e[i] << 7) | (sm[i] & 0x7F));
        out[2 * i + 1] = static_cast<uint8_t>((sm[i] & 0x80) | (e[i] >> 1));
      }
      break;
    }
    case PlaneLayout::kF32Split: {
      const uint8_t* __restrict e = planes[0];
      const uint8_t* __restrict sm = planes[1];
      const uint8_t* __restrict m1 = planes[2];
      const uint8_t* __restrict m0 = planes[3];
      for (size_t i = 0; i < n; ++i) {
        out[4 * i] = m0[i];
        out[4 * i + 1] = m1[i];
        out[4 * i + 2] = static_cast<uint8_t>((e[i] << 7) | (sm[i] & 0x7F));
        out[4 * i + 3] = static_cast<uint8_t>((sm[i] & 0x80) | (e[i] >> 1));
      }
      break;
    }
  }
}

double ByteEntropy(const uint8_t* bytes, size_t n, size_t stride) {
  if (n == 0) return 0;
  if (stride == 0) stride = 1;
  uint32_t counts[256] = {};
  size_t total = 0;
  for (size_t i = 0; i < n; i += stride, ++total) ++counts[bytes[i]];
  return EntropyOfCounts(counts, total);
}

double EntropyOfCounts(const uint32_t* counts, size_t total) {
  if (total == 0) return 0;
  double bits = 0;
  for (size_t i = 0; i < 256; ++i) {
    const uint32_t c = counts[i];
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(total);
    bits -= p * std::log2(p);
  }
  return bits;
}

double EstimatePlanesSize(PlaneLayout layout, ByteSpan sample) {
  const uint32_t w = LayoutWidth(layout);
  const size_t n = sample.size() / w;
  if (n == 0) return static_cast<double>(sample.size());
  uint8_t* scratch = Scratch(n * w);
  uint8_t* planes[4];
  for (uint32_t p = 0; p < w; ++p) planes[p] = scratch + p * n;
  SplitPlanes(layout, sample.data(), n, planes);
  double bytes = 0;
  for (uint32_t p = 0; p < w; ++p) {
    // A plane that would not pay is stored raw; otherwise an entropy coder
    // lands a little above the entropy (imperfect code lengths), plus its
    // frame header and code table.
    const double h = ByteEntropy(planes[p], n);
    bytes += std::min(static_cast<double>(n), static_cast<double>(n) * h / 8.0 * 1.02 + 32.0);
  }
  return bytes;
}

Result<std::optional<size_t>> EncodePlanes(ByteSpan raw, std::span<const Region> regions,
                                           int zstd_level, double min_saving, uint8_t* stored,
                                           size_t cap, bool literal_planes) {
  if (regions.empty() || regions.size() > kMaxRegions) {
    return Status::InvalidArgument("planes block needs 1 to 16 regions, got " +
                                   std::to_string(regions.size()));
  }
  size_t planes_total = 0, covered = 0;
  for (const Region& r : regions) {
    if (static_cast<uint8_t>(r.layout) > kMaxPlaneLayout || r.length % LayoutWidth(r.layout) != 0) {
      return Status::InvalidArgument("region of " + std::to_string(r.length) +
                                     " bytes does not fit layout " +
                                     std::to_string(static_cast<int>(r.layout)));
    }
    planes_total += LayoutWidth(r.layout);
    covered += r.length;
  }
  if (covered != raw.size()) {
    return Status::InvalidArgument("regions cover " + std::to_string(covered) + " of " +
                                   std::to_string(raw.size()) + " bytes");
  }
  const size_t table = kPrologue + kRegionEntry * regions.size() + kPlaneEntry * planes_total;
  if (table > cap) return std::optional<size_t>();
  stored[0] = kPlanesFormat;
  stored[1] = static_cast<uint8_t>(regions.size());
  PutU16(stored + 2, 0);
  uint8_t* region_entry = stored + kPrologue;
  uint8_t* plane_entry = region_entry + kRegionEntry * regions.size();
  size_t pos = table;
  size_t offset = 0;
  for (const Region& r : regions) {
    // Byte regions (headers, integers) may hold repeats worth matching; the
    // planes of floats are coded as literals (see ThreadPlaneCCtx).
    const bool literals = literal_planes && r.layout != PlaneLayout::kBytes;
    ZSTD_CCtx* cctx = literals ? ThreadPlaneCCtx() : ThreadCCtx();
    PutU32(region_entry, r.length);
    region_entry[4] = static_cast<uint8_t>(r.layout);
    std::memset(region_entry + 5, 0, 3);
    region_entry += kRegionEntry;

    const uint32_t w = LayoutWidth(r.layout);
    const size_t n = r.length / w;
    const uint8_t* planes[4];
    if (r.layout == PlaneLayout::kBytes) {
      planes[0] = raw.data() + offset;  // no copy for a single plane
    } else {
      uint8_t* scratch = Scratch(r.length);
      uint8_t* split[4];
      for (uint32_t p = 0; p < w; ++p) split[p] = scratch + p * n;
      SplitPlanes(r.layout, raw.data() + offset, n, split);
      for (uint32_t p = 0; p < w; ++p) planes[p] = split[p];
    }
    for (uint32_t p = 0; p < w; ++p) {
      PlaneMethod method = PlaneMethod::kRaw;
      size_t len = n;
      // Near-random planes (low mantissa bits) go raw without running zstd:
      // their entropy alone says compression cannot save min_saving.
      const bool worth_trying =
          n >= kMinCompressedPlane && cctx != nullptr &&
          ByteEntropy(planes[p], n, std::max<size_t>(1, n / kEntropySample)) <
              8.0 * (1.0 - min_saving);
      if (worth_trying) {
        const size_t want = static_cast<size_t>(static_cast<double>(n) * (1.0 - min_saving));
        const size_t room = std::min(want, cap > pos ? cap - pos : 0);
        const size_t z = literals ? CompressFrames(cctx, stored + pos, room, planes[p], n)
                                  : ZSTD_compressCCtx(cctx, stored + pos, room, planes[p], n,
                                                      zstd_level);
        if (!ZSTD_isError(z) && z > 0) {
          method = PlaneMethod::kZstd;
          len = z;
        }
      }
      if (method == PlaneMethod::kRaw) {
        if (pos + n > cap) return std::optional<size_t>();
        std::memcpy(stored + pos, planes[p], n);
      }
      plane_entry[0] = static_cast<uint8_t>(method);
      std::memset(plane_entry + 1, 0, 3);
      PutU32(plane_entry + 4, static_cast<uint32_t>(len));
      plane_entry += kPlaneEntry;
      pos += len;
    }
    offset += r.length;
  }
  return std::optional<size_t>(pos);
}

Status DecodePlanes(ByteSpan stored, MutableByteSpan out) {
  const uint8_t* s = stored.data();
  if (stored.size() < kPrologue) return Bad("shorter than its prologue");
  if (s[0] != kPlanesFormat) return Bad("unknown format " + std::to_string(s[0]));
  const size_t regions = s[1];
  if (regions == 0 || regions > kMaxRegions) {
    return Bad("region count " + std::to_string(regions) + " outside 1..16");
  }
  if (GetU16(s + 2) != 0) return Bad("reserved field is not zero");
  if (stored.size() < kPrologue + kRegionEntry * regions) return Bad("region table truncated");

  // First pass: the region table, before any plane is touched.
  size_t planes_total = 0, covered = 0;
  for (size_t r = 0; r < regions; ++r) {
    const uint8_t* e = s + kPrologue + kRegionEntry * r;
    const uint32_t len = GetU32(e);
    if (e[4] > kMaxPlaneLayout) {
      return Bad("region " + std::to_string(r) + " has unknown layout " + std::to_string(e[4]));
    }
    if (e[5] != 0 || e[6] != 0 || e[7] != 0) {
      return Bad("region " + std::to_string(r) + " reserved bytes are not zero");
    }
    const uint32_t w = LayoutWidth(static_cast<PlaneLayout>(e[4]));
    if (len % w != 0) {
      return Bad("region " + std::to_string(r) + " length " + std::to_string(len) +
                 " is not a multiple of its element width " + std::to_string(w));
    }
    covered += len;
    planes_total += w;
  }
  if (covered != out.size()) {
    return Bad("regions cover " + std::to_string(covered) + " bytes, block has " +
               std::to_string(out.size()));
  }
  const uint8_t* plane_entry = s + kPrologue + kRegionEntry * regions;
  const size_t table = kPrologue + kRegionEntry * regions + kPlaneEntry * planes_total;
  if (stored.size() < table) return Bad("plane table truncated");

  size_t pos = table;
  size_t offset = 0;
  size_t plane_index = 0;
  for (size_t r = 0; r < regions; ++r) {
    const uint8_t* e = s + kPrologue + kRegionEntry * r;
    const uint32_t len = GetU32(e);
    const auto layout = static_cast<PlaneLayout>(e[4]);
    const uint32_t w = LayoutWidth(layout);
    const size_t n = len / w;
    const uint8_t* planes[4];
    uint8_t* scratch = nullptr;
    for (uint32_t p = 0; p < w; ++p, ++plane_index, plane_entry += kPlaneEntry) {
      const std::string name = "plane " + std::to_string(p) + " of region " + std::to_string(r);
      const uint8_t method = plane_entry[0];
      const uint32_t plen = GetU32(plane_entry + 4);
      if (plane_entry[1] != 0 || plane_entry[2] != 0 || plane_entry[3] != 0) {
        return Bad(name + ": reserved bytes are not zero");
      }
      if (plen > stored.size() - pos) {
        return Bad(name + ": " + std::to_string(plen) + " bytes run past the block's end");
      }
      const uint8_t* src = s + pos;
      pos += plen;
      if (method == static_cast<uint8_t>(PlaneMethod::kRaw)) {
        if (plen != n) {
          return Bad(name + ": raw plane of " + std::to_string(plen) + " bytes, expected " +
                     std::to_string(n));
        }
        planes[p] = src;
        continue;
      }
      if (method != static_cast<uint8_t>(PlaneMethod::kZstd)) {
        return Bad(name + ": unknown method " + std::to_string(method));
      }
      if (plen == 0 || plen > ZSTD_COMPRESSBOUND(n)) {
        return Bad(name + ": zstd plane of " + std::to_string(plen) + " bytes for " +
                   std::to_string(n) + " raw");
      }
      // A one-plane region decodes straight into the caller's buffer.
      uint8_t* dst;
      if (layout == PlaneLayout::kBytes) {
        dst = out.data() + offset;
      } else {
        if (scratch == nullptr) scratch = Scratch(len);
        dst = scratch + p * n;
      }
      ZSTD_DCtx* dctx = ThreadDCtx();
      if (dctx == nullptr) return Status::Internal("cannot allocate a zstd context");
      const size_t got = ZSTD_decompressDCtx(dctx, dst, n, src, plen);
      if (ZSTD_isError(got)) {
        return Bad(name + " does not decode: " + ZSTD_getErrorName(got));
      }
      if (got != n) {
        return Bad(name + " decoded to " + std::to_string(got) + " bytes, expected " +
                   std::to_string(n));
      }
      planes[p] = dst;
    }
    if (layout == PlaneLayout::kBytes) {
      if (n > 0 && planes[0] != out.data() + offset) std::memcpy(out.data() + offset, planes[0], n);
    } else {
      JoinPlanes(layout, planes, n, out.data() + offset);
    }
    offset += len;
  }
  if (pos != stored.size()) {
    return Bad(std::to_string(stored.size() - pos) + " stored bytes after the last plane");
  }
  return Status::Ok();
}

}  // namespace granary::codec
