// Symlinks: creation, target limits, lookup and removal.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using SymlinkTest = testing::MetaTest;

TEST_F(SymlinkTest, StoresTargetAsGiven) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(d.id(), "link", "../some/where"));
  EXPECT_EQ(l.type(), proto::INODE_SYMLINK);
  EXPECT_EQ(l.mode(), 0777u);
  EXPECT_EQ(l.symlink_target(), "../some/where");
  EXPECT_EQ(l.size(), 13u);
  EXPECT_EQ(l.parent(), d.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode found, Lookup(d.id(), "link"));
  EXPECT_EQ(found.id(), l.id());
  EXPECT_EQ(found.symlink_target(), "../some/where");
  ASSERT_OK_AND_ASSIGN(proto::Inode stat, Stat(l.id()));
  EXPECT_EQ(stat.symlink_target(), "../some/where");
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(d.id()));
  EXPECT_EQ(names, std::vector<std::string>{"link"});
  EXPECT_EQ(state_->inode_count.load(), 3);
}

TEST_F(SymlinkTest, TargetAndNameLimits) {
  EXPECT_ERROR(Symlink(kRootInode, "l", "").status(), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Symlink(kRootInode, "l", std::string(4096, 'x')).status(), proto::NAME_TOO_LONG);
  EXPECT_ERROR(Symlink(kRootInode, "l", std::string("a\0b", 3)).status(), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Symlink(kRootInode, std::string(256, 'n'), "t").status(), proto::NAME_TOO_LONG);
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", std::string(4095, 'x')));
  EXPECT_EQ(l.size(), 4095u);
}

TEST_F(SymlinkTest, Errors) {
  ASSERT_OK(Create(kRootInode, "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode f, Lookup(kRootInode, "f"));
  EXPECT_ERROR(Symlink(kRootInode, "f", "t").status(), proto::ALREADY_EXISTS);
  EXPECT_ERROR(Symlink(f.id(), "x", "t").status(), proto::NOT_DIRECTORY);
  EXPECT_ERROR(Symlink(999, "x", "t").status(), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", "f"));
  // Not a file: no data to open.
  EXPECT_ERROR(OpenFile(l.id()).status(), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rmdir(kRootInode, "l"), proto::NOT_DIRECTORY);
}

TEST_F(SymlinkTest, UnlinkRemovesIt) {
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", "target"));
  ASSERT_OK(SetXattr(l.id(), "user.a", "v"));
  ASSERT_OK(Unlink(kRootInode, "l"));
  EXPECT_ERROR(Stat(l.id()).status(), proto::NOT_FOUND);
  EXPECT_ERROR(Lookup(kRootInode, "l").status(), proto::NOT_FOUND);
  EXPECT_TRUE(KeysWithPrefix("X").empty());
  EXPECT_EQ(state_->inode_count.load(), 1);
}

TEST_F(SymlinkTest, KeepOrphanDoesNotApplyToSymlinks) {
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", "target"));
  ASSERT_OK_AND_ASSIGN(uint64_t orphan, UnlinkKeep(kRootInode, "l"));
  EXPECT_EQ(orphan, 0u);
  EXPECT_ERROR(Stat(l.id()).status(), proto::NOT_FOUND);
  EXPECT_TRUE(KeysWithPrefix("O").empty());
}

TEST_F(SymlinkTest, RenameMovesIt) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", "t"));
  ASSERT_OK(Rename(kRootInode, "l", d.id(), "m"));
  ASSERT_OK_AND_ASSIGN(proto::Inode moved, Lookup(d.id(), "m"));
  EXPECT_EQ(moved.id(), l.id());
  EXPECT_EQ(moved.parent(), d.id());
  EXPECT_EQ(moved.symlink_target(), "t");
}

}  // namespace
}  // namespace granary::metadata
