// CodecHints: a safetensors header seen in the first bytes a writer writes
// becomes typed ranges for the blocks it covers.
#include "client/src/codec_hints.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "granary/safetensors.h"

namespace granary {
namespace {

// Header + zeroed data for tensors laid out back to back.
std::string Checkpoint(const std::vector<TensorSpec>& specs) {
  Result<std::string> h = BuildSafetensorsHeader(specs);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  std::string file = *h;
  for (const TensorSpec& t : specs) file.append(*TensorByteSize(t.dtype, t.shape), '\0');
  return file;
}

ByteSpan Span(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(CodecHints, TensorsBecomeTypedRangesOfTheirBlocks) {
  const std::string file = Checkpoint({{"a", Dtype::kBF16, {300000}},
                                       {"ids", Dtype::kI32, {1000}},
                                       {"b", Dtype::kF32, {400000}}});
  CodecHints hints(0);
  // Written in uneven pieces, as a writer would.
  hints.Observe(0, Span(file.substr(0, 5)));
  hints.Observe(5, Span(file.substr(5, 100)));
  hints.Observe(105, Span(file.substr(105)));
  ASSERT_TRUE(hints.has_tensors());
  const uint64_t data_start = file.size() - 600000 - 4000 - 1600000;
  std::vector<codec::TypedRange> ranges;
  // Block 0: the header and the int32 tensor (bytes), the bf16 tensor, and
  // the fp32 tensor up to the block's end.
  codec::EncodeOptions o = hints.ForBlock(0, 1 << 20, &ranges);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].offset, data_start);
  EXPECT_EQ(ranges[0].length, 600000u);
  EXPECT_EQ(ranges[0].type, codec::ElementType::kBf16);
  EXPECT_EQ(ranges[1].offset, data_start + 604000);
  EXPECT_EQ(ranges[1].length, (1u << 20) - (data_start + 604000));
  EXPECT_EQ(ranges[1].type, codec::ElementType::kF32);
  EXPECT_EQ(o.types.size(), 2u);
  // A block cut inside the fp32 tensor at an offset that is not a multiple
  // of 4 from the tensor's start: the range starts at the next element.
  const uint64_t f32_begin = data_start + 600000 + 4000;
  const uint64_t off = f32_begin + 4 * 1000 + 2;
  hints.ForBlock(off, 4096, &ranges);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 2u);
  EXPECT_EQ(ranges[0].length, 4094u);  // to the block's end; BuildRegions cuts whole elements
  EXPECT_EQ(ranges[0].type, codec::ElementType::kF32);
  // The int32 tensor gives no range: plain bytes.
  hints.ForBlock(data_start + 600000, 4000, &ranges);
  EXPECT_TRUE(ranges.empty());
}

TEST(CodecHints, OtherFilesGetNoHints) {
  CodecHints text(0);
  text.Observe(0, Span(std::string(4096, 'x')));
  EXPECT_FALSE(text.has_tensors());
  // Looks like a header length, but a lying JSON: no hints, no error.
  std::string fake = Checkpoint({{"a", Dtype::kBF16, {1000}}});
  fake[9] = '[';
  CodecHints bad(0);
  bad.Observe(0, Span(fake));
  EXPECT_FALSE(bad.has_tensors());
  // Written out of order: the header cannot be read in order, so none.
  const std::string file = Checkpoint({{"a", Dtype::kBF16, {1000}}});
  CodecHints gap(0);
  gap.Observe(100, Span(file.substr(100)));
  gap.Observe(0, Span(file.substr(0, 100)));
  EXPECT_FALSE(gap.has_tensors());
}

TEST(CodecHints, ForcedPolicyIgnoresTheHeader) {
  const std::string file = Checkpoint({{"a", Dtype::kBF16, {100000}}});
  CodecHints hints(static_cast<uint32_t>(codec::CodecPolicy::kZstd));
  hints.Observe(0, Span(file));
  std::vector<codec::TypedRange> ranges;
  codec::EncodeOptions o = hints.ForBlock(0, static_cast<uint32_t>(file.size()), &ranges);
  EXPECT_EQ(o.policy, codec::CodecPolicy::kZstd);
  EXPECT_TRUE(o.types.empty());
  // An unknown stored policy (a newer writer's) falls back to auto.
  CodecHints future(99);
  EXPECT_EQ(future.base().policy, codec::CodecPolicy::kAuto);
}

}  // namespace
}  // namespace granary
