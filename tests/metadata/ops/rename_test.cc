// Rename: every rule of the rename table in ops/rename.cc.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using RenameTest = testing::MetaTest;

TEST_F(RenameTest, WithinAndAcrossFolders) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(kRootInode, "b"));
  ASSERT_OK_AND_ASSIGN(auto f, Create(a.id(), "f"));
  ASSERT_OK(Rename(a.id(), "f", a.id(), "g"));
  EXPECT_ERROR(Lookup(a.id(), "f"), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(proto::Inode g, Lookup(a.id(), "g"));
  EXPECT_EQ(g.id(), f.inode().id());

  ASSERT_OK(Rename(a.id(), "g", b.id(), "h"));
  ASSERT_OK_AND_ASSIGN(proto::Inode h, ResolvePath("/b/h"));
  EXPECT_EQ(h.id(), f.inode().id());
  EXPECT_EQ(h.parent(), b.id());
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(a.id()));
  EXPECT_TRUE(names.empty());
}

TEST_F(RenameTest, MovesAWholeSubtree) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode sub, Mkdir(a.id(), "sub"));
  ASSERT_OK(Create(sub.id(), "leaf"));
  ASSERT_OK_AND_ASSIGN(proto::Inode z, Mkdir(kRootInode, "z"));
  ASSERT_OK(Rename(kRootInode, "a", z.id(), "moved"));
  ASSERT_OK_AND_ASSIGN(proto::Inode leaf, ResolvePath("/z/moved/sub/leaf"));
  EXPECT_EQ(leaf.parent(), sub.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode moved, Stat(a.id()));
  EXPECT_EQ(moved.parent(), z.id());
  EXPECT_ERROR(ResolvePath("/a"), proto::NOT_FOUND);
}

TEST_F(RenameTest, FileOverFileReplacesIt) {
  AddNodes(3);
  ASSERT_OK_AND_ASSIGN(auto src, Create(kRootInode, "src"));
  ASSERT_OK_AND_ASSIGN(auto dst, CreateForWrite(kRootInode, "dst"));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(dst.inode().id(), dst.lease_id(), 0));
  ASSERT_OK(Commit(dst.inode().id(), dst.lease_id(), c, 100));
  ASSERT_OK(CloseFile(dst.inode().id(), dst.lease_id(), 100));
  EXPECT_EQ(state_->chunk_count.load(), 1);

  ASSERT_OK(Rename(kRootInode, "src", kRootInode, "dst"));
  ASSERT_OK_AND_ASSIGN(proto::Inode now, Lookup(kRootInode, "dst"));
  EXPECT_EQ(now.id(), src.inode().id());
  EXPECT_ERROR(Stat(dst.inode().id()), proto::NOT_FOUND);
  EXPECT_ERROR(Lookup(kRootInode, "src"), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), 2);  // root + the survivor
  EXPECT_EQ(state_->chunk_count.load(), 0);
  // The replaced file's replicas are queued for their nodes.
  for (const proto::NodeAddress& r : c.replicas()) {
    ASSERT_OK_AND_ASSIGN(auto refs, Beat(r.node_id()));
    ASSERT_EQ(refs.size(), 1u) << r.node_id();
    EXPECT_EQ(refs[0].chunk_id(), c.chunk_id());
    EXPECT_EQ(refs[0].version(), c.version());
  }
}

TEST_F(RenameTest, DirOverEmptyDir) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK(Create(a.id(), "keep"));
  ASSERT_OK_AND_ASSIGN(proto::Inode empty, Mkdir(kRootInode, "empty"));
  ASSERT_OK(Rename(kRootInode, "a", kRootInode, "empty"));
  ASSERT_OK_AND_ASSIGN(proto::Inode now, Lookup(kRootInode, "empty"));
  EXPECT_EQ(now.id(), a.id());
  EXPECT_ERROR(Stat(empty.id()), proto::NOT_FOUND);
  EXPECT_OK(ResolvePath("/empty/keep"));
}

TEST_F(RenameTest, DirOverNonEmptyDirIsNotEmpty) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode full, Mkdir(kRootInode, "full"));
  ASSERT_OK(Create(full.id(), "x"));
  EXPECT_ERROR(Rename(kRootInode, "a", kRootInode, "full"), proto::NOT_EMPTY);
  // Nothing moved.
  ASSERT_OK_AND_ASSIGN(proto::Inode still, Lookup(kRootInode, "a"));
  EXPECT_EQ(still.id(), a.id());
  EXPECT_OK(ResolvePath("/full/x"));
}

TEST_F(RenameTest, TypeMismatches) {
  ASSERT_OK(Mkdir(kRootInode, "dir"));
  ASSERT_OK(Create(kRootInode, "file"));
  EXPECT_ERROR(Rename(kRootInode, "file", kRootInode, "dir"), proto::IS_DIRECTORY);
  EXPECT_ERROR(Rename(kRootInode, "dir", kRootInode, "file"), proto::NOT_DIRECTORY);
  EXPECT_OK(Lookup(kRootInode, "dir"));
  EXPECT_OK(Lookup(kRootInode, "file"));
}

TEST_F(RenameTest, DirIntoItsOwnSubtreeIsRefused) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(a.id(), "b"));
  ASSERT_OK_AND_ASSIGN(proto::Inode c, Mkdir(b.id(), "c"));
  EXPECT_ERROR(Rename(kRootInode, "a", a.id(), "self"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rename(kRootInode, "a", c.id(), "deep"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rename(a.id(), "b", c.id(), "x"), proto::INVALID_ARGUMENT);
  // Moving a subtree up, or a sibling into it, is fine.
  EXPECT_OK(Rename(b.id(), "c", kRootInode, "c"));
  ASSERT_OK(Mkdir(kRootInode, "sib"));
  EXPECT_OK(Rename(kRootInode, "sib", b.id(), "sib"));
  EXPECT_OK(ResolvePath("/a/b/sib"));
}

TEST_F(RenameTest, RenameToItselfIsANoOp) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  ASSERT_OK(Rename(kRootInode, "f", kRootInode, "f"));
  ASSERT_OK(Rename(kRootInode, "f", kRootInode, "f", /*no_replace=*/true));
  ASSERT_OK_AND_ASSIGN(proto::Inode same, Lookup(kRootInode, "f"));
  EXPECT_EQ(same.id(), f.inode().id());
  EXPECT_ERROR(Rename(kRootInode, "ghost", kRootInode, "ghost"), proto::NOT_FOUND);
}

TEST_F(RenameTest, NoReplace) {
  ASSERT_OK(Create(kRootInode, "a"));
  ASSERT_OK(Create(kRootInode, "b"));
  EXPECT_ERROR(Rename(kRootInode, "a", kRootInode, "b", true), proto::ALREADY_EXISTS);
  EXPECT_OK(Lookup(kRootInode, "a"));
  EXPECT_OK(Rename(kRootInode, "a", kRootInode, "c", true));
}

TEST_F(RenameTest, MissingOrWrongParents) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  EXPECT_ERROR(Rename(kRootInode, "ghost", kRootInode, "x"), proto::NOT_FOUND);
  EXPECT_ERROR(Rename(777, "f", kRootInode, "x"), proto::NOT_FOUND);
  EXPECT_ERROR(Rename(kRootInode, "f", 777, "x"), proto::NOT_FOUND);
  EXPECT_ERROR(Rename(kRootInode, "f", f.inode().id(), "x"), proto::NOT_DIRECTORY);
  EXPECT_ERROR(Rename(kRootInode, "f", kRootInode, "a/b"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rename(kRootInode, "f", kRootInode, std::string(256, 'n')), proto::NAME_TOO_LONG);
}

TEST_F(RenameTest, TouchesBothParents) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(kRootInode, "b"));
  ASSERT_OK(Create(a.id(), "f"));
  clock_.AdvanceMs(10'000);
  ASSERT_OK(Rename(a.id(), "f", b.id(), "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode a2, Stat(a.id()));
  ASSERT_OK_AND_ASSIGN(proto::Inode b2, Stat(b.id()));
  EXPECT_GE(a2.mtime().sec(), a.mtime().sec() + 10);
  EXPECT_GE(b2.mtime().sec(), b.mtime().sec() + 10);
}

}  // namespace
}  // namespace granary::metadata
