#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/checksum/xxh3.h"
#include "common/codec/block.h"

namespace granary::codec {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::vector<uint8_t> TextBytes(size_t n) {
  static const char kWords[] =
      "the quick brown fox jumps over the lazy dog; granary stores weights. ";
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(kWords[(i * 7 + i / 13) % (sizeof(kWords) - 1)]);
  return v;
}

std::vector<uint8_t> Encode(const std::vector<uint8_t>& raw, EncodeOptions opts = {}) {
  std::vector<uint8_t> out(MaxEncodedSize(raw.size()));
  Result<size_t> n = EncodeBlock(raw, opts, out);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  out.resize(n.ok() ? *n : 0);
  return out;
}

// Parses, verifies and decodes one encoded block; returns the final status.
Status DecodeAll(const std::vector<uint8_t>& enc, std::vector<uint8_t>* raw) {
  Result<BlockHeader> h = ParseBlockHeader(enc);
  if (!h.ok()) return h.status();
  if (enc.size() != h->encoded_size()) return Status::Corruption("size");
  ByteSpan stored(enc.data() + kBlockHeaderSize, h->stored_len);
  RETURN_IF_ERROR(VerifyStored(*h, stored));
  raw->resize(h->raw_len);
  return DecodeBlock(*h, stored, *raw);
}

void ExpectRoundTrip(const std::vector<uint8_t>& raw, CodecId expected_codec) {
  std::vector<uint8_t> enc = Encode(raw);
  ASSERT_GE(enc.size(), kBlockHeaderSize);
  Result<BlockHeader> h = ParseBlockHeader(enc);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->codec, expected_codec);
  EXPECT_EQ(h->raw_len, raw.size());
  EXPECT_EQ(h->raw_xxh3, checksum::Xxh3(raw.data(), raw.size()));
  std::vector<uint8_t> back;
  Status st = DecodeAll(enc, &back);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(back, raw);
}

TEST(BlockCodec, RoundTripEmpty) { ExpectRoundTrip({}, CodecId::kRaw); }
TEST(BlockCodec, RoundTripOneByte) { ExpectRoundTrip({0x42}, CodecId::kRaw); }
TEST(BlockCodec, RoundTripText) { ExpectRoundTrip(TextBytes(1 << 20), CodecId::kZstdSegmented); }
TEST(BlockCodec, RoundTripSmallText) { ExpectRoundTrip(TextBytes(3000), CodecId::kZstd); }
TEST(BlockCodec, RoundTripRandomIsRawSegmented) {
  ExpectRoundTrip(RandomBytes(1 << 20, 1), CodecId::kRawSegmented);
}
TEST(BlockCodec, RoundTripOneSegmentIsPlainRaw) {
  ExpectRoundTrip(RandomBytes(kSegmentSize, 11), CodecId::kRaw);
}
TEST(BlockCodec, RoundTripSegmentPlusOne) {
  ExpectRoundTrip(RandomBytes(kSegmentSize + 1, 12), CodecId::kRawSegmented);
}
TEST(BlockCodec, RoundTripZeros) {
  std::vector<uint8_t> zeros(1 << 20, 0);
  ExpectRoundTrip(zeros, CodecId::kZstdSegmented);
  EXPECT_LT(Encode(zeros).size(), 1000u);
}
TEST(BlockCodec, RoundTripMaxSize) {
  ExpectRoundTrip(TextBytes(kMaxBlockSize), CodecId::kZstdSegmented);
}
// One segment is one frame: the plain zstd codec, no table.
TEST(BlockCodec, RoundTripOneSegmentOfTextIsPlainZstd) {
  ExpectRoundTrip(TextBytes(kSegmentSize), CodecId::kZstd);
}
TEST(BlockCodec, RoundTripTextSegmentPlusOne) {
  ExpectRoundTrip(TextBytes(kSegmentSize + 1), CodecId::kZstdSegmented);
}

// Each frame of a segmented zstd block decodes on its own, to exactly its
// segment, and checks against its own checksum.
TEST(BlockCodec, ZstdSegmentsDecodeOneByOne) {
  const std::vector<uint8_t> raw = TextBytes((1 << 20) - 5000);  // a short last segment
  const std::vector<uint8_t> enc = Encode(raw);
  Result<BlockHeader> hr = ParseBlockHeader(enc);
  ASSERT_TRUE(hr.ok()) << hr.status().ToString();
  const BlockHeader h = *hr;
  ASSERT_EQ(h.codec, CodecId::kZstdSegmented);
  ByteSpan stored = ByteSpan(enc).subspan(kBlockHeaderSize);
  Result<ZstdSegmentTable> t = ParseZstdSegmentTable(h, stored);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->frame_len.size(), SegmentCount(h.raw_len));
  for (uint32_t i = 0; i < t->frame_len.size(); ++i) {
    const size_t off = size_t(i) * kSegmentSize;
    std::vector<uint8_t> seg(std::min<size_t>(kSegmentSize, raw.size() - off));
    ByteSpan frame = stored.subspan(t->frame_offset[i], t->frame_len[i]);
    Status st = DecodeZstdSegment(*t, i, frame, seg);
    ASSERT_TRUE(st.ok()) << "segment " << i << ": " << st.ToString();
    EXPECT_EQ(0, std::memcmp(seg.data(), raw.data() + off, seg.size())) << "segment " << i;
  }
  // A frame given to the wrong segment fails its checksum or its length.
  std::vector<uint8_t> seg(kSegmentSize);
  EXPECT_FALSE(
      DecodeZstdSegment(*t, 1, stored.subspan(t->frame_offset[0], t->frame_len[0]), seg).ok());
}

// A table whose frame lengths do not add up is refused before any frame is
// touched, even with a stored checksum that matches (a buggy writer).
TEST(BlockCodec, ZstdSegmentTableThatDoesNotAddUpIsCorruption) {
  std::vector<uint8_t> enc = Encode(TextBytes(1 << 20));
  Result<BlockHeader> hr = ParseBlockHeader(enc);
  ASSERT_TRUE(hr.ok()) << hr.status().ToString();
  const BlockHeader h = *hr;
  ASSERT_EQ(h.codec, CodecId::kZstdSegmented);
  for (uint32_t bad : {0u, 1u << 30, 7u}) {
    std::vector<uint8_t> copy = enc;
    std::memcpy(copy.data() + kBlockHeaderSize, &bad, 4);  // frame 0's length
    ByteSpan stored = ByteSpan(copy).subspan(kBlockHeaderSize);
    EXPECT_EQ(ParseZstdSegmentTable(h, stored).status().code(), proto::CORRUPTION) << bad;
    std::vector<uint8_t> out(h.raw_len);
    EXPECT_EQ(DecodeBlock(h, stored, out).code(), proto::CORRUPTION) << bad;
  }
}
TEST(BlockCodec, RoundTripMaxSizeRandom) {
  ExpectRoundTrip(RandomBytes(kMaxBlockSize, 9), CodecId::kRawSegmented);
}

TEST(BlockCodec, RejectsOversizedInput) {
  std::vector<uint8_t> raw(kMaxBlockSize + 1);
  std::vector<uint8_t> out(MaxEncodedSize(raw.size()));
  EXPECT_EQ(EncodeBlock(raw, {}, out).status().code(), proto::INVALID_ARGUMENT);
}

TEST(BlockCodec, RejectsSmallOutput) {
  std::vector<uint8_t> raw = TextBytes(100);
  std::vector<uint8_t> out(MaxEncodedSize(raw.size()) - 1);
  EXPECT_EQ(EncodeBlock(raw, {}, out).status().code(), proto::INVALID_ARGUMENT);
}

TEST(BlockCodec, SamplingSkipsIncompressibleBlock) {
  // Random bytes everywhere except the very end: the samples say "random",
  // so the block is stored raw even though a sliver would compress.
  std::vector<uint8_t> raw = RandomBytes(1 << 20, 2);
  std::vector<uint8_t> enc = Encode(raw);
  ASSERT_TRUE(ParseBlockHeader(enc).ok());
  EXPECT_EQ(ParseBlockHeader(enc)->codec, CodecId::kRawSegmented);
  // The raw bytes plus one 8-byte checksum per 64 KiB segment.
  EXPECT_EQ(enc.size(), raw.size() + kBlockHeaderSize + 8 * SegmentCount(raw.size()));
}

TEST(BlockCodec, SegmentsVerifyOnTheirOwn) {
  const uint32_t len = 3 * kSegmentSize + 100;  // the last segment is short
  std::vector<uint8_t> raw = RandomBytes(len, 13);
  std::vector<uint8_t> enc = Encode(raw);
  auto parsed = ParseBlockHeader(enc);
  ASSERT_TRUE(parsed.ok());
  BlockHeader h = *parsed;
  ASSERT_EQ(h.codec, CodecId::kRawSegmented);
  const uint8_t* data = enc.data() + kBlockHeaderSize;
  const uint8_t* sums = data + len;
  // Segments 1..3 (the short one last) verify against their table entries.
  EXPECT_TRUE(VerifySegments(1, ByteSpan(data + kSegmentSize, len - kSegmentSize),
                           ByteSpan(sums + 8, 24)).ok());
  EXPECT_TRUE(VerifySegments(0, ByteSpan(data, kSegmentSize), ByteSpan(sums, 8)).ok());
  // A flipped byte in segment 2 is caught and named.
  std::vector<uint8_t> bad(data + 2 * kSegmentSize, data + 3 * kSegmentSize);
  bad[77] ^= 1;
  Status st = VerifySegments(2, ByteSpan(bad.data(), bad.size()), ByteSpan(sums + 16, 8));
  EXPECT_EQ(st.code(), proto::CHECKSUM_MISMATCH);
  EXPECT_NE(st.message().find("segment 2"), std::string::npos);
  // Lengths that do not make the given number of segments are refused.
  EXPECT_EQ(VerifySegments(0, ByteSpan(data, kSegmentSize + 1), ByteSpan(sums, 8)).code(),
            proto::CORRUPTION);
  EXPECT_EQ(VerifySegments(0, ByteSpan(data, kSegmentSize), ByteSpan(sums, 16)).code(),
            proto::CORRUPTION);
}

TEST(BlockCodec, SegmentedHeaderWithWrongStoredLengthIsCorrupt) {
  std::vector<uint8_t> enc = Encode(RandomBytes(1 << 20, 14));
  enc[12] ^= 0x08;  // stored_len
  EXPECT_EQ(ParseBlockHeader(enc).status().code(), proto::CORRUPTION);
}

TEST(BlockCodec, MinSavingKeepsRawWhenGainIsSmall) {
  // Half random, half zeros saves ~50%: kept with min_saving 0.03, refused at 0.9.
  std::vector<uint8_t> raw = RandomBytes(1 << 16, 3);
  std::memset(raw.data(), 0, raw.size() / 2);
  EncodeOptions opts;
  opts.sample_first = false;
  EXPECT_EQ(ParseBlockHeader(Encode(raw, opts))->codec, CodecId::kZstd);
  opts.min_saving = 0.9;
  EXPECT_EQ(ParseBlockHeader(Encode(raw, opts))->codec, CodecId::kRaw);
}

// Whole-byte zstd must save 1/8 under kAuto: bytes with 7 random bits each
// (zstd saves just under 12.5%) stay raw and decode as a copy; with 6
// random bits (25%) they compress. A forced zstd policy keeps the 3% bar.
TEST(BlockCodec, AutoZstdMustSaveAnEighth) {
  auto bits = [](int keep, uint64_t seed) {
    std::vector<uint8_t> raw = RandomBytes(1 << 20, seed);
    for (uint8_t& b : raw) b = static_cast<uint8_t>(b >> (8 - keep));
    return raw;
  };
  const std::vector<uint8_t> seven = bits(7, 21), six = bits(6, 22);
  EXPECT_EQ(ParseBlockHeader(Encode(seven))->codec, CodecId::kRawSegmented);
  const std::vector<uint8_t> enc = Encode(six);
  EXPECT_EQ(ParseBlockHeader(enc)->codec, CodecId::kZstdSegmented);
  EXPECT_LT(enc.size(), six.size() * 7 / 8);
  EncodeOptions forced;
  forced.policy = CodecPolicy::kZstd;
  const std::vector<uint8_t> z = Encode(seven, forced);
  EXPECT_EQ(ParseBlockHeader(z)->codec, CodecId::kZstdSegmented);
  EXPECT_LT(z.size(), seven.size());
}

TEST(BlockCodec, FlippedStoredByteIsChecksumMismatch) {
  for (auto raw : {TextBytes(1 << 20), RandomBytes(1 << 20, 4)}) {
    std::vector<uint8_t> enc = Encode(raw);
    enc[kBlockHeaderSize + (enc.size() - kBlockHeaderSize) / 2] ^= 0x01;
    std::vector<uint8_t> back;
    EXPECT_EQ(DecodeAll(enc, &back).code(), proto::CHECKSUM_MISMATCH);
  }
}

TEST(BlockCodec, DecodeChecksRawChecksum) {
  std::vector<uint8_t> raw = TextBytes(4096);
  std::vector<uint8_t> enc = Encode(raw);
  enc[24] ^= 0x80;  // raw_xxh3
  Result<BlockHeader> h = ParseBlockHeader(enc);
  ASSERT_TRUE(h.ok());
  std::vector<uint8_t> out(h->raw_len);
  EXPECT_EQ(DecodeBlock(*h, ByteSpan(enc).subspan(kBlockHeaderSize), out).code(),
            proto::CHECKSUM_MISMATCH);
}

TEST(BlockCodec, CorruptHeaderFieldsAreRejected) {
  const std::vector<uint8_t> good = Encode(TextBytes(4096));
  struct Case {
    const char* what;
    size_t offset;
    uint8_t value;
  };
  for (const Case& c :
       {Case{"magic", 0, 0x00}, Case{"codec", 4, 9}, Case{"version", 5, 7}, Case{"reserved", 6, 1},
        Case{"raw_len", 11, 0x7f}, Case{"stored_len", 15, 0x7f}}) {
    std::vector<uint8_t> bad = good;
    bad[c.offset] = c.value;
    Result<BlockHeader> h = ParseBlockHeader(bad);
    EXPECT_FALSE(h.ok()) << c.what;
    if (!h.ok()) {
      EXPECT_EQ(h.status().code(), proto::CORRUPTION) << c.what;
    }
  }
}

TEST(BlockCodec, RawBlockLengthsMustAgree) {
  std::vector<uint8_t> enc = Encode(RandomBytes(100, 5));
  enc[12] = 99;  // stored_len 99 != raw_len 100
  EXPECT_EQ(ParseBlockHeader(enc).status().code(), proto::CORRUPTION);
}

TEST(BlockCodec, TruncatedInput) {
  std::vector<uint8_t> enc = Encode(TextBytes(1 << 16));
  EXPECT_EQ(ParseBlockHeader(ByteSpan(enc).first(kBlockHeaderSize - 1)).status().code(),
            proto::CORRUPTION);
  Result<BlockHeader> h = ParseBlockHeader(enc);
  ASSERT_TRUE(h.ok());
  ByteSpan cut = ByteSpan(enc).subspan(kBlockHeaderSize, h->stored_len - 1);
  EXPECT_EQ(VerifyStored(*h, cut).code(), proto::CORRUPTION);
  std::vector<uint8_t> out(h->raw_len);
  EXPECT_EQ(DecodeBlock(*h, cut, out).code(), proto::CORRUPTION);
}

TEST(BlockCodec, ZstdStreamOfWrongLengthIsCorruption) {
  // A valid zstd frame of 1000 bytes under a header that claims 2000 (and
  // the other way round): the checksums are right, the length is not.
  for (auto [actual, claimed] : {std::pair<size_t, uint32_t>{1000, 2000}, {2000, 1000}}) {
    std::vector<uint8_t> raw = TextBytes(actual);
    std::vector<uint8_t> frame(ZSTD_compressBound(raw.size()));
    size_t n = ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 1);
    ASSERT_FALSE(ZSTD_isError(n));
    frame.resize(n);
    BlockHeader h;
    h.codec = CodecId::kZstd;
    h.raw_len = claimed;
    h.stored_len = static_cast<uint32_t>(n);
    h.stored_xxh3 = checksum::Xxh3(frame.data(), n);
    h.raw_xxh3 = checksum::Xxh3(raw.data(), raw.size());
    ASSERT_TRUE(VerifyStored(h, frame).ok());
    std::vector<uint8_t> out(claimed);
    Status st = DecodeBlock(h, frame, out);
    EXPECT_EQ(st.code(), proto::CORRUPTION) << st.ToString();
  }
}

TEST(BlockCodec, GarbageZstdIsCorruption) {
  std::vector<uint8_t> junk = RandomBytes(500, 6);
  BlockHeader h;
  h.codec = CodecId::kZstd;
  h.raw_len = 4096;
  h.stored_len = 500;
  std::vector<uint8_t> out(4096);
  EXPECT_EQ(DecodeBlock(h, junk, out).code(), proto::CORRUPTION);
}

TEST(BlockCodec, DecodeRejectsWrongOutputSize) {
  std::vector<uint8_t> enc = Encode(TextBytes(4096));
  Result<BlockHeader> h = ParseBlockHeader(enc);
  ASSERT_TRUE(h.ok());
  std::vector<uint8_t> out(4095);
  EXPECT_FALSE(DecodeBlock(*h, ByteSpan(enc).subspan(kBlockHeaderSize), out).ok());
}

}  // namespace
}  // namespace granary::codec
