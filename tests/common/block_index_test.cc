// Format 2's footer index and BlockIndexCache: a segmented block's ranged
// read needs no read of the block's own header or table.
#include "common/codec/block_index.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/codec/chunk_format.h"
#include "tests/storage/test_chunks.h"

namespace granary::codec {
namespace {

using storage::testing::MakeChunk;
using storage::testing::TempDir;
using storage::testing::TestChunk;

ChunkFooter FooterOf(const TestChunk& c, bool with_index) {
  return storage::testing::FooterOf(c, {0x42, 3}, with_index);
}

// A chunk file (blocks + footer) in `dir`; returns its descriptor.
int WriteChunkFile(const std::string& path, const TestChunk& c, const ChunkFooter& f) {
  const Buffer footer = EncodeFooter(f);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::pwrite(fd, c.encoded.data(), c.encoded.size(), 0),
            static_cast<ssize_t>(c.encoded.size()));
  EXPECT_EQ(::pwrite(fd, footer.data(), footer.size(), static_cast<off_t>(c.encoded.size())),
            static_cast<ssize_t>(footer.size()));
  return fd;
}

TEST(BlockIndex, FooterIndexRoundTripsAndNamesEveryCodec) {
  // 200 KiB blocks: even ones random (kRawSegmented), odd ones compress
  // (kZstdSegmented); then a 1 KiB chunk for the unsegmented codecs.
  for (const size_t size : {size_t{200} << 10, size_t{1} << 10}) {
    TestChunk c = MakeChunk(4, size, 7);
    ChunkFooter f = FooterOf(c, true);
    ASSERT_EQ(f.index.size(), 4u);
    Buffer bytes = EncodeFooter(f);
    ASSERT_EQ(bytes.size(), f.footer_size());
    Result<ChunkFooter> back = ParseFooter(bytes.span(), f.file_size());
    ASSERT_OK(back);
    EXPECT_EQ(back->index, f.index);
    EXPECT_EQ(back->blocks, f.blocks);
    for (size_t i = 0; i < 4; ++i) {
      const Result<BlockHeader> h = ParseBlockHeader(c.Piece(i, 1));
      ASSERT_OK(h);
      EXPECT_EQ(f.index[i].codec, static_cast<uint8_t>(h->codec)) << i;
      EXPECT_EQ(f.index[i].table.size(), SegmentTableSize(h->codec, h->raw_len)) << i;
    }
    if (size > kSegmentSize) {
      EXPECT_EQ(f.index[0].codec, static_cast<uint8_t>(CodecId::kRawSegmented));
      EXPECT_EQ(f.index[1].codec, static_cast<uint8_t>(CodecId::kZstdSegmented));
    }
  }
}

TEST(BlockIndex, FormatOneFootersStillParse) {
  TestChunk c = MakeChunk(3, 100 << 10, 8);
  ChunkFooter f = FooterOf(c, false);
  Buffer bytes = EncodeFooter(f);
  EXPECT_EQ(bytes.data()[bytes.size() - kTrailerSize + 4], 1);  // format_version 1
  Result<ChunkFooter> back = ParseFooter(bytes.span(), f.file_size());
  ASSERT_OK(back);
  EXPECT_TRUE(back->index.empty());
}

TEST(BlockIndex, BadIndexEntriesAreRefused) {
  TestChunk c = MakeChunk(2, 100 << 10, 9);
  // An unknown codec, a codec whose shape does not fit the block's lengths,
  // and a table one byte short: each re-checksummed, so only the index
  // check can catch it.
  for (int variant = 0; variant < 3; ++variant) {
    ChunkFooter f = FooterOf(c, true);
    if (variant == 0) f.index[0].codec = 9;
    if (variant == 1) f.index[0].codec = static_cast<uint8_t>(CodecId::kRaw);
    if (variant == 2) f.index[1].table.pop_back();
    Buffer bytes = EncodeFooter(f);
    Result<ChunkFooter> back = ParseFooter(bytes.span(), f.file_size());
    EXPECT_EQ(back.status().code(), proto::CORRUPTION) << variant;
  }
}

TEST(BlockIndex, FormatTwoNeedsNoReadOfTheBlock) {
  TempDir dir;
  TestChunk c = MakeChunk(4, 200 << 10, 10);
  const ChunkFooter v2 = FooterOf(c, true);
  const ChunkFooter v1 = FooterOf(c, false);
  const int fd = WriteChunkFile(dir.path() + "/chunk", c, v1);
  BlockIndexCache from_footer, from_file;
  for (uint32_t b = 0; b < 4; ++b) {
    // fd -1: any read would fail, so the index came from the footer alone.
    auto a = from_footer.Get(-1, v2, b, "test");
    ASSERT_OK(a);
    auto r = from_file.Get(fd, v1, b, "test");
    ASSERT_OK(r);
    EXPECT_EQ(std::memcmp((*a)->header_bytes, c.encoded.data() + c.offsets[b], kBlockHeaderSize),
              0);
    EXPECT_EQ(std::memcmp((*a)->header_bytes, (*r)->header_bytes, kBlockHeaderSize), 0);
    ASSERT_EQ((*a)->table.size(), (*r)->table.size());
    EXPECT_EQ(std::memcmp((*a)->table.data(), (*r)->table.data(), (*a)->table.size()), 0);
    // The same range from either index: the same reply bytes.
    auto x = ReadSegmentRange(fd, v2.blocks[b], **a, 70000, 4096);
    auto y = ReadSegmentRange(fd, v1.blocks[b], **r, 70000, 4096);
    ASSERT_OK(x);
    ASSERT_OK(y);
    ASSERT_EQ(x->size(), y->size());
    EXPECT_EQ(std::memcmp(x->data(), y->data(), x->size()), 0);
  }
  EXPECT_EQ(from_file.Get(-1, v1, 0, "test").ok(), true);  // cached: no read either
  EXPECT_EQ(from_file.Get(fd, v1, 9, "test").status().code(), proto::INVALID_ARGUMENT);
  ::close(fd);
}

TEST(BlockIndex, FormatOneHeaderThatDisagreesIsCorruption) {
  TempDir dir;
  TestChunk c = MakeChunk(2, 200 << 10, 11);
  const ChunkFooter v1 = FooterOf(c, false);
  c.encoded[c.offsets[1] + 9] ^= 0x01;  // block 1's raw_len, on disk only
  const int fd = WriteChunkFile(dir.path() + "/chunk", c, v1);
  BlockIndexCache cache;
  EXPECT_TRUE(cache.Get(fd, v1, 0, "test").ok());
  EXPECT_EQ(cache.Get(fd, v1, 1, "test").status().code(), proto::CORRUPTION);
  ::close(fd);
}

}  // namespace
}  // namespace granary::codec
