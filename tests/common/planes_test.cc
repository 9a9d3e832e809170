// The planes codec (codec 3): exact round trips for every layout, regions
// that straddle element types, the per-block choice, and corrupt tables
// rejected with the fault named. Synthetic weights here; real ones are
// measured by bench/codec_bench.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/codec/block.h"
#include "common/endian.h"

namespace granary::codec {
namespace {

// Normal-distributed weights like a trained layer's (std 0.02).
std::vector<float> Weights(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint8_t> F32Bytes(size_t n, uint32_t seed) {
  std::vector<float> w = Weights(n, seed);
  std::vector<uint8_t> out(n * 4);
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, &w[i], 4);
    PutU32(out.data() + 4 * i, u);
  }
  return out;
}

std::vector<uint8_t> Bf16Bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> f = F32Bytes(n, seed);
  std::vector<uint8_t> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = GetU32(f.data() + 4 * i);
    PutU16(out.data() + 2 * i, static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16));
  }
  return out;
}

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

struct Encoded {
  BlockHeader header;
  std::vector<uint8_t> bytes;
};

Encoded EncodeWith(const std::vector<uint8_t>& raw, EncodeOptions o) {
  Encoded e;
  e.bytes.resize(MaxEncodedSize(raw.size()));
  Result<size_t> n = EncodeBlock(raw, o, e.bytes);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  e.bytes.resize(n.ok() ? *n : 0);
  Result<BlockHeader> h = ParseBlockHeader(e.bytes);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (h.ok()) e.header = *h;
  return e;
}

Status Decode(const Encoded& e, std::vector<uint8_t>* raw) {
  ASSIGN_OR_RETURN(BlockHeader h, ParseBlockHeader(e.bytes));
  ByteSpan stored(e.bytes.data() + kBlockHeaderSize, e.bytes.size() - kBlockHeaderSize);
  RETURN_IF_ERROR(VerifyStored(h, stored));
  raw->assign(h.raw_len, 0xEE);
  return DecodeBlock(h, stored, *raw);
}

void ExpectRoundTrip(const std::vector<uint8_t>& raw, const EncodeOptions& o, CodecId codec) {
  Encoded e = EncodeWith(raw, o);
  EXPECT_EQ(e.header.codec, codec);
  std::vector<uint8_t> back;
  Status st = Decode(e, &back);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(back == raw);
}

TEST(Planes, SplitThenJoinIsIdentityForEveryLayout) {
  const std::vector<uint8_t> raw = RandomBytes(4096, 7);
  for (uint8_t l = 0; l <= kMaxPlaneLayout; ++l) {
    const auto layout = static_cast<PlaneLayout>(l);
    const uint32_t w = LayoutWidth(layout);
    const size_t n = raw.size() / w;
    std::vector<uint8_t> planes(raw.size()), back(raw.size());
    uint8_t* p[4];
    const uint8_t* cp[4];
    for (uint32_t i = 0; i < w; ++i) cp[i] = p[i] = planes.data() + i * n;
    SplitPlanes(layout, raw.data(), n, p);
    JoinPlanes(layout, cp, n, back.data());
    EXPECT_TRUE(back == raw) << "layout " << int(l);
  }
}

TEST(Planes, Bf16SplitPutsTheWholeExponentInPlaneZero) {
  // 1.0f as bf16 is 0x3F80: exponent 127, sign 0, mantissa 0.
  const uint8_t one[2] = {0x80, 0x3F};
  uint8_t e = 0, sm = 0;
  uint8_t* p[2] = {&e, &sm};
  SplitPlanes(PlaneLayout::kBf16Split, one, 1, p);
  EXPECT_EQ(e, 127);
  EXPECT_EQ(sm, 0);
  // -1.5 = 0xBFC0: sign 1, exponent 127, top mantissa bit set.
  const uint8_t neg[2] = {0xC0, 0xBF};
  SplitPlanes(PlaneLayout::kBf16Split, neg, 1, p);
  EXPECT_EQ(e, 127);
  EXPECT_EQ(sm, 0x80 | 0x40);
}

TEST(Planes, HintedBf16CompressesBetterThanZstd) {
  const std::vector<uint8_t> raw = Bf16Bytes(512 << 10, 1);
  const TypedRange all{0, static_cast<uint32_t>(raw.size()), ElementType::kBf16};
  EncodeOptions planes;
  planes.types = std::span(&all, 1);
  Encoded p = EncodeWith(raw, planes);
  EncodeOptions zstd;
  zstd.policy = CodecPolicy::kZstd;
  Encoded z = EncodeWith(raw, zstd);
  EXPECT_EQ(p.header.codec, CodecId::kPlanes);
  EXPECT_LT(p.bytes.size(), z.bytes.size());
  ExpectRoundTrip(raw, planes, CodecId::kPlanes);
}

TEST(Planes, HintedF32AndF16RoundTrip) {
  const std::vector<uint8_t> f32 = F32Bytes(256 << 10, 2);
  const TypedRange r32{0, static_cast<uint32_t>(f32.size()), ElementType::kF32};
  EncodeOptions o;
  o.types = std::span(&r32, 1);
  ExpectRoundTrip(f32, o, CodecId::kPlanes);
  EncodeOptions forced;
  forced.policy = CodecPolicy::kF16;
  ExpectRoundTrip(Bf16Bytes(300000, 3), forced, CodecId::kPlanes);
}

TEST(Planes, SamplingFindsFloatsWithoutAHint) {
  ExpectRoundTrip(Bf16Bytes(512 << 10, 4), {}, CodecId::kPlanes);
  ExpectRoundTrip(F32Bytes(256 << 10, 5), {}, CodecId::kPlanes);
}

TEST(Planes, RandomBytesStayRawEvenWhenForced) {
  EncodeOptions forced;
  forced.policy = CodecPolicy::kBf16;
  ExpectRoundTrip(RandomBytes(1 << 20, 6), forced, CodecId::kRawSegmented);
}

TEST(Planes, ForcedRawAndZstdNeverUsePlanes) {
  const std::vector<uint8_t> raw = Bf16Bytes(512 << 10, 7);
  EncodeOptions raw_only;
  raw_only.policy = CodecPolicy::kRaw;
  ExpectRoundTrip(raw, raw_only, CodecId::kRawSegmented);
  EncodeOptions zstd;
  zstd.policy = CodecPolicy::kZstd;
  ExpectRoundTrip(raw, zstd, CodecId::kZstdSegmented);
}

TEST(Planes, BlockStraddlingTensorsOfSeveralTypes) {
  // A header-like run of text, an fp32 tensor at an odd offset, a bf16
  // tensor, int bytes, and a bf16 tensor cut by the block's end.
  std::vector<uint8_t> raw;
  const std::string text(777, 'x');
  raw.insert(raw.end(), text.begin(), text.end());
  const uint32_t f32_at = static_cast<uint32_t>(raw.size());
  auto f32 = F32Bytes(20000, 8);
  raw.insert(raw.end(), f32.begin(), f32.end());
  const uint32_t bf_at = static_cast<uint32_t>(raw.size());
  auto bf = Bf16Bytes(30001, 9);
  raw.insert(raw.end(), bf.begin(), bf.end());
  const uint32_t int_at = static_cast<uint32_t>(raw.size());
  auto ints = RandomBytes(5000, 10);
  raw.insert(raw.end(), ints.begin(), ints.end());
  const uint32_t tail_at = static_cast<uint32_t>(raw.size());
  auto tail = Bf16Bytes(40000, 11);
  raw.insert(raw.end(), tail.begin(), tail.end() - 1);  // cut mid-element
  const std::vector<TypedRange> types = {
      {f32_at, static_cast<uint32_t>(f32.size()), ElementType::kF32},
      {bf_at, static_cast<uint32_t>(bf.size()), ElementType::kBf16},
      {int_at, static_cast<uint32_t>(ints.size()), ElementType::kBytes},
      {tail_at, static_cast<uint32_t>(tail.size()), ElementType::kBf16},  // past the block
  };
  const std::vector<Region> regions = BuildRegions(static_cast<uint32_t>(raw.size()), types);
  uint64_t covered = 0;
  for (const Region& r : regions) {
    EXPECT_EQ(r.length % LayoutWidth(r.layout), 0u);
    covered += r.length;
  }
  EXPECT_EQ(covered, raw.size());
  EXPECT_GE(regions.size(), 5u);
  EncodeOptions o;
  o.types = types;
  ExpectRoundTrip(raw, o, CodecId::kPlanes);
}

TEST(Planes, ManyTinyTensorsStayWithinTheRegionLimit) {
  std::vector<uint8_t> raw = Bf16Bytes(200000, 12);
  std::vector<TypedRange> types;
  for (uint32_t off = 0; off + 1000 <= raw.size(); off += 1000) {
    // Alternating types with gaps: nothing merges.
    types.push_back({off, 998, (off / 1000) % 2 ? ElementType::kF16 : ElementType::kBf16});
  }
  const std::vector<Region> regions = BuildRegions(static_cast<uint32_t>(raw.size()), types);
  EXPECT_LE(regions.size(), kMaxRegions);
  EncodeOptions o;
  o.types = types;
  Encoded e = EncodeWith(raw, o);
  std::vector<uint8_t> back;
  ASSERT_TRUE(Decode(e, &back).ok());
  EXPECT_TRUE(back == raw);
}

TEST(Planes, OddLengthsAndTinyBlocks) {
  for (size_t n : {1u, 2u, 3u, 5u, 255u, 4097u, 65537u}) {
    std::vector<uint8_t> raw = Bf16Bytes(n / 2 + 1, 13);
    raw.resize(n);
    EncodeOptions forced;
    forced.policy = CodecPolicy::kF32;
    forced.min_saving = 0;  // keep planes even where they barely pay
    Encoded e = EncodeWith(raw, forced);
    std::vector<uint8_t> back;
    Status st = Decode(e, &back);
    ASSERT_TRUE(st.ok()) << "n=" << n << ": " << st.ToString();
    EXPECT_TRUE(back == raw) << "n=" << n;
  }
}

// Corrupting a planes block's tables (with the stored checksum fixed up, as
// a buggy or hostile writer would) gives CORRUPTION naming the fault.
class CorruptPlanes : public ::testing::Test {
 protected:
  void SetUp() override {
    raw_ = Bf16Bytes(100000, 14);
    EncodeOptions forced;
    forced.policy = CodecPolicy::kBf16;
    enc_ = EncodeWith(raw_, forced);
    ASSERT_EQ(enc_.header.codec, CodecId::kPlanes);
  }
  // Applies `edit` to the stored bytes, then decodes.
  Status DecodeEdited(const std::function<void(std::vector<uint8_t>&)>& edit) {
    std::vector<uint8_t> stored(enc_.bytes.begin() + kBlockHeaderSize, enc_.bytes.end());
    edit(stored);
    std::vector<uint8_t> out(raw_.size());
    return DecodePlanes(stored, out);
  }
  std::vector<uint8_t> raw_;
  Encoded enc_;
};

TEST_F(CorruptPlanes, EachFieldIsChecked) {
  struct Case {
    const char* expect;
    std::function<void(std::vector<uint8_t>&)> edit;
  };
  const std::vector<Case> cases = {
      {"unknown format", [](auto& s) { s[0] = 9; }},
      {"region count", [](auto& s) { s[1] = 0; }},
      {"region count", [](auto& s) { s[1] = 200; }},
      {"reserved", [](auto& s) { s[2] = 1; }},
      {"unknown layout", [](auto& s) { s[4 + 4] = 77; }},
      {"regions cover", [](auto& s) { PutU32(s.data() + 4, 100002); }},
      {"not a multiple", [](auto& s) { PutU32(s.data() + 4, 100001); }},
      {"unknown method", [](auto& s) { s[12] = 5; }},
      {"run past", [](auto& s) { PutU32(s.data() + 12 + 4, 0x7FFFFFFF); }},
      {"does not decode", [](auto& s) { for (size_t i = 28; i < 60; ++i) s[i] ^= 0x5A; }},
      {"after the last plane", [](auto& s) { s.push_back(0); }},
      {"truncated", [](auto& s) { s.resize(6); }},
  };
  for (const Case& c : cases) {
    Status st = DecodeEdited(c.edit);
    EXPECT_EQ(st.code(), proto::CORRUPTION) << c.expect << ": " << st.ToString();
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.ToString();
  }
  EXPECT_TRUE(DecodeEdited([](auto&) {}).ok());
}

TEST(Planes, CodecPolicyNamesRoundTrip) {
  for (const char* name : {"auto", "raw", "zstd", "bf16", "fp16", "fp32"}) {
    Result<CodecPolicy> p = ParseCodecPolicy(name);
    ASSERT_TRUE(p.ok());
    EXPECT_STREQ(CodecPolicyName(*p), name);
  }
  Result<CodecPolicy> bad = ParseCodecPolicy("lz4");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lz4"), std::string::npos);
}

}  // namespace
}  // namespace granary::codec
