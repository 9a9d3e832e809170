// Rename with exchange (RENAME_EXCHANGE): atomic swap of two entries.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using ExchangeTest = testing::MetaTest;

TEST_F(ExchangeTest, SwapsTwoFilesInOneFolder) {
  ASSERT_OK_AND_ASSIGN(auto a, Create(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(auto b, Create(kRootInode, "b"));
  ASSERT_OK(Exchange(kRootInode, "a", kRootInode, "b"));
  ASSERT_OK_AND_ASSIGN(proto::Inode at_a, Lookup(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode at_b, Lookup(kRootInode, "b"));
  EXPECT_EQ(at_a.id(), b.inode().id());
  EXPECT_EQ(at_b.id(), a.inode().id());
  EXPECT_EQ(state_->inode_count.load(), 3);
}

TEST_F(ExchangeTest, SwapsAFileAndAFolderAcrossParents) {
  ASSERT_OK_AND_ASSIGN(proto::Inode p, Mkdir(kRootInode, "p"));
  ASSERT_OK_AND_ASSIGN(proto::Inode q, Mkdir(kRootInode, "q"));
  ASSERT_OK_AND_ASSIGN(auto f, Create(p.id(), "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(q.id(), "d"));
  ASSERT_OK(Create(d.id(), "inside"));
  clock_.AdvanceMs(3000);
  ASSERT_OK(Exchange(p.id(), "f", q.id(), "d"));
  ASSERT_OK_AND_ASSIGN(proto::Inode now_pf, Lookup(p.id(), "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode now_qd, Lookup(q.id(), "d"));
  EXPECT_EQ(now_pf.id(), d.id());
  EXPECT_EQ(now_pf.type(), proto::INODE_DIR);
  EXPECT_EQ(now_pf.parent(), p.id());
  EXPECT_EQ(now_pf.ctime().sec(), d.ctime().sec() + 3);
  EXPECT_EQ(now_qd.id(), f.inode().id());
  EXPECT_EQ(now_qd.type(), proto::INODE_FILE);
  EXPECT_EQ(now_qd.parent(), q.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode inside, ResolvePath("/p/f/inside"));
  EXPECT_EQ(inside.parent(), d.id());
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(p.id()));
  EXPECT_EQ(names, std::vector<std::string>{"f"});
}

TEST_F(ExchangeTest, BothEntriesMustExist) {
  ASSERT_OK(Create(kRootInode, "a"));
  EXPECT_ERROR(Exchange(kRootInode, "a", kRootInode, "missing"), proto::NOT_FOUND);
  EXPECT_ERROR(Exchange(kRootInode, "missing", kRootInode, "a"), proto::NOT_FOUND);
  EXPECT_ERROR(Exchange(kRootInode, "a", 999, "a"), proto::NOT_FOUND);
  ASSERT_OK(Exchange(kRootInode, "a", kRootInode, "a"));  // itself: nothing to do
  ASSERT_OK(Lookup(kRootInode, "a"));
}

TEST_F(ExchangeTest, NoReplaceIsInvalid) {
  ASSERT_OK(Create(kRootInode, "a"));
  ASSERT_OK(Create(kRootInode, "b"));
  proto::RenameRequest req;
  req.set_src_parent(kRootInode);
  req.set_src_name("a");
  req.set_dst_parent(kRootInode);
  req.set_dst_name("b");
  req.set_exchange(true);
  req.set_no_replace(true);
  proto::RenameResponse resp;
  EXPECT_ERROR(metadata::Rename(*state_, req, &resp), proto::INVALID_ARGUMENT);
}

TEST_F(ExchangeTest, RefusesToPutAFolderInsideItself) {
  // /a/b/c: exchanging a with c would make a a child of b, inside a.
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(a.id(), "b"));
  ASSERT_OK(Mkdir(b.id(), "c"));
  EXPECT_ERROR(Exchange(kRootInode, "a", b.id(), "c"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Exchange(b.id(), "c", kRootInode, "a"), proto::INVALID_ARGUMENT);
  // A parent and its own child entry, the other way round too.
  EXPECT_ERROR(Exchange(kRootInode, "a", a.id(), "b"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Exchange(a.id(), "b", kRootInode, "a"), proto::INVALID_ARGUMENT);
  ASSERT_OK_AND_ASSIGN(proto::Inode still, ResolvePath("/a/b/c"));
  EXPECT_EQ(still.parent(), b.id());
}

TEST_F(ExchangeTest, UnrelatedFoldersSwap) {
  ASSERT_OK_AND_ASSIGN(proto::Inode x, Mkdir(kRootInode, "x"));
  ASSERT_OK_AND_ASSIGN(proto::Inode y, Mkdir(kRootInode, "y"));
  ASSERT_OK_AND_ASSIGN(proto::Inode xs, Mkdir(x.id(), "s"));
  ASSERT_OK_AND_ASSIGN(proto::Inode yt, Mkdir(y.id(), "t"));
  ASSERT_OK(Exchange(x.id(), "s", y.id(), "t"));
  ASSERT_OK_AND_ASSIGN(proto::Inode at_xs, ResolvePath("/x/s"));
  ASSERT_OK_AND_ASSIGN(proto::Inode at_yt, ResolvePath("/y/t"));
  EXPECT_EQ(at_xs.id(), yt.id());
  EXPECT_EQ(at_xs.parent(), x.id());
  EXPECT_EQ(at_yt.id(), xs.id());
  EXPECT_EQ(at_yt.parent(), y.id());
}

}  // namespace
}  // namespace granary::metadata
