#include "storage/store/chunk_format.h"

#include <gtest/gtest.h>

#include "tests/storage/test_chunks.h"

namespace granary::storage::store {
namespace {

using testing::FooterOf;
using testing::MakeChunk;

TEST(ChunkFormat, FooterRoundTrip) {
  auto c = MakeChunk(5, 10000, 1);
  ChunkFooter f = FooterOf(c, {0xabcdef, 7});
  Buffer bytes = EncodeFooter(f);
  ASSERT_EQ(bytes.size(), f.footer_size());
  Result<ChunkFooter> back = ParseFooter(bytes.span(), f.file_size());
  ASSERT_OK(back);
  EXPECT_EQ(back->key, f.key);
  EXPECT_EQ(back->blocks, f.blocks);
  EXPECT_EQ(back->total_raw, f.total_raw);
}

TEST(ChunkFormat, FooterDetectsEveryFlippedByte) {
  auto c = MakeChunk(2, 1000, 2);
  ChunkFooter f = FooterOf(c, {1, 1});
  Buffer good = EncodeFooter(f);
  for (size_t i = 0; i < good.size(); ++i) {
    Buffer bad = Buffer::CopyOf(good.span());
    bad.data()[i] ^= 0x10;
    EXPECT_FALSE(ParseFooter(bad.span(), f.file_size()).ok()) << "byte " << i;
  }
}

TEST(ChunkFormat, TrailerMustMatchFileSize) {
  auto c = MakeChunk(2, 1000, 3);
  ChunkFooter f = FooterOf(c, {1, 1});
  Buffer bytes = EncodeFooter(f);
  ByteSpan trailer = bytes.span().last(kTrailerSize);
  EXPECT_TRUE(ParseTrailer(trailer, f.file_size()).ok());
  EXPECT_EQ(ParseTrailer(trailer, f.file_size() - 1).status().code(), proto::CORRUPTION);
  EXPECT_EQ(ParseTrailer(trailer.first(10), f.file_size()).status().code(), proto::CORRUPTION);
}

TEST(ChunkFormat, BlockTableMustTile) {
  auto c = MakeChunk(3, 1000, 4);
  ChunkFooter f = FooterOf(c, {1, 1});
  EXPECT_TRUE(ValidateBlockTable(f.blocks, f.total_stored, f.total_raw).ok());
  auto gap = f.blocks;
  gap[1].offset += 1;
  EXPECT_FALSE(ValidateBlockTable(gap, f.total_stored, f.total_raw).ok());
  EXPECT_FALSE(ValidateBlockTable(f.blocks, f.total_stored + 1, f.total_raw).ok());
  EXPECT_FALSE(ValidateBlockTable(f.blocks, f.total_stored, f.total_raw - 1).ok());
}

TEST(ChunkFormat, ValidatePieceNamesTheBadBlock) {
  auto c = MakeChunk(4, 5000, 5);
  std::vector<uint8_t> payload(c.encoded.begin() + static_cast<long>(c.offsets[2]),
                               c.encoded.end());
  ASSERT_OK(ValidatePiece(payload, c.offsets[2], 2, 2));
  payload[payload.size() - 10] ^= 1;  // inside block 3's stored bytes
  Status st = ValidatePiece(payload, c.offsets[2], 2, 2).status();
  EXPECT_EQ(st.code(), proto::CHECKSUM_MISMATCH);
  EXPECT_NE(st.message().find("block 3"), std::string::npos) << st.ToString();
}

TEST(ChunkFormat, ValidatePieceChecksShape) {
  auto c = MakeChunk(2, 5000, 6);
  EXPECT_EQ(ValidatePiece(c.encoded, 0, 0, 1).status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(ValidatePiece(c.encoded, 0, 0, 3).status().code(), proto::INVALID_ARGUMENT);
  std::vector<uint8_t> bad_magic(c.encoded);
  bad_magic[0] ^= 1;
  EXPECT_EQ(ValidatePiece(bad_magic, 0, 0, 2).status().code(), proto::CORRUPTION);
  EXPECT_EQ(ValidatePiece(c.encoded, 0, 0, 0).status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(ValidatePiece(c.Piece(0, 1).first(100), 0, 0, 1).status().code(),
            proto::INVALID_ARGUMENT);
  EXPECT_EQ(ValidatePiece(c.encoded, 0, kMaxBlocksPerChunk - 1, 2).status().code(),
            proto::INVALID_ARGUMENT);
  EXPECT_EQ(ValidatePiece(c.encoded, kMaxChunkStoredBytes, 0, 2).status().code(),
            proto::INVALID_ARGUMENT);
}

TEST(ChunkFormat, FileNames) {
  ChunkKey k{0x12ab, 42};
  EXPECT_EQ(ChunkFileName(k), "00000000000012ab.42");
  EXPECT_EQ(ChunkSubdirName(k.chunk_id), "ab");
  EXPECT_EQ(ParseChunkFileName("00000000000012ab.42"), k);
  EXPECT_FALSE(ParseChunkFileName("00000000000012AB.42"));
  EXPECT_FALSE(ParseChunkFileName("00000000000012ab.042"));
  EXPECT_FALSE(ParseChunkFileName("00000000000012ab.42.tmp"));
  EXPECT_FALSE(ParseChunkFileName("00000000000012ab."));
  EXPECT_FALSE(ParseChunkFileName("12ab.42"));
}

}  // namespace
}  // namespace granary::storage::store
