// Orphans: files unlinked (or renamed over) while a client has them open,
// kept until released or no longer renewed; and KeepAlive.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class OrphanTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(3);
  }
  // A file with two committed chunks, still open for writing by "c1".
  proto::CreateResponse WrittenFile(const std::string& name) {
    proto::CreateRequest req;
    req.set_open_for_write(true);
    req.set_client_id("c1");
    req.set_chunk_size(kMiB);
    auto w = Create(kRootInode, name, req);
    EXPECT_OK(w);
    if (!w.ok()) return {};
    for (int i = 0; i < 2; ++i) {
      auto c = Allocate(w->inode().id(), w->lease_id(), i);
      EXPECT_OK(c);
      if (c.ok()) EXPECT_OK(Commit(w->inode().id(), w->lease_id(), *c, kMiB));
    }
    EXPECT_OK(CloseFile(w->inode().id(), w->lease_id(), 2 * kMiB, /*release=*/false));
    return *w;
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
  Result<proto::KeepAliveResponse> KeepAlive(const std::string& client,
                                             std::vector<proto::LeaseRef> leases,
                                             std::vector<uint64_t> orphans) {
    proto::KeepAliveRequest req;
    req.set_client_id(client);
    for (auto& l : leases) *req.add_leases() = l;
    for (uint64_t o : orphans) req.add_orphans(o);
    proto::KeepAliveResponse resp;
    Status st = metadata::KeepAlive(*state_, req, &resp);
    if (!st.ok()) return st;
    return resp;
  }
};

TEST_F(OrphanTest, UnlinkKeepsTheFileForItsClient) {
  auto w = WrittenFile("f");
  const uint64_t id = w.inode().id();
  ASSERT_OK(SetXattr(id, "user.a", "1"));
  const int64_t inodes = state_->inode_count.load();
  clock_.AdvanceMs(2000);
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "f"));
  EXPECT_EQ(orphan, id);
  EXPECT_ERROR(Lookup(kRootInode, "f").status(), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(proto::Inode st, Stat(id));
  EXPECT_EQ(st.nlink(), 0u);
  EXPECT_EQ(st.size(), 2 * kMiB);
  EXPECT_EQ(st.ctime().sec(), w.inode().ctime().sec() + 2);
  EXPECT_EQ(state_->inode_count.load(), inodes);  // counted until released
  EXPECT_EQ(QueuedDeletions(), 0u);
  EXPECT_EQ(KeysWithPrefix("O"), std::vector<std::string>{OrphanKey(id)});
  ASSERT_OK_AND_ASSIGN(std::string a, GetXattr(id, "user.a"));
  EXPECT_EQ(a, "1");

  // The client keeps reading and writing it through its lease.
  ASSERT_OK_AND_ASSIGN(auto open, OpenFile(id));
  EXPECT_EQ(open.chunks_size(), 2);
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(id, w.lease_id(), 2));
  ASSERT_OK(Commit(id, w.lease_id(), c, 100));
  ASSERT_OK_AND_ASSIGN(proto::Inode closed, CloseFile(id, w.lease_id(), 2 * kMiB + 100));
  EXPECT_EQ(closed.size(), 2 * kMiB + 100);
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(id));
  EXPECT_EQ(layout.size(), 3u);
  EXPECT_EQ(state_->chunk_count.load(), 3);

  // Release frees everything; a second release is a no-op.
  ASSERT_OK(ReleaseOrphan(id));
  EXPECT_ERROR(Stat(id).status(), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), inodes - 1);
  EXPECT_EQ(state_->chunk_count.load(), 0);
  EXPECT_EQ(QueuedDeletions(), 3u * 3u);  // 3 chunks, 3 replicas each
  EXPECT_TRUE(KeysWithPrefix("O").empty());
  EXPECT_TRUE(KeysWithPrefix("X").empty());
  EXPECT_TRUE(KeysWithPrefix(ChunkPrefix(id)).empty());
  EXPECT_EQ(state_->orphans().size(), 0u);
  ASSERT_OK(ReleaseOrphan(id));
  EXPECT_EQ(state_->inode_count.load(), inodes - 1);
}

TEST_F(OrphanTest, ReleaseChecksTheOwnerAndNeverTouchesLinkedFiles) {
  auto w = WrittenFile("f");
  auto g = WrittenFile("g");
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "f", "c1"));
  EXPECT_ERROR(ReleaseOrphan(orphan, "c2"), proto::PERMISSION_DENIED);
  EXPECT_ERROR(ReleaseOrphan(orphan, ""), proto::INVALID_ARGUMENT);
  ASSERT_OK(Stat(orphan));
  // Not an orphan: nothing happens.
  ASSERT_OK(ReleaseOrphan(g.inode().id()));
  ASSERT_OK(Lookup(kRootInode, "g"));
  ASSERT_OK(ReleaseOrphan(12345));
}

TEST_F(OrphanTest, OnlyFilesBecomeOrphans) {
  ASSERT_OK(Mkdir(kRootInode, "d"));
  ASSERT_OK(Create(kRootInode, "empty"));
  ASSERT_OK_AND_ASSIGN(proto::Inode e, Lookup(kRootInode, "empty"));
  EXPECT_ERROR(UnlinkKeep(kRootInode, "d").status(), proto::IS_DIRECTORY);
  // An empty file is still a file: kept.
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "empty"));
  EXPECT_EQ(orphan, e.id());
  proto::UnlinkRequest req;
  req.set_parent(kRootInode);
  req.set_name("d");
  req.set_keep_orphan(true);  // without orphan_client
  proto::UnlinkResponse resp;
  EXPECT_ERROR(metadata::Unlink(*state_, req, &resp), proto::INVALID_ARGUMENT);
}

TEST_F(OrphanTest, PlainUnlinkStillFreesEverything) {
  auto w = WrittenFile("f");
  const int64_t inodes = state_->inode_count.load();
  ASSERT_OK(Unlink(kRootInode, "f"));
  EXPECT_ERROR(Stat(w.inode().id()).status(), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), inodes - 1);
  EXPECT_EQ(QueuedDeletions(), 2u * 3u);
  EXPECT_TRUE(KeysWithPrefix("O").empty());
}

TEST_F(OrphanTest, RenameOverAFileCanKeepIt) {
  auto old = WrittenFile("dst");
  ASSERT_OK(Create(kRootInode, "src"));
  proto::RenameRequest req;
  req.set_src_parent(kRootInode);
  req.set_src_name("src");
  req.set_dst_parent(kRootInode);
  req.set_dst_name("dst");
  req.set_keep_orphan(true);
  req.set_orphan_client("c1");
  proto::RenameResponse resp;
  ASSERT_OK(metadata::Rename(*state_, req, &resp));
  EXPECT_EQ(resp.orphan_inode(), old.inode().id());
  ASSERT_OK_AND_ASSIGN(proto::Inode kept, Stat(old.inode().id()));
  EXPECT_EQ(kept.nlink(), 0u);
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(old.inode().id()));
  EXPECT_EQ(layout.size(), 2u);
  // Without keep_orphan the replaced file goes at once.
  ASSERT_OK(Create(kRootInode, "other"));
  ASSERT_OK_AND_ASSIGN(proto::Inode dst, Lookup(kRootInode, "dst"));
  proto::RenameResponse resp2;
  req.set_src_name("other");
  req.set_keep_orphan(false);
  ASSERT_OK(metadata::Rename(*state_, req, &resp2));
  EXPECT_EQ(resp2.orphan_inode(), 0u);
  EXPECT_ERROR(Stat(dst.id()).status(), proto::NOT_FOUND);
}

TEST_F(OrphanTest, KeepAliveRenewsAndUpkeepFreesTheRest) {
  const int64_t ttl = state_->options().orphan_ttl_ms;
  auto a = WrittenFile("a");
  auto b = WrittenFile("b");
  ASSERT_OK(UnlinkKeep(kRootInode, "a"));
  ASSERT_OK(UnlinkKeep(kRootInode, "b"));
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMs(ttl / 2);
    // Only a is renewed; a renewal by another client does not count.
    ASSERT_OK(KeepAlive("c1", {}, {a.inode().id()}));
    ASSERT_OK(KeepAlive("c2", {}, {b.inode().id()}));
    ASSERT_OK(state_->Maintain(false));
  }
  ASSERT_OK(Stat(a.inode().id()));
  EXPECT_ERROR(Stat(b.inode().id()).status(), proto::NOT_FOUND);
  EXPECT_EQ(KeysWithPrefix("O"), std::vector<std::string>{OrphanKey(a.inode().id())});
  clock_.AdvanceMs(ttl);
  ASSERT_OK(state_->Maintain(false));
  EXPECT_ERROR(Stat(a.inode().id()).status(), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), 1);
  EXPECT_EQ(state_->chunk_count.load(), 0);
}

TEST_F(OrphanTest, KeepAliveReportsLostLeases) {
  auto w = WrittenFile("f");
  proto::LeaseRef good;
  good.set_inode(w.inode().id());
  good.set_lease_id(w.lease_id());
  proto::LeaseRef bad;
  bad.set_inode(w.inode().id());
  bad.set_lease_id(w.lease_id() + 1);
  proto::LeaseRef gone;
  gone.set_inode(999);
  gone.set_lease_id(5);
  // Renewal keeps the lease alive past its lifetime.
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMs(state_->leases().lease_ms() / 2);
    ASSERT_OK_AND_ASSIGN(auto resp, KeepAlive("c1", {good, bad, gone}, {}));
    ASSERT_EQ(resp.lost_leases_size(), 2);
    EXPECT_EQ(resp.lost_leases(0).lease_id(), bad.lease_id());
    EXPECT_EQ(resp.lost_leases(1).inode(), 999u);
  }
  EXPECT_OK(state_->leases().CheckAndRenew(w.inode().id(), w.lease_id()));
  EXPECT_ERROR(KeepAlive("", {good}, {}).status(), proto::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace granary::metadata
