// Namespace operations: mkdir, create, lookup, resolve, unlink, rmdir, readdir.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using testing::MetaTest;
using NamespaceTest = MetaTest;

TEST_F(NamespaceTest, RootExistsWithDefaults) {
  ASSERT_OK_AND_ASSIGN(proto::Inode root, Stat(kRootInode));
  EXPECT_EQ(root.type(), proto::INODE_DIR);
  EXPECT_EQ(root.mode(), 0755u);
  EXPECT_EQ(root.replicas(), 3u);
  EXPECT_EQ(root.chunk_size(), 64ull << 20);
  EXPECT_EQ(state_->inode_count.load(), 1);
}

TEST_F(NamespaceTest, MkdirThenLookupAndResolve) {
  ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a", 0750));
  EXPECT_EQ(a.type(), proto::INODE_DIR);
  EXPECT_EQ(a.mode(), 0750u);
  EXPECT_EQ(a.parent(), kRootInode);
  EXPECT_GT(a.id(), kRootInode);
  ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(a.id(), "b"));
  ASSERT_OK_AND_ASSIGN(proto::Inode found, Lookup(a.id(), "b"));
  EXPECT_EQ(found.id(), b.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode resolved, ResolvePath("/a/b"));
  EXPECT_EQ(resolved.id(), b.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode slashes, ResolvePath("//a///b/"));
  EXPECT_EQ(slashes.id(), b.id());
  ASSERT_OK_AND_ASSIGN(proto::Inode root, ResolvePath("/"));
  EXPECT_EQ(root.id(), kRootInode);
  EXPECT_EQ(state_->inode_count.load(), 3);
}

TEST_F(NamespaceTest, MkdirErrors) {
  ASSERT_OK(Mkdir(kRootInode, "a"));
  EXPECT_ERROR(Mkdir(kRootInode, "a"), proto::ALREADY_EXISTS);
  EXPECT_ERROR(Mkdir(999, "x"), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "file"));
  EXPECT_ERROR(Mkdir(f.inode().id(), "x"), proto::NOT_DIRECTORY);
  EXPECT_ERROR(Mkdir(kRootInode, "file"), proto::ALREADY_EXISTS);
}

TEST_F(NamespaceTest, NamesAreValidated) {
  EXPECT_ERROR(Mkdir(kRootInode, ""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Mkdir(kRootInode, "."), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Mkdir(kRootInode, ".."), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Mkdir(kRootInode, "a/b"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Mkdir(kRootInode, std::string("a\0b", 3)), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Mkdir(kRootInode, std::string(256, 'x')), proto::NAME_TOO_LONG);
  EXPECT_OK(Mkdir(kRootInode, std::string(255, 'x')));
  EXPECT_OK(Mkdir(kRootInode, "...")); // only "." and ".." are special
  EXPECT_ERROR(Create(kRootInode, std::string(300, 'y')), proto::NAME_TOO_LONG);
  EXPECT_ERROR(Lookup(kRootInode, ".."), proto::INVALID_ARGUMENT);
}

TEST_F(NamespaceTest, ResolveErrors) {
  ASSERT_OK(Create(kRootInode, "f"));
  EXPECT_ERROR(ResolvePath("relative"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ResolvePath(""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ResolvePath("/missing"), proto::NOT_FOUND);
  EXPECT_ERROR(ResolvePath("/f/x"), proto::NOT_DIRECTORY);
  EXPECT_ERROR(ResolvePath("/a/../b"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ResolvePath("/" + std::string(4096, 'a')), proto::NAME_TOO_LONG);
  Result<proto::Inode> missing = ResolvePath("/f2/x");
  ASSERT_ERROR(missing, proto::NOT_FOUND);
  EXPECT_NE(missing.status().message().find("'/f2'"), std::string::npos)
      << missing.status().message();
}

TEST_F(NamespaceTest, LookupUnderAFileIsNotDirectory) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  EXPECT_ERROR(Lookup(f.inode().id(), "x"), proto::NOT_DIRECTORY);
  EXPECT_ERROR(Lookup(kRootInode, "missing"), proto::NOT_FOUND);
  EXPECT_ERROR(Lookup(12345, "x"), proto::NOT_FOUND);
}

TEST_F(NamespaceTest, CreateInheritsAndValidatesLayout) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  EXPECT_EQ(f.inode().type(), proto::INODE_FILE);
  EXPECT_EQ(f.inode().replicas(), 3u);
  EXPECT_EQ(f.inode().chunk_size(), 64ull << 20);
  EXPECT_EQ(f.inode().size(), 0u);
  EXPECT_EQ(f.inode().nlink(), 1u);
  EXPECT_EQ(f.lease_id(), 0u);  // not opened for writing

  proto::CreateRequest custom;
  custom.set_replicas(2);
  custom.set_chunk_size(8 << 20);
  ASSERT_OK_AND_ASSIGN(auto g, Create(kRootInode, "g", custom));
  EXPECT_EQ(g.inode().replicas(), 2u);
  EXPECT_EQ(g.inode().chunk_size(), 8u << 20);

  proto::CreateRequest bad;
  bad.set_replicas(17);
  Result<proto::CreateResponse> r = Create(kRootInode, "h", bad);
  ASSERT_ERROR(r, proto::INVALID_ARGUMENT);
  EXPECT_NE(r.status().message().find("17"), std::string::npos);
  bad.set_replicas(0);
  bad.set_chunk_size((1 << 20) + 1);
  r = Create(kRootInode, "h", bad);
  ASSERT_ERROR(r, proto::INVALID_ARGUMENT);
  EXPECT_NE(r.status().message().find("1048577"), std::string::npos);
  bad.set_chunk_size(8ull << 30);
  EXPECT_ERROR(Create(kRootInode, "h", bad), proto::INVALID_ARGUMENT);
  bad.set_chunk_size(512 << 10);
  EXPECT_ERROR(Create(kRootInode, "h", bad), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Lookup(kRootInode, "h"), proto::NOT_FOUND);  // nothing was created
}

TEST_F(NamespaceTest, FoldersPassLayoutDown) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  proto::SetAttrRequest req;
  req.set_inode(d.id());
  req.set_replicas(5);
  req.set_chunk_size(16 << 20);
  proto::SetAttrResponse resp;
  ASSERT_OK(SetAttr(*state_, req, &resp));
  ASSERT_OK_AND_ASSIGN(proto::Inode sub, Mkdir(d.id(), "sub"));
  EXPECT_EQ(sub.replicas(), 5u);
  EXPECT_EQ(sub.chunk_size(), 16u << 20);
  ASSERT_OK_AND_ASSIGN(auto f, Create(sub.id(), "f"));
  EXPECT_EQ(f.inode().replicas(), 5u);
  EXPECT_EQ(f.inode().chunk_size(), 16u << 20);
}

TEST_F(NamespaceTest, CreateExistingFile) {
  ASSERT_OK_AND_ASSIGN(auto first, Create(kRootInode, "f"));
  proto::CreateRequest excl;
  excl.set_exclusive(true);
  EXPECT_ERROR(Create(kRootInode, "f", excl), proto::ALREADY_EXISTS);
  ASSERT_OK_AND_ASSIGN(auto again, Create(kRootInode, "f"));
  EXPECT_EQ(again.inode().id(), first.inode().id());
  EXPECT_EQ(state_->inode_count.load(), 2);

  ASSERT_OK(Mkdir(kRootInode, "d"));
  EXPECT_ERROR(Create(kRootInode, "d"), proto::IS_DIRECTORY);
  EXPECT_ERROR(Create(kRootInode, "d", excl), proto::ALREADY_EXISTS);
}

TEST_F(NamespaceTest, UnlinkAndRmdir) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  EXPECT_ERROR(Unlink(kRootInode, "d"), proto::IS_DIRECTORY);
  EXPECT_ERROR(Rmdir(kRootInode, "f"), proto::NOT_DIRECTORY);
  EXPECT_ERROR(Unlink(kRootInode, "missing"), proto::NOT_FOUND);
  EXPECT_ERROR(Rmdir(kRootInode, "missing"), proto::NOT_FOUND);

  ASSERT_OK(Create(d.id(), "inner"));
  EXPECT_ERROR(Rmdir(kRootInode, "d"), proto::NOT_EMPTY);
  ASSERT_OK(Unlink(d.id(), "inner"));
  ASSERT_OK(Rmdir(kRootInode, "d"));
  EXPECT_ERROR(Stat(d.id()), proto::NOT_FOUND);
  EXPECT_ERROR(Lookup(kRootInode, "d"), proto::NOT_FOUND);

  ASSERT_OK(Unlink(kRootInode, "f"));
  EXPECT_ERROR(Stat(f.inode().id()), proto::NOT_FOUND);
  EXPECT_ERROR(Unlink(kRootInode, "f"), proto::NOT_FOUND);
  EXPECT_EQ(state_->inode_count.load(), 1);
}

TEST_F(NamespaceTest, RootCannotBeRemovedOrNamed) {
  EXPECT_ERROR(Rmdir(kRootInode, ""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rmdir(kRootInode, "."), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Rmdir(kRootInode, ".."), proto::INVALID_ARGUMENT);
  // Even an entry naming the root (which no operation creates) cannot remove it.
  KvTxn alias;
  alias.Put(DentryKey(kRootInode, "alias"), EncodeDentry({kRootInode, proto::INODE_DIR}));
  ASSERT_OK(kv_->Commit(alias, {}));
  EXPECT_ERROR(Rmdir(kRootInode, "alias"), proto::PERMISSION_DENIED);
  EXPECT_OK(Stat(kRootInode));
}

TEST_F(NamespaceTest, ReadDirIsSortedPagedAndFull) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    std::string name = "e" + std::to_string(i);
    if (i % 5 == 0) {
      ASSERT_OK(Mkdir(d.id(), name));
    } else {
      ASSERT_OK(Create(d.id(), name));
    }
    expected.push_back(name);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> all, ListNames(d.id()));
  EXPECT_EQ(all, expected);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> paged, ListNames(d.id(), 7));
  EXPECT_EQ(paged, expected);

  proto::ReadDirRequest req;
  req.set_inode(d.id());
  req.set_limit(3);
  proto::ReadDirResponse resp;
  ASSERT_OK(ReadDir(*state_, req, &resp));
  ASSERT_EQ(resp.entries_size(), 3);
  EXPECT_TRUE(resp.has_more());
  // readdirplus: full inodes with types.
  for (const proto::DirEntry& e : resp.entries()) {
    EXPECT_NE(e.inode().id(), 0u);
    EXPECT_NE(e.inode().type(), proto::INODE_UNKNOWN);
    ASSERT_OK_AND_ASSIGN(proto::Inode looked, Lookup(d.id(), e.name()));
    EXPECT_EQ(looked.id(), e.inode().id());
  }

  req.set_limit(100000);  // capped at 1000 by the server, still complete here
  resp.Clear();
  ASSERT_OK(ReadDir(*state_, req, &resp));
  EXPECT_EQ(resp.entries_size(), 25);
  EXPECT_FALSE(resp.has_more());
}

TEST_F(NamespaceTest, ReadDirPageIsCappedAtOneThousand) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "big"));
  for (int i = 0; i < 1005; ++i) ASSERT_OK(Create(d.id(), fmt::format("f{:05}", i)));
  proto::ReadDirRequest req;
  req.set_inode(d.id());
  proto::ReadDirResponse resp;
  ASSERT_OK(ReadDir(*state_, req, &resp));
  EXPECT_EQ(resp.entries_size(), 1000);
  EXPECT_TRUE(resp.has_more());
  EXPECT_EQ(resp.entries(999).name(), "f00999");
}

TEST_F(NamespaceTest, ReadDirErrors) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  proto::ReadDirRequest req;
  proto::ReadDirResponse resp;
  req.set_inode(f.inode().id());
  EXPECT_ERROR(ReadDir(*state_, req, &resp), proto::NOT_DIRECTORY);
  req.set_inode(4242);
  EXPECT_ERROR(ReadDir(*state_, req, &resp), proto::NOT_FOUND);
}

TEST_F(NamespaceTest, ParentTimesAreUpdatedLazilyButVisibleAtOnce) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  clock_.AdvanceMs(5000);
  ASSERT_OK(Create(d.id(), "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode seen, Stat(d.id()));
  EXPECT_EQ(seen.mtime().sec(), d.mtime().sec() + 5);
  EXPECT_EQ(seen.ctime().sec(), d.ctime().sec() + 5);
  // Not yet in the stored record...
  auto raw = LoadExistingInode(*kv_, d.id());
  ASSERT_OK(raw);
  EXPECT_EQ(raw->inode.mtime().sec(), d.mtime().sec());
  // ...until upkeep flushes it.
  ASSERT_OK(state_->Maintain(false));
  raw = LoadExistingInode(*kv_, d.id());
  ASSERT_OK(raw);
  EXPECT_EQ(raw->inode.mtime().sec(), d.mtime().sec() + 5);
  EXPECT_EQ(state_->dir_times().pending(), 0u);

  clock_.AdvanceMs(3000);
  ASSERT_OK(Unlink(d.id(), "f"));
  ASSERT_OK_AND_ASSIGN(proto::Inode after_unlink, Lookup(kRootInode, "d"));
  EXPECT_EQ(after_unlink.mtime().sec(), d.mtime().sec() + 8);

  // The unlink reply tells the folder's new times, so a caching client (the
  // mount) need not ask: they are what a stat then shows.
  clock_.AdvanceMs(2000);
  ASSERT_OK(Create(d.id(), "g"));
  clock_.AdvanceMs(4000);
  proto::UnlinkRequest req;
  req.set_parent(d.id());
  req.set_name("g");
  proto::UnlinkResponse resp;
  ASSERT_OK(metadata::Unlink(*state_, req, &resp));
  ASSERT_OK_AND_ASSIGN(proto::Inode after, Stat(d.id()));
  EXPECT_EQ(resp.parent_time().sec(), d.mtime().sec() + 14);
  EXPECT_EQ(resp.parent_time().sec(), after.mtime().sec());
  EXPECT_EQ(resp.parent_time().nsec(), after.mtime().nsec());
  EXPECT_EQ(resp.parent_time().sec(), after.ctime().sec());
}

TEST_F(NamespaceTest, InodeIdsAreUniqueAcrossBatches) {
  std::set<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {  // the test batch is 16 ids
    ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f" + std::to_string(i)));
    EXPECT_TRUE(ids.insert(f.inode().id()).second);
  }
  OpenState();  // a restart skips the rest of the reserved batch
  ASSERT_OK_AND_ASSIGN(auto g, Create(kRootInode, "after-restart"));
  EXPECT_GT(g.inode().id(), *ids.rbegin());
}

}  // namespace
}  // namespace granary::metadata
