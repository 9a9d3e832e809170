#include "storage/store/chunk_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/storage/test_chunks.h"

namespace granary::storage::store {
namespace {

namespace fs = std::filesystem;
using testing::MakeChunk;
using testing::TempDir;
using testing::TestChunk;

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(std::vector<std::string> dirs = {}) {
    store_.reset();  // releases the folder locks first
    StoreOptions opts;
    opts.data_dirs = dirs.empty() ? std::vector<std::string>{dir_.Sub("d0")} : dirs;
    opts.min_free_bytes = 0;
    Result<std::unique_ptr<ChunkStore>> s = ChunkStore::Open(opts);
    ASSERT_OK(s);
    store_ = std::move(s).value();
  }

  Status Write(const ChunkKey& key, const TestChunk& c, uint32_t first, uint32_t count) {
    ByteSpan piece = c.Piece(first, count);
    ASSIGN_OR_RETURN(PieceLayout layout, ValidatePiece(piece, c.offsets[first], first, count));
    return store_->WritePiece(key, layout, piece);
  }

  Status Commit(const ChunkKey& key, const TestChunk& c, bool fsync = false) {
    return store_->Commit(key, {c.block_count(), c.total_stored(), c.total_raw(), fsync});
  }

  // Writes every block, one piece per two blocks, last piece first.
  void WriteAll(const ChunkKey& key, const TestChunk& c) {
    for (uint32_t b = c.block_count(); b > 0;) {
      uint32_t first = b >= 2 ? b - 2 : 0;
      ASSERT_OK(Write(key, c, first, b - first));
      b = first;
    }
    ASSERT_OK(Commit(key, c, true));
  }

  std::vector<uint8_t> ReadAll(const ChunkKey& key) {
    Result<ReadResult> r = store_->ReadBlocks(key, 0, 0, 1u << 20, 1ull << 40);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    return std::vector<uint8_t>(r->bytes.data(), r->bytes.data() + r->bytes.size());
  }

  TempDir dir_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ChunkStoreTest, OutOfOrderPiecesCommitAndRead) {
  TestChunk c = MakeChunk(8, 64 << 10, 1);
  const ChunkKey key{0x1234, 1};
  ASSERT_OK(Write(key, c, 4, 4));
  ASSERT_OK(Write(key, c, 0, 2));
  EXPECT_ERROR(store_->ReadBlocks(key, 0, 0, 16, 1 << 30), CHUNK_NOT_FOUND);  // not yet visible
  ASSERT_OK(Write(key, c, 2, 2));
  ASSERT_OK(Commit(key, c));
  EXPECT_EQ(ReadAll(key), c.encoded);

  Result<ReadResult> mid = store_->ReadBlocks(key, 3, 2, 16, 1 << 30);
  ASSERT_OK(mid);
  EXPECT_EQ(mid->block_count, 2u);
  EXPECT_EQ(mid->total_blocks, 8u);
  ByteSpan want = c.Piece(3, 2);
  ASSERT_EQ(mid->bytes.size(), want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), mid->bytes.data()));

  Result<ChunkMeta> meta = store_->Stat(key);
  ASSERT_OK(meta);
  EXPECT_EQ(meta->block_count, 8u);
  EXPECT_EQ(meta->total_raw, c.total_raw());
  EXPECT_EQ(meta->total_stored, c.total_stored());
  EXPECT_TRUE(fs::exists(meta->path));
  EXPECT_EQ(store_->List(), std::vector<ChunkKey>{key});
}

TEST_F(ChunkStoreTest, ReadRespectsCapsAndRange) {
  TestChunk c = MakeChunk(6, 32 << 10, 2);
  const ChunkKey key{7, 3};
  WriteAll(key, c);
  Result<ReadResult> r = store_->ReadBlocks(key, 1, 0, 3, 1 << 30);
  ASSERT_OK(r);
  EXPECT_EQ(r->block_count, 3u);
  EXPECT_EQ(r->bytes.size(), c.offsets[4] - c.offsets[1]);
  r = store_->ReadBlocks(key, 0, 0, 16, 1);  // byte cap below one block: still one block
  ASSERT_OK(r);
  EXPECT_EQ(r->block_count, 1u);
  EXPECT_ERROR(store_->ReadBlocks(key, 6, 0, 16, 1 << 30), INVALID_ARGUMENT);
  EXPECT_ERROR(store_->ReadBlocks(key, 5, 2, 16, 1 << 30), INVALID_ARGUMENT);
  EXPECT_ERROR(store_->ReadBlocks({7, 4}, 0, 0, 16, 1 << 30), CHUNK_NOT_FOUND);
}

TEST_F(ChunkStoreTest, IncompleteCommitRefusedThenCompleted) {
  TestChunk c = MakeChunk(5, 16 << 10, 3);
  const ChunkKey key{99, 1};
  ASSERT_OK(Write(key, c, 0, 2));
  ASSERT_OK(Write(key, c, 4, 1));
  Status st = Commit(key, c);
  EXPECT_EQ(st.code(), proto::CHUNK_INCOMPLETE);
  EXPECT_NE(st.message().find("2, 3"), std::string::npos) << st.ToString();
  EXPECT_ERROR(store_->Commit({99, 2}, {1, 1, 1, false}), CHUNK_INCOMPLETE);
  ASSERT_OK(Write(key, c, 2, 2));
  EXPECT_ERROR(store_->Commit(key, {5, c.total_stored() + 1, c.total_raw(), false}),
               INVALID_ARGUMENT);
  EXPECT_ERROR(store_->Commit(key, {4, c.total_stored(), c.total_raw(), false}), INVALID_ARGUMENT);
  ASSERT_OK(Commit(key, c));
  ASSERT_OK(Commit(key, c));  // a retried commit is fine
  EXPECT_ERROR(Write(key, c, 0, 1), ALREADY_EXISTS);
  EXPECT_EQ(ReadAll(key), c.encoded);
}

TEST_F(ChunkStoreTest, ResentBlocksMustMatch) {
  TestChunk c = MakeChunk(3, 8 << 10, 4);
  TestChunk other = MakeChunk(3, 8 << 10, 5);
  const ChunkKey key{5, 5};
  ASSERT_OK(Write(key, c, 0, 2));
  ASSERT_OK(Write(key, c, 0, 2));                           // retry of the same piece
  EXPECT_ERROR(Write(key, other, 0, 1), INVALID_ARGUMENT);  // same place, other bytes
  // Block 2's bytes announced as block 1: same index, other placement.
  Result<PieceLayout> moved = ValidatePiece(c.Piece(2, 1), c.offsets[2], 1, 1);
  ASSERT_OK(moved);
  EXPECT_ERROR(store_->WritePiece(key, *moved, c.Piece(2, 1)), INVALID_ARGUMENT);
  ASSERT_OK(Write(key, c, 2, 1));
  ASSERT_OK(Commit(key, c));
  EXPECT_EQ(ReadAll(key), c.encoded);
}

TEST_F(ChunkStoreTest, EmptyChunk) {
  const ChunkKey key{3, 1};
  ASSERT_OK(store_->Commit(key, {0, 0, 0, true}));
  Result<ReadResult> r = store_->ReadBlocks(key, 0, 0, 16, 1 << 20);
  ASSERT_OK(r);
  EXPECT_EQ(r->block_count, 0u);
  EXPECT_EQ(r->total_blocks, 0u);
  Reopen();
  ASSERT_OK(store_->Stat(key));
}

TEST_F(ChunkStoreTest, RestartKeepsCommittedAndDropsTemp) {
  TestChunk c = MakeChunk(4, 16 << 10, 6);
  const ChunkKey done{0x100, 1}, open{0x101, 1};
  WriteAll(done, c);
  ASSERT_OK(Write(open, c, 0, 2));
  const std::string stray = dir_.Sub("d0/chunks/01/0000000000000101.1.77.tmp");
  std::ofstream(stray) << "left by a crash";
  ASSERT_TRUE(fs::exists(stray));
  Reopen();
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_EQ(store_->List(), std::vector<ChunkKey>{done});
  EXPECT_EQ(ReadAll(done), c.encoded);
  EXPECT_ERROR(store_->Commit(open, {4, c.total_stored(), c.total_raw(), false}), CHUNK_INCOMPLETE);
  Result<StoreUsage> u = store_->Usage();
  ASSERT_OK(u);
  EXPECT_EQ(u->chunk_count, 1u);
  EXPECT_GT(u->capacity_bytes, 0u);
}

TEST_F(ChunkStoreTest, CorruptFileQuarantinedAtStartup) {
  TestChunk c = MakeChunk(3, 16 << 10, 7);
  const ChunkKey good{1, 1}, bad{2, 1}, cut{3, 1};
  WriteAll(good, c);
  WriteAll(bad, c);
  WriteAll(cut, c);
  const std::string bad_path = store_->Stat(bad)->path;
  const std::string cut_path = store_->Stat(cut)->path;
  store_.reset();
  {
    std::fstream f(bad_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<long>(c.total_stored() + 5));  // inside the block table
    f.put('\x55');
  }
  fs::resize_file(cut_path, fs::file_size(cut_path) - 1);
  Reopen();
  EXPECT_EQ(store_->List(), std::vector<ChunkKey>{good});
  EXPECT_TRUE(fs::exists(bad_path + ".corrupt"));
  EXPECT_TRUE(fs::exists(cut_path + ".corrupt"));
  EXPECT_ERROR(store_->ReadBlocks(bad, 0, 0, 16, 1 << 20), CHUNK_NOT_FOUND);
  Reopen();  // quarantined files stay out
  EXPECT_EQ(store_->List(), std::vector<ChunkKey>{good});
}

TEST_F(ChunkStoreTest, CorruptBlockHeaderQuarantinedOnRead) {
  TestChunk c = MakeChunk(3, 16 << 10, 8);
  const ChunkKey key{0x55, 2};
  WriteAll(key, c);
  const std::string path = store_->Stat(key)->path;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<long>(c.offsets[1] + 9));  // block 1's raw_len
    f.put('\x7f');
  }
  EXPECT_ERROR(store_->ReadBlocks(key, 0, 0, 16, 1 << 20), CORRUPTION);
  EXPECT_ERROR(store_->ReadBlocks(key, 0, 0, 16, 1 << 20), CHUNK_NOT_FOUND);
  EXPECT_TRUE(fs::exists(path + ".corrupt"));
}

TEST_F(ChunkStoreTest, DeleteRemovesFileAndAbortsWrite) {
  TestChunk c = MakeChunk(2, 8 << 10, 9);
  const ChunkKey key{0x77, 1};
  WriteAll(key, c);
  const std::string path = store_->Stat(key)->path;
  Result<bool> deleted = store_->Delete(key);
  ASSERT_OK(deleted);
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_ERROR(store_->Stat(key), CHUNK_NOT_FOUND);
  deleted = store_->Delete(key);
  ASSERT_OK(deleted);
  EXPECT_FALSE(*deleted);
  ASSERT_OK(Write({0x77, 2}, c, 0, 1));
  ASSERT_OK(store_->Delete({0x77, 2}));
  EXPECT_ERROR(Commit({0x77, 2}, c), CHUNK_INCOMPLETE);
}

// A deletion ordered before a replica was committed (or its write begun)
// leaves it alone: repair may copy a version back to a server right after
// metad handed out its deletion in a heartbeat reply.
TEST_F(ChunkStoreTest, DeletionOrderedBeforeACommitKeepsTheReplica) {
  TestChunk c = MakeChunk(2, 8 << 10, 12);
  const ChunkKey old_key{0x99, 1};
  WriteAll(old_key, c);
  const uint64_t ordered_at = store_->Stamp();
  // Committed before the order: deleted.
  Result<bool> gone = store_->Delete(old_key, ordered_at);
  ASSERT_OK(gone);
  EXPECT_TRUE(*gone);
  // Committed (and begun) after it: kept, until a deletion ordered later.
  const ChunkKey key{0x99, 2};
  WriteAll(key, c);
  Result<bool> kept = store_->Delete(key, ordered_at);
  ASSERT_OK(kept);
  EXPECT_FALSE(*kept);
  EXPECT_TRUE(fs::exists(store_->Stat(key)->path));
  const ChunkKey pending{0x99, 3};
  ASSERT_OK(Write(pending, c, 0, 1));
  ASSERT_OK(store_->Delete(pending, ordered_at).status());
  ASSERT_OK(Write(pending, c, 1, 1));
  ASSERT_OK(Commit(pending, c));  // the write begun after the order went on
  gone = store_->Delete(key, store_->Stamp());
  ASSERT_OK(gone);
  EXPECT_TRUE(*gone);
  EXPECT_ERROR(store_->Stat(key), CHUNK_NOT_FOUND);
}

TEST_F(ChunkStoreTest, IdleWritesAreAborted) {
  TestChunk c = MakeChunk(2, 8 << 10, 10);
  const ChunkKey key{0x88, 1};
  ASSERT_OK(Write(key, c, 0, 1));
  EXPECT_EQ(store_->AbortIdleWrites(std::chrono::hours(1)), 0u);
  EXPECT_EQ(store_->AbortIdleWrites(std::chrono::milliseconds(0)), 1u);
  ASSERT_OK(Write(key, c, 1, 1));
  EXPECT_ERROR(Commit(key, c), CHUNK_INCOMPLETE);  // block 0 went with the aborted write
}

TEST_F(ChunkStoreTest, NodeIdStableAndShared) {
  const std::string id = store_->node_id();
  EXPECT_EQ(id.size(), 16u);
  Reopen();
  EXPECT_EQ(store_->node_id(), id);
  Reopen({dir_.Sub("d0"), dir_.Sub("d1")});
  EXPECT_EQ(store_->node_id(), id);
  std::ifstream f(dir_.Sub("d1/node_id"));
  std::string copied;
  f >> copied;
  EXPECT_EQ(copied, id);

  store_.reset();
  StoreOptions opts;
  opts.data_dirs = {dir_.Sub("d0"), dir_.Sub("d2")};
  fs::create_directories(dir_.Sub("d2"));
  std::ofstream(dir_.Sub("d2/node_id")) << "0123456789abcdef\n";
  EXPECT_ERROR(ChunkStore::Open(opts), INVALID_ARGUMENT);
}

TEST_F(ChunkStoreTest, FolderLockedWhileOpen) {
  StoreOptions opts;
  opts.data_dirs = {dir_.Sub("d0")};
  EXPECT_ERROR(ChunkStore::Open(opts), UNAVAILABLE);
  opts.data_dirs = {dir_.Sub("x"), dir_.Sub("x/")};
  EXPECT_ERROR(ChunkStore::Open(opts), INVALID_ARGUMENT);
}

TEST_F(ChunkStoreTest, ChunksInTwoFoldersSurviveRestart) {
  Reopen({dir_.Sub("d0"), dir_.Sub("d1")});
  std::vector<ChunkKey> keys;
  for (uint64_t i = 0; i < 6; ++i) {
    TestChunk c = MakeChunk(1, 4 << 10, static_cast<uint32_t>(i));
    keys.push_back({i + 1, 1});
    WriteAll(keys.back(), c);
  }
  Reopen({dir_.Sub("d1"), dir_.Sub("d0")});
  EXPECT_EQ(store_->List(), keys);
}

}  // namespace
}  // namespace granary::storage::store
