// Three chunk services in one process, on loopback sockets, replicating
// through chains exactly as separate granary-chunkd processes would.
#include "storage/service/chunk_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/storage/service/service_fixture.h"

namespace granary::storage::service {
namespace {

using storage::testing::MakeChunk;
using storage::testing::ReadReply;
using storage::testing::TestChunk;

class ChunkServiceTest : public storage::testing::ServiceFixture {};

TEST_F(ChunkServiceTest, ChainWriteOutOfOrderThenReadEveryReplica) {
  TestChunk c = MakeChunk(6, 64 << 10, 1);
  const proto::ChunkInfo info = Info(0xc0ffee, 3, c, {0, 1, 2});
  // Pieces in flight at once, last first: replicas must accept any order.
  std::vector<std::future<Status>> sent;
  for (uint32_t first : {4u, 0u, 2u}) sent.push_back(SendPieceAsync(info, c, first, 2));
  for (auto& f : sent) ASSERT_OK(Wait(f));
  ASSERT_OK(Commit(info, c, /*fsync=*/true));

  for (int node = 0; node < 3; ++node) {
    Result<ReadReply> r = ReadBlocks(node, info, 0, 0);
    ASSERT_OK(r);
    EXPECT_EQ(r->resp.block_count(), 6u) << "node " << node;
    EXPECT_EQ(r->resp.total_blocks(), 6u);
    ASSERT_EQ(r->payload, c.encoded) << "node " << node;
  }
  Result<proto::ChunkStatResponse> st = StatChunk(2, 0xc0ffee, 3);
  ASSERT_OK(st);
  EXPECT_EQ(st->stored_length(), c.total_stored());
  EXPECT_EQ(st->raw_length(), c.total_raw());
  EXPECT_EQ(st->block_count(), 6u);
}

TEST_F(ChunkServiceTest, FlippedByteRefusedWithChecksumMismatch) {
  TestChunk c = MakeChunk(3, 16 << 10, 2);
  const proto::ChunkInfo info = Info(0xbad, 1, c, {0, 1, 2});
  std::vector<uint8_t> piece(c.Piece(1, 2).begin(), c.Piece(1, 2).end());
  piece[piece.size() - 100] ^= 0x04;  // a stored byte of block 2
  Status st = SendPieceBytes(info, piece, c.offsets[1], 1, 2);
  EXPECT_EQ(st.code(), proto::CHECKSUM_MISMATCH) << st.ToString();
  EXPECT_NE(st.message().find("0000000000000bad v1"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("block 2"), std::string::npos) << st.ToString();
  // Refused before anything was written or forwarded.
  for (int node = 0; node < 3; ++node) EXPECT_EQ(Pending(node), 0u) << "node " << node;
}

TEST_F(ChunkServiceTest, MissingChunkIsChunkNotFound) {
  TestChunk c = MakeChunk(1, 1024, 3);
  Result<ReadReply> r = ReadBlocks(1, Info(0x5151, 9, c, {1}), 0, 0);
  EXPECT_EQ(r.status().code(), proto::CHUNK_NOT_FOUND);
  EXPECT_NE(r.status().message().find("0000000000005151 v9"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(StatChunk(1, 0x5151, 9).status().code(), proto::CHUNK_NOT_FOUND);
}

TEST_F(ChunkServiceTest, ReadIsCappedAt16Blocks) {
  TestChunk c = MakeChunk(20, 4 << 10, 4);
  const proto::ChunkInfo info = Info(0x20, 1, c, {0});
  ASSERT_OK(SendPiece(info, c, 0, 20));
  ASSERT_OK(Commit(info, c, false));
  Result<ReadReply> r = ReadBlocks(0, info, 2, 0);
  ASSERT_OK(r);
  EXPECT_EQ(r->resp.block_count(), 16u);
  EXPECT_EQ(r->resp.total_blocks(), 20u);
  ByteSpan want = c.Piece(2, 16);
  EXPECT_EQ(r->payload, std::vector<uint8_t>(want.begin(), want.end()));
  EXPECT_EQ(ReadBlocks(0, info, 19, 2).status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(ReadBlocks(0, info, 20, 0).status().code(), proto::INVALID_ARGUMENT);
}

TEST_F(ChunkServiceTest, IncompleteCommitFailsOnTheChain) {
  TestChunk c = MakeChunk(4, 8 << 10, 5);
  const proto::ChunkInfo info = Info(0x44, 1, c, {0, 1});
  ASSERT_OK(SendPiece(info, c, 0, 3));
  EXPECT_EQ(Commit(info, c, false).code(), proto::CHUNK_INCOMPLETE);
  ASSERT_OK(SendPiece(info, c, 3, 1));
  ASSERT_OK(Commit(info, c, false));
  Result<ReadReply> r = ReadBlocks(1, info, 0, 0);
  ASSERT_OK(r);
  EXPECT_EQ(r->payload, c.encoded);
}

TEST_F(ChunkServiceTest, DownstreamFailureNamesTheNode) {
  TestChunk c = MakeChunk(2, 8 << 10, 6);
  proto::ChunkInfo info = Info(0x66, 1, c, {0});
  proto::NodeAddress* dead = info.add_replicas();
  dead->set_node_id("deadbeefdeadbeef");
  dead->set_address(DeadAddress());
  Status st = SendPiece(info, c, 0, 2);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("replica deadbeefdeadbeef"), std::string::npos) << st.ToString();
}

TEST_F(ChunkServiceTest, ChainThroughItselfRefused) {
  TestChunk c = MakeChunk(1, 8 << 10, 7);
  const proto::ChunkInfo info = Info(0x77, 1, c, {0, 1, 0});
  EXPECT_EQ(SendPiece(info, c, 0, 1).code(), proto::INVALID_ARGUMENT);
}

TEST_F(ChunkServiceTest, CommitWithPayloadAndGarbagePieceRefused) {
  TestChunk c = MakeChunk(1, 8 << 10, 8);
  const proto::ChunkInfo info = Info(0x88, 1, c, {0});
  std::vector<uint8_t> junk(1000, 0xab);
  EXPECT_EQ(SendPieceBytes(info, junk, 0, 0, 1).code(), proto::CORRUPTION);
  EXPECT_EQ(SendPieceBytes(info, junk, 0, 0, 0).code(), proto::INVALID_ARGUMENT);
  ASSERT_OK(SendPiece(info, c, 0, 1));
  Status st = SendPieceBytes(info, c.encoded, 0, 0, 1, /*commit=*/true);
  EXPECT_EQ(st.code(), proto::INVALID_ARGUMENT) << st.ToString();
}

TEST_F(ChunkServiceTest, DeleteListAndPing) {
  TestChunk c = MakeChunk(2, 8 << 10, 9);
  const proto::ChunkInfo a = Info(0xa, 1, c, {2}), b = Info(0xb, 2, c, {2});
  for (const auto* info : {&a, &b}) {
    ASSERT_OK(SendPiece(*info, c, 0, 2));
    ASSERT_OK(Commit(*info, c, false));
  }
  Result<proto::ChunkListResponse> list = ListChunks(2);
  ASSERT_OK(list);
  ASSERT_EQ(list->chunks_size(), 2);
  EXPECT_EQ(list->chunks(1).chunk_id(), 0xbu);
  EXPECT_EQ(list->chunks(1).version(), 2u);
  Result<uint32_t> deleted = DeleteChunks(2, {{0xa, 1}, {0xa, 7}});
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 1u);
  list = ListChunks(2);
  ASSERT_OK(list);
  EXPECT_EQ(list->chunks_size(), 1);
  EXPECT_EQ(ReadBlocks(2, a, 0, 0).status().code(), proto::CHUNK_NOT_FOUND);
  Result<std::string> ping = Ping(2);
  ASSERT_OK(ping);
  EXPECT_EQ(*ping, "granary-chunkd " + NodeId(2));
}

TEST_F(ChunkServiceTest, WarmReadsWhatIsHereCountsWhatIsNotAndRefusesTooMuch) {
  TestChunk c = MakeChunk(4, 16 << 10, 10);
  const proto::ChunkInfo a = Info(0x77, 1, c, {0});
  ASSERT_OK(SendPiece(a, c, 0, 4));
  ASSERT_OK(Commit(a, c, false));
  Result<proto::ChunkStatResponse> st = StatChunk(0, 0x77, 1);
  ASSERT_OK(st);
  proto::ChunkWarmRequest req;
  for (auto [id, version] : {std::pair<uint64_t, uint64_t>{0x77, 1}, {0x77, 2}, {0x78, 1}}) {
    proto::ChunkRef* ref = req.add_chunks();
    ref->set_chunk_id(id);
    ref->set_version(version);
  }
  auto r = Call<proto::ChunkWarmResponse>(nodes_[0]->address, proto::CHUNK_WARM, req);
  ASSERT_OK(r);
  EXPECT_EQ(r->warmed(), 1u);
  EXPECT_EQ(r->missing(), 2u);  // another version, another chunk: not here
  EXPECT_EQ(r->bytes(), std::filesystem::file_size(st->path()));

  // More than 64 chunks in one request, or a payload: refused, server up.
  proto::ChunkWarmRequest many;
  for (int i = 0; i < 65; ++i) many.add_chunks()->set_chunk_id(static_cast<uint64_t>(i + 1));
  auto refused = Call<proto::ChunkWarmResponse>(nodes_[0]->address, proto::CHUNK_WARM, many);
  EXPECT_EQ(refused.status().code(), proto::INVALID_ARGUMENT);
  EXPECT_NE(refused.status().message().find("65 chunks"), std::string::npos)
      << refused.status().ToString();
  auto payload = std::make_shared<const Buffer>(Buffer::CopyOf(ByteSpan(c.encoded)));
  auto carried = Call<proto::ChunkWarmResponse>(nodes_[0]->address, proto::CHUNK_WARM, req, payload);
  EXPECT_EQ(carried.status().code(), proto::INVALID_ARGUMENT);
  ASSERT_OK(Ping(0).status());
}

}  // namespace
}  // namespace granary::storage::service
