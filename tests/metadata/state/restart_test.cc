// Restart persistence on RocksDB: close the store and the state, reopen both,
// and everything acknowledged is there.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using testing::TempDir;

class RestartTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    ReopenStore();
    MetaTest::SetUp();
  }
  void TearDown() override {
    state_.reset();
    kv_.reset();  // before dir_ goes away
  }
  // Drops the state and closes RocksDB, then opens both again.
  void Restart() {
    ASSERT_OK(state_->Maintain(/*final=*/true));
    state_.reset();
    ReopenStore();
    OpenState();
  }
  void ReopenStore() {
    kv_.reset();  // closes the database
    auto kv = RocksDbKv::Open({.path = dir_.path() + "/meta.db"});
    ASSERT_OK(kv);
    kv_ = std::move(kv).value();
  }

  TempDir dir_;
};

TEST_F(RestartTest, NamespaceFilesSizesAndChunksSurvive) {
  AddNodes(3);
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "models", 0750));
  ASSERT_OK_AND_ASSIGN(proto::Inode sub, Mkdir(d.id(), "llama"));
  proto::CreateRequest req;
  req.set_open_for_write(true);
  req.set_client_id("w");
  req.set_chunk_size(1 << 20);
  req.set_replicas(2);
  ASSERT_OK_AND_ASSIGN(auto w, Create(sub.id(), "weights.bin", req));
  std::vector<proto::ChunkInfo> written;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), i));
    ASSERT_OK(Commit(w.inode().id(), w.lease_id(), c, i < 2 ? (1 << 20) : 1234));
    written.push_back(c);
  }
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), 2 * (1 << 20) + 1234));
  ASSERT_OK(Create(kRootInode, "empty"));
  ASSERT_OK(Rename(kRootInode, "empty", d.id(), "renamed"));
  clock_.AdvanceMs(7000);
  ASSERT_OK(Create(d.id(), "late"));  // touches d's mtime lazily
  ASSERT_OK_AND_ASSIGN(proto::Inode d_before, Stat(d.id()));
  const int64_t inodes = state_->inode_count.load();

  Restart();

  ASSERT_OK_AND_ASSIGN(proto::Inode f, ResolvePath("/models/llama/weights.bin"));
  EXPECT_EQ(f.id(), w.inode().id());
  EXPECT_EQ(f.size(), 2u * (1 << 20) + 1234);
  EXPECT_EQ(f.replicas(), 2u);
  EXPECT_EQ(f.chunk_size(), 1u << 20);
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(f.id()));
  ASSERT_EQ(layout.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(layout[i].chunk_id(), written[i].chunk_id());
    EXPECT_EQ(layout[i].version(), written[i].version());
    ASSERT_EQ(layout[i].replicas_size(), 2);
    EXPECT_EQ(layout[i].replicas(0).node_id(), written[i].replicas(0).node_id());
    // Addresses come back from the persisted node registry.
    EXPECT_EQ(layout[i].replicas(0).address(), written[i].replicas(0).address());
  }
  EXPECT_EQ(layout[2].length(), 1234u);
  ASSERT_OK_AND_ASSIGN(proto::Inode models, ResolvePath("/models"));
  EXPECT_EQ(models.mode(), 0750u);
  EXPECT_EQ(models.mtime().sec(), d_before.mtime().sec());  // flushed at shutdown
  EXPECT_OK(ResolvePath("/models/renamed"));
  EXPECT_ERROR(ResolvePath("/empty"), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(d.id()));
  EXPECT_EQ(names, (std::vector<std::string>{"late", "llama", "renamed"}));
  EXPECT_EQ(state_->inode_count.load(), inodes);
  EXPECT_EQ(state_->chunk_count.load(), 3);

  // New ids never collide with the ones handed out before the restart.
  AddNodes(3);
  ASSERT_OK_AND_ASSIGN(auto w2, CreateForWrite(kRootInode, "after"));
  EXPECT_GT(w2.inode().id(), static_cast<uint64_t>(inodes));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w2.inode().id(), w2.lease_id(), 0));
  for (const proto::ChunkInfo& old : written) EXPECT_NE(c.chunk_id(), old.chunk_id());
}

TEST_F(RestartTest, QueuedDeletionsSurvive) {
  AddNodes(3);
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f"));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), 0));
  ASSERT_OK(Commit(w.inode().id(), w.lease_id(), c, 10));
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), 10));
  ASSERT_OK(Unlink(kRootInode, "f"));
  Restart();
  int handed = 0;
  for (const auto& r : c.replicas()) {
    ASSERT_OK_AND_ASSIGN(auto refs, Beat(r.node_id()));
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].chunk_id(), c.chunk_id());
    ++handed;
  }
  EXPECT_EQ(handed, 3);
  EXPECT_EQ(state_->chunk_count.load(), 0);
}

TEST_F(RestartTest, XattrsInlineDataSymlinksAndOrphansSurvive) {
  ASSERT_OK_AND_ASSIGN(auto small, CreateForWrite(kRootInode, "small"));
  ASSERT_OK(CloseInline(small.inode().id(), small.lease_id(), "tiny contents"));
  ASSERT_OK(SetXattr(small.inode().id(), "user.tag", "blue"));
  ASSERT_OK_AND_ASSIGN(proto::Inode link, Symlink(kRootInode, "link", "small"));
  ASSERT_OK_AND_ASSIGN(auto gone, CreateForWrite(kRootInode, "gone", "c9"));
  ASSERT_OK(CloseInline(gone.inode().id(), gone.lease_id(), "open elsewhere"));
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "gone", "c9"));
  const int64_t inodes = state_->inode_count.load();
  const int64_t ttl = state_->options().orphan_ttl_ms;
  clock_.AdvanceMs(ttl - 1000);  // the orphan is not renewed before the restart

  Restart();

  ASSERT_OK_AND_ASSIGN(auto open, OpenFile(small.inode().id()));
  EXPECT_TRUE(open.has_inline_data());
  EXPECT_EQ(open.inline_data(), "tiny contents");
  ASSERT_OK_AND_ASSIGN(std::string tag, GetXattr(small.inode().id(), "user.tag"));
  EXPECT_EQ(tag, "blue");
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Lookup(kRootInode, "link"));
  EXPECT_EQ(l.id(), link.id());
  EXPECT_EQ(l.symlink_target(), "small");
  EXPECT_EQ(state_->inode_count.load(), inodes);  // the orphan still counts
  EXPECT_EQ(state_->orphans().size(), 1u);
  // The orphan's time counts from the restart, not from its last renewal.
  clock_.AdvanceMs(ttl - 1000);
  ASSERT_OK(state_->Maintain(false));
  ASSERT_OK_AND_ASSIGN(auto kept, OpenFile(orphan));
  EXPECT_EQ(kept.inline_data(), "open elsewhere");
  clock_.AdvanceMs(1000);
  ASSERT_OK(state_->Maintain(false));
  EXPECT_ERROR(Stat(orphan).status(), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), inodes - 1);
  EXPECT_TRUE(KeysWithPrefix("O").empty());
  EXPECT_TRUE(KeysWithPrefix(InlineDataKey(orphan)).empty());
}

TEST_F(RestartTest, LazyChangesAreVisibleAndSurviveARestart) {
  proto::MkdirRequest req;
  req.set_parent(kRootInode);
  req.set_name("lazy");
  req.set_mode(0700);
  req.set_lazy_sync(true);
  proto::MkdirResponse resp;
  ASSERT_OK(metadata::Mkdir(*state_, req, &resp));
  ASSERT_OK_AND_ASSIGN(proto::Inode seen, Lookup(kRootInode, "lazy"));
  EXPECT_EQ(seen.id(), resp.inode().id());
  proto::SyncRequest sync;
  proto::SyncResponse sync_resp;
  ASSERT_OK(metadata::Sync(*state_, sync, &sync_resp));
  req.set_name("lazier");
  ASSERT_OK(metadata::Mkdir(*state_, req, &resp));
  ASSERT_OK(kv_->Sync());
  ASSERT_OK(kv_->Sync());
  Restart();
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(kRootInode));
  EXPECT_EQ(names, (std::vector<std::string>{"lazier", "lazy"}));
}

}  // namespace
}  // namespace granary::metadata
