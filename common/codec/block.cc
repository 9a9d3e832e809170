#include "common/codec/block.h"
#include "common/endian.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "common/checksum/xxh3.h"

namespace granary::codec {
namespace {

// Sampling: a few slices spread over the block are compressed at level 1. A
// block whose samples do not compress is stored raw without ever running zstd
// over all of it, so incompressible writes cost about a memcpy plus a hash.
constexpr size_t kSampleCount = 4;
constexpr size_t kSampleBytes = 8u << 10;
// Below this, sampling saves nothing: compressing the whole block is as cheap.
constexpr size_t kMinSampledBlock = kSampleCount * kSampleBytes * 2;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: contexts are not thread-safe, and creating one per
// block would cost more than compressing small blocks.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Largest stored size a zstd block of `raw_len` bytes may claim.
size_t MaxStoredSize(size_t raw_len) {
  return std::max<size_t>(ZSTD_COMPRESSBOUND(raw_len),
                          raw_len + 8 * SegmentCount(static_cast<uint32_t>(raw_len)));
}

// Stored length of a kRawSegmented block.
size_t SegmentedStoredSize(uint32_t raw_len) { return raw_len + 8ull * SegmentCount(raw_len); }

// True when the sampled slices compress by at least `min_saving`.
bool SamplesCompress(ByteSpan raw, double min_saving) {
  thread_local std::unique_ptr<uint8_t[]> scratch(new uint8_t[ZSTD_COMPRESSBOUND(kSampleBytes)]);
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx == nullptr) return false;
  const size_t stride = (raw.size() - kSampleBytes) / (kSampleCount - 1);
  size_t in = 0, out = 0;
  for (size_t i = 0; i < kSampleCount; ++i) {
    const uint8_t* src = raw.data() + i * stride;
    size_t n = ZSTD_compressCCtx(cctx, scratch.get(), ZSTD_COMPRESSBOUND(kSampleBytes), src,
                                 kSampleBytes, 1);
    if (ZSTD_isError(n)) return false;
    in += kSampleBytes;
    out += n;
  }
  return static_cast<double>(out) <= static_cast<double>(in) * (1.0 - min_saving);
}

void WriteHeader(const BlockHeader& h, uint8_t* p) {
  PutU32(p + 0, kBlockMagic);
  p[4] = static_cast<uint8_t>(h.codec);
  p[5] = kBlockFormatVersion;
  PutU16(p + 6, 0);
  PutU32(p + 8, h.raw_len);
  PutU32(p + 12, h.stored_len);
  PutU64(p + 16, h.stored_xxh3);
  PutU64(p + 24, h.raw_xxh3);
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

  bool try_zstd = !raw.empty() && options.min_saving < 1.0;
  if (try_zstd && options.sample_first && raw.size() >= kMinSampledBlock) {
    try_zstd = SamplesCompress(raw, options.min_saving);
  }
  if (try_zstd) {
    // Cap the destination at the largest size worth keeping: zstd then gives
    // up with dstSize_tooSmall as soon as the block cannot pay, instead of
    // finishing a compression we would throw away.
    const double keep = static_cast<double>(raw.size()) * (1.0 - std::max(0.0, options.min_saving));
    const size_t cap = std::min(MaxStoredSize(raw.size()), static_cast<size_t>(keep));
    ZSTD_CCtx* cctx = ThreadCCtx();
    size_t n =
        cctx ? ZSTD_compressCCtx(cctx, stored, cap, raw.data(), raw.size(), options.zstd_level) : 0;
    if (cctx && !ZSTD_isError(n) && n > 0) {
      h.codec = CodecId::kZstd;
      h.stored_len = static_cast<uint32_t>(n);
      h.stored_xxh3 = checksum::Xxh3(stored, n);
      WriteHeader(h, out.data());
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
    WriteHeader(h, out.data());
    return h.encoded_size();
  }
  // Raw: the stored bytes are the raw bytes, so one hash serves both.
  h.codec = CodecId::kRaw;
  h.stored_len = h.raw_len;
  h.stored_xxh3 = h.raw_xxh3;
  if (!raw.empty()) std::memcpy(stored, raw.data(), raw.size());
  WriteHeader(h, out.data());
  return h.encoded_size();
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
      codec != static_cast<uint8_t>(CodecId::kRawSegmented)) {
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
    default:
      return Status::Corruption("unknown block codec " +
                                std::to_string(static_cast<int>(header.codec)));
  }
  if (checksum::Xxh3(out.data(), out.size()) != header.raw_xxh3) {
    return Status::ChecksumMismatch("decoded bytes do not match the block's raw_xxh3");
  }
  return Status::Ok();
}

}  // namespace granary::codec
