// Inline small files: contents stored in metad by Close, served by Open,
// resized by SetAttr, freed with the file.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kInline = 64 * 1024;

class InlineTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(3);
  }
  proto::CreateResponse Writer(const std::string& name) {
    proto::CreateRequest req;
    req.set_open_for_write(true);
    req.set_client_id("c1");
    req.set_chunk_size(kMiB);
    auto w = Create(kRootInode, name, req);
    EXPECT_OK(w);
    return w.ok() ? *w : proto::CreateResponse();
  }
  // A closed file whose contents are `data`, inline.
  uint64_t InlineFile(const std::string& name, const std::string& data) {
    auto w = Writer(name);
    EXPECT_OK(CloseInline(w.inode().id(), w.lease_id(), data));
    return w.inode().id();
  }
  Result<std::string> InlineData(uint64_t inode) {
    auto open = OpenFile(inode);
    if (!open.ok()) return open.status();
    if (!open->has_inline_data()) return Status::NotFound("no inline data");
    EXPECT_EQ(open->chunks_size(), 0);
    return open->inline_data();
  }
  size_t QueuedDeletions() {
    size_t n = 0;
    for (int i = 0; i < 3; ++i) {
      auto refs = Beat("n" + std::to_string(i));
      EXPECT_OK(refs);
      if (refs.ok()) n += refs->size();
    }
    return n;
  }
};

TEST_F(InlineTest, CloseStoresAndOpenServesIt) {
  auto w = Writer("f");
  ASSERT_OK_AND_ASSIGN(proto::Inode closed, CloseInline(w.inode().id(), w.lease_id(), "hello"));
  EXPECT_EQ(closed.size(), 5u);
  ASSERT_OK_AND_ASSIGN(std::string data, InlineData(w.inode().id()));
  EXPECT_EQ(data, "hello");
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(w.inode().id()));
  EXPECT_TRUE(layout.empty());
  // Empty and maximal contents are fine too.
  uint64_t empty = InlineFile("empty", "");
  ASSERT_OK_AND_ASSIGN(data, InlineData(empty));
  EXPECT_EQ(data, "");
  uint64_t full = InlineFile("full", std::string(kInline, 'x'));
  ASSERT_OK_AND_ASSIGN(data, InlineData(full));
  EXPECT_EQ(data.size(), kInline);
  // A file without inline data has none.
  auto plain = Writer("plain");
  ASSERT_OK(CloseFile(plain.inode().id(), plain.lease_id(), 0));
  ASSERT_OK_AND_ASSIGN(auto open, OpenFile(plain.inode().id()));
  EXPECT_FALSE(open.has_inline_data());
}

TEST_F(InlineTest, CloseValidatesIt) {
  auto w = Writer("f");
  proto::CloseRequest req;
  req.set_inode(w.inode().id());
  req.set_lease_id(w.lease_id());
  req.set_size(4);
  req.set_inline_data("abc");
  proto::CloseResponse resp;
  EXPECT_ERROR(metadata::Close(*state_, req, &resp), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(CloseInline(w.inode().id(), w.lease_id(), std::string(kInline + 1, 'x')).status(),
               proto::INVALID_ARGUMENT);
  EXPECT_ERROR(CloseInline(w.inode().id(), w.lease_id() + 1, "abc").status(),
               proto::LEASE_EXPIRED);
}

TEST_F(InlineTest, InlineCloseFreesEveryChunk) {
  auto w = Writer("f");
  const uint64_t id = w.inode().id();
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(id, w.lease_id(), i));
    ASSERT_OK(Commit(id, w.lease_id(), c, kMiB));
  }
  ASSERT_OK(CloseFile(id, w.lease_id(), 2 * kMiB, /*release=*/false));
  ASSERT_OK(Allocate(id, w.lease_id(), 2));  // pending, never committed
  EXPECT_EQ(state_->chunk_count.load(), 2);
  ASSERT_OK(CloseInline(id, w.lease_id(), "small now"));
  ASSERT_OK_AND_ASSIGN(std::string data, InlineData(id));
  EXPECT_EQ(data, "small now");
  EXPECT_EQ(state_->chunk_count.load(), 0);
  EXPECT_TRUE(KeysWithPrefix(ChunkPrefix(id)).empty());
  EXPECT_TRUE(KeysWithPrefix(PendingChunkPrefix(id)).empty());
  EXPECT_EQ(QueuedDeletions(), 3u * 3u);
}

TEST_F(InlineTest, ChunkedCloseDropsInlineData) {
  uint64_t id = InlineFile("f", "old small contents");
  ASSERT_OK_AND_ASSIGN(auto open, OpenFile(id, /*write=*/true));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(id, open.lease_id(), 0));
  ASSERT_OK(Commit(id, open.lease_id(), c, 100000));
  ASSERT_OK(CloseFile(id, open.lease_id(), 100000));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenFile(id));
  EXPECT_FALSE(reopened.has_inline_data());
  EXPECT_EQ(reopened.chunks_size(), 1);
  EXPECT_TRUE(KeysWithPrefix(InlineDataKey(id)).empty());
}

TEST_F(InlineTest, SetAttrResizesInlineData) {
  uint64_t id = InlineFile("f", "abcdef");
  ASSERT_OK_AND_ASSIGN(proto::Inode cut, SetSize(id, 3));
  EXPECT_EQ(cut.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::string data, InlineData(id));
  EXPECT_EQ(data, "abc");
  // Growing within the inline limit pads with zeros.
  ASSERT_OK(SetSize(id, 10));
  ASSERT_OK_AND_ASSIGN(data, InlineData(id));
  EXPECT_EQ(data, std::string("abc\0\0\0\0\0\0\0", 10));
  // Past it the bytes stay; the rest of the file reads as zeros.
  ASSERT_OK_AND_ASSIGN(proto::Inode big, SetSize(id, 10 * kMiB));
  EXPECT_EQ(big.size(), 10 * kMiB);
  ASSERT_OK_AND_ASSIGN(data, InlineData(id));
  EXPECT_EQ(data, std::string("abc\0\0\0\0\0\0\0", 10));
  // Shrinking again cuts them exactly.
  ASSERT_OK(SetSize(id, 2));
  ASSERT_OK_AND_ASSIGN(data, InlineData(id));
  EXPECT_EQ(data, "ab");
  ASSERT_OK(SetSize(id, 0));
  ASSERT_OK_AND_ASSIGN(data, InlineData(id));
  EXPECT_EQ(data, "");
}

TEST_F(InlineTest, GoneWithTheFile) {
  uint64_t a = InlineFile("a", "1");
  uint64_t b = InlineFile("b", "2");
  uint64_t c = InlineFile("c", "3");
  InlineFile("d", "4");
  ASSERT_OK(Unlink(kRootInode, "a"));
  ASSERT_OK(Rename(kRootInode, "c", kRootInode, "b"));  // b's inode goes
  proto::CreateRequest req;
  req.set_truncate(true);
  ASSERT_OK(Create(kRootInode, "d", req));
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Lookup(kRootInode, "d"));
  EXPECT_EQ(d.size(), 0u);
  EXPECT_FALSE(OpenFile(d.id())->has_inline_data());
  EXPECT_EQ(KeysWithPrefix("L"), std::vector<std::string>{InlineDataKey(c)});
  EXPECT_ERROR(Stat(a).status(), proto::NOT_FOUND);
  EXPECT_ERROR(Stat(b).status(), proto::NOT_FOUND);
}

TEST_F(InlineTest, OrphanKeepsItUntilReleased) {
  uint64_t id = InlineFile("f", "still readable");
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "f"));
  EXPECT_EQ(orphan, id);
  ASSERT_OK_AND_ASSIGN(std::string data, InlineData(id));
  EXPECT_EQ(data, "still readable");
  ASSERT_OK(ReleaseOrphan(id));
  EXPECT_TRUE(KeysWithPrefix("L").empty());
}

}  // namespace
}  // namespace granary::metadata
