// Lazy durability (lazy_sync), META_SYNC and the periodic WAL sync; create
// without a lease.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

class DurabilityTest : public testing::MetaTest {
 protected:
  InMemKv& mem() { return static_cast<InMemKv&>(*kv_); }
};

TEST_F(DurabilityTest, LazyChangesAreVisibleAtOnceAndNotSynced) {
  // Reserves a batch of inode ids first: that counter commit is always synced.
  ASSERT_OK(Mkdir(kRootInode, "warm"));
  const uint64_t synced = mem().synced_commits();
  const uint64_t commits = mem().commits();
  proto::MkdirRequest mk;
  mk.set_parent(kRootInode);
  mk.set_name("d");
  mk.set_mode(0755);
  mk.set_lazy_sync(true);
  proto::MkdirResponse mk_resp;
  ASSERT_OK(metadata::Mkdir(*state_, mk, &mk_resp));
  proto::CreateRequest cr;
  cr.set_lazy_sync(true);
  ASSERT_OK(Create(mk_resp.inode().id(), "f", cr));
  proto::SymlinkRequest sl;
  sl.set_parent(kRootInode);
  sl.set_name("l");
  sl.set_target("d/f");
  sl.set_lazy_sync(true);
  proto::SymlinkResponse sl_resp;
  ASSERT_OK(metadata::Symlink(*state_, sl, &sl_resp));
  proto::RenameRequest rn;
  rn.set_src_parent(mk_resp.inode().id());
  rn.set_src_name("f");
  rn.set_dst_parent(kRootInode);
  rn.set_dst_name("g");
  rn.set_lazy_sync(true);
  proto::RenameResponse rn_resp;
  ASSERT_OK(metadata::Rename(*state_, rn, &rn_resp));
  ASSERT_OK_AND_ASSIGN(proto::Inode g, Lookup(kRootInode, "g"));
  proto::SetAttrRequest sa;
  sa.set_inode(g.id());
  sa.set_mode(0600);
  sa.set_lazy_sync(true);
  proto::SetAttrResponse sa_resp;
  ASSERT_OK(metadata::SetAttr(*state_, sa, &sa_resp));
  ASSERT_OK_AND_ASSIGN(proto::Inode g2, Stat(g.id()));
  EXPECT_EQ(g2.mode(), 0600u);
  proto::UnlinkRequest ul;
  ul.set_parent(kRootInode);
  ul.set_name("g");
  ul.set_lazy_sync(true);
  proto::UnlinkResponse ul_resp;
  ASSERT_OK(metadata::Unlink(*state_, ul, &ul_resp));
  proto::RmdirRequest rd;
  rd.set_parent(kRootInode);
  rd.set_name("d");
  rd.set_lazy_sync(true);
  proto::RmdirResponse rd_resp;
  ASSERT_OK(metadata::Rmdir(*state_, rd, &rd_resp));
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(kRootInode));
  EXPECT_EQ(names, (std::vector<std::string>{"l", "warm"}));
  EXPECT_EQ(mem().synced_commits(), synced);
  EXPECT_GE(mem().commits(), commits + 7);
  // Without lazy_sync: synced.
  ASSERT_OK(Mkdir(kRootInode, "e"));
  EXPECT_EQ(mem().synced_commits(), synced + 1);
}

TEST_F(DurabilityTest, LazyCloseIsNotSynced) {
  AddNodes(1);
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f"));
  const uint64_t synced = mem().synced_commits();
  proto::CloseRequest req;
  req.set_inode(w.inode().id());
  req.set_lease_id(w.lease_id());
  req.set_size(3);
  req.set_inline_data("abc");
  req.set_lazy_sync(true);
  proto::CloseResponse resp;
  ASSERT_OK(metadata::Close(*state_, req, &resp));
  EXPECT_EQ(mem().synced_commits(), synced);
  ASSERT_OK_AND_ASSIGN(proto::Inode f, Stat(w.inode().id()));
  EXPECT_EQ(f.size(), 3u);
}

TEST_F(DurabilityTest, SyncSyncsTheStore) {
  const uint64_t syncs = mem().syncs();
  proto::SyncRequest req;
  proto::SyncResponse resp;
  ASSERT_OK(metadata::Sync(*state_, req, &resp));
  EXPECT_EQ(mem().syncs(), syncs + 1);
}

TEST_F(DurabilityTest, UpkeepSyncsAfterLazyCommitsOnly) {
  const int64_t interval = state_->options().wal_sync_interval_ms;
  const uint64_t syncs = mem().syncs();
  clock_.AdvanceMs(interval);
  ASSERT_OK(state_->Maintain(false));
  EXPECT_EQ(mem().syncs(), syncs);  // nothing lazy happened
  proto::MkdirRequest mk;
  mk.set_parent(kRootInode);
  mk.set_name("d");
  mk.set_lazy_sync(true);
  proto::MkdirResponse resp;
  ASSERT_OK(metadata::Mkdir(*state_, mk, &resp));
  ASSERT_OK(state_->Maintain(false));
  EXPECT_EQ(mem().syncs(), syncs + 1);
  mk.set_name("e");
  ASSERT_OK(metadata::Mkdir(*state_, mk, &resp));
  ASSERT_OK(state_->Maintain(false));
  EXPECT_EQ(mem().syncs(), syncs + 1);  // the interval has not passed
  clock_.AdvanceMs(interval);
  ASSERT_OK(state_->Maintain(false));
  EXPECT_EQ(mem().syncs(), syncs + 2);
  clock_.AdvanceMs(interval);
  ASSERT_OK(state_->Maintain(false));
  EXPECT_EQ(mem().syncs(), syncs + 2);  // nothing new
  mk.set_name("f");
  ASSERT_OK(metadata::Mkdir(*state_, mk, &resp));
  ASSERT_OK(state_->Maintain(true));  // shutdown syncs whatever the interval
  EXPECT_EQ(mem().syncs(), syncs + 3);
}

TEST_F(DurabilityTest, CreateWithoutOpenForWriteTakesNoLease) {
  ASSERT_OK_AND_ASSIGN(auto c, Create(kRootInode, "f"));
  EXPECT_EQ(c.lease_id(), 0u);
  EXPECT_FALSE(state_->leases().Holder(c.inode().id()).has_value());
  ASSERT_OK_AND_ASSIGN(auto again, Create(kRootInode, "f"));  // existing: unchanged
  EXPECT_EQ(again.inode().id(), c.inode().id());
  EXPECT_EQ(again.lease_id(), 0u);
  proto::CreateRequest excl;
  excl.set_exclusive(true);
  EXPECT_ERROR(Create(kRootInode, "f", excl).status(), proto::ALREADY_EXISTS);
  ASSERT_OK_AND_ASSIGN(auto w, OpenFile(c.inode().id(), /*write=*/true));
  EXPECT_NE(w.lease_id(), 0u);
}

}  // namespace
}  // namespace granary::metadata
