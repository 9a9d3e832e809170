// Extended attributes: set modes, limits, ctime, and removal with the inode.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr size_t kKiB = 1024;

class XattrTest : public testing::MetaTest {
 protected:
  uint64_t NewFile(const std::string& name) {
    auto r = Create(kRootInode, name);
    EXPECT_OK(r);
    return r.ok() ? r->inode().id() : 0;
  }
};

TEST_F(XattrTest, SetGetListRemove) {
  uint64_t f = NewFile("f");
  ASSERT_OK(SetXattr(f, "user.b", "2"));
  ASSERT_OK(SetXattr(f, "user.a", std::string("bin\0ary", 7)));
  ASSERT_OK(SetXattr(f, "user.empty", ""));
  ASSERT_OK_AND_ASSIGN(std::string a, GetXattr(f, "user.a"));
  EXPECT_EQ(a, std::string("bin\0ary", 7));
  ASSERT_OK_AND_ASSIGN(std::string empty, GetXattr(f, "user.empty"));
  EXPECT_EQ(empty, "");
  ASSERT_OK_AND_ASSIGN(auto names, ListXattr(f));
  EXPECT_EQ(names, (std::vector<std::string>{"user.a", "user.b", "user.empty"}));
  ASSERT_OK(SetXattr(f, "user.b", "3"));  // XATTR_ANY replaces
  ASSERT_OK_AND_ASSIGN(std::string b, GetXattr(f, "user.b"));
  EXPECT_EQ(b, "3");
  ASSERT_OK(RemoveXattr(f, "user.b"));
  EXPECT_ERROR(GetXattr(f, "user.b").status(), proto::NO_ATTRIBUTE);
  ASSERT_OK_AND_ASSIGN(names, ListXattr(f));
  EXPECT_EQ(names, (std::vector<std::string>{"user.a", "user.empty"}));
}

TEST_F(XattrTest, CreateAndReplaceModes) {
  uint64_t f = NewFile("f");
  EXPECT_ERROR(SetXattr(f, "user.x", "1", proto::XATTR_REPLACE), proto::NO_ATTRIBUTE);
  ASSERT_OK(SetXattr(f, "user.x", "1", proto::XATTR_CREATE));
  EXPECT_ERROR(SetXattr(f, "user.x", "2", proto::XATTR_CREATE), proto::ALREADY_EXISTS);
  ASSERT_OK(SetXattr(f, "user.x", "3", proto::XATTR_REPLACE));
  ASSERT_OK_AND_ASSIGN(std::string x, GetXattr(f, "user.x"));
  EXPECT_EQ(x, "3");
  EXPECT_ERROR(SetXattr(f, "user.x", "4", static_cast<proto::XattrSetMode>(7)),
               proto::INVALID_ARGUMENT);
}

TEST_F(XattrTest, MissingAttributeAndInode) {
  uint64_t f = NewFile("f");
  EXPECT_ERROR(GetXattr(f, "user.none").status(), proto::NO_ATTRIBUTE);
  EXPECT_ERROR(RemoveXattr(f, "user.none"), proto::NO_ATTRIBUTE);
  ASSERT_OK_AND_ASSIGN(auto names, ListXattr(f));
  EXPECT_TRUE(names.empty());
  EXPECT_ERROR(SetXattr(999, "user.a", "v"), proto::NOT_FOUND);
  EXPECT_ERROR(GetXattr(999, "user.a").status(), proto::NOT_FOUND);
  EXPECT_ERROR(ListXattr(999).status(), proto::NOT_FOUND);
  EXPECT_ERROR(RemoveXattr(999, "user.a"), proto::NOT_FOUND);
}

TEST_F(XattrTest, Limits) {
  uint64_t f = NewFile("f");
  EXPECT_ERROR(SetXattr(f, "", "v"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(SetXattr(f, std::string(256, 'n'), "v"), proto::NAME_TOO_LONG);
  EXPECT_ERROR(GetXattr(f, std::string(256, 'n')).status(), proto::NAME_TOO_LONG);
  EXPECT_ERROR(SetXattr(f, std::string("a\0b", 3), "v"), proto::INVALID_ARGUMENT);
  ASSERT_OK(SetXattr(f, std::string(255, 'n'), "v"));
  EXPECT_ERROR(SetXattr(f, "user.big", std::string(64 * kKiB + 1, 'v')), proto::INVALID_ARGUMENT);
  ASSERT_OK(RemoveXattr(f, std::string(255, 'n')));
  // 1 MiB of names and values per inode: 15 values of 64 KiB plus names fit,
  // a 16th does not; replacing one in place still fits.
  for (int i = 0; i < 15; ++i) {
    ASSERT_OK(SetXattr(f, "user." + std::to_string(i), std::string(64 * kKiB, 'v')));
  }
  EXPECT_ERROR(SetXattr(f, "user.15", std::string(64 * kKiB, 'v')), proto::RESOURCE_EXHAUSTED);
  ASSERT_OK(SetXattr(f, "user.15", std::string(60 * kKiB, 'v')));
  ASSERT_OK(SetXattr(f, "user.0", std::string(64 * kKiB, 'w')));
  EXPECT_ERROR(SetXattr(f, "user.0", std::string(64 * kKiB, 'w') + "x"), proto::INVALID_ARGUMENT);
}

TEST_F(XattrTest, SetAndRemoveUpdateCtime) {
  uint64_t f = NewFile("f");
  ASSERT_OK_AND_ASSIGN(proto::Inode before, Stat(f));
  clock_.AdvanceMs(5000);
  ASSERT_OK(SetXattr(f, "user.a", "1"));
  ASSERT_OK_AND_ASSIGN(proto::Inode after_set, Stat(f));
  EXPECT_EQ(after_set.ctime().sec(), before.ctime().sec() + 5);
  EXPECT_EQ(after_set.mtime().sec(), before.mtime().sec());
  clock_.AdvanceMs(5000);
  ASSERT_OK(RemoveXattr(f, "user.a"));
  ASSERT_OK_AND_ASSIGN(proto::Inode after_remove, Stat(f));
  EXPECT_EQ(after_remove.ctime().sec(), before.ctime().sec() + 10);
}

TEST_F(XattrTest, FoldersAndSymlinksHaveThemToo) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  ASSERT_OK_AND_ASSIGN(proto::Inode l, Symlink(kRootInode, "l", "d"));
  ASSERT_OK(SetXattr(d.id(), "user.d", "1"));
  ASSERT_OK(SetXattr(l.id(), "trusted.l", "2"));
  ASSERT_OK_AND_ASSIGN(std::string v, GetXattr(d.id(), "user.d"));
  EXPECT_EQ(v, "1");
  ASSERT_OK(SetXattr(kRootInode, "user.root", "r"));
  ASSERT_OK_AND_ASSIGN(auto names, ListXattr(kRootInode));
  EXPECT_EQ(names, std::vector<std::string>{"user.root"});
}

TEST_F(XattrTest, DeletedWithTheirInode) {
  uint64_t f = NewFile("f");
  uint64_t g = NewFile("g");
  uint64_t h = NewFile("h");
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  ASSERT_OK_AND_ASSIGN(proto::Inode e, Mkdir(kRootInode, "e"));
  ASSERT_OK_AND_ASSIGN(proto::Inode e2, Mkdir(kRootInode, "e2"));
  for (uint64_t i : {f, g, h, d.id(), e.id(), e2.id()}) {
    ASSERT_OK(SetXattr(i, "user.a", "1"));
    ASSERT_OK(SetXattr(i, "user.b", "2"));
  }
  ASSERT_OK(Unlink(kRootInode, "f"));
  ASSERT_OK(Rename(kRootInode, "g", kRootInode, "h"));   // h's inode goes
  ASSERT_OK(Rmdir(kRootInode, "d"));
  ASSERT_OK(Rename(kRootInode, "e", kRootInode, "e2"));  // e2's inode goes
  std::vector<std::string> keys = KeysWithPrefix("X");
  ASSERT_EQ(keys.size(), 4u);  // g's and e's, which live on under new names
  EXPECT_EQ(keys[0], XattrKey(std::min(g, e.id()), "user.a"));
  for (const std::string& k : keys) {
    EXPECT_TRUE(k.starts_with(XattrPrefix(g)) || k.starts_with(XattrPrefix(e.id())));
  }
  ASSERT_OK_AND_ASSIGN(std::string v, GetXattr(g, "user.b"));
  EXPECT_EQ(v, "2");
}

TEST_F(XattrTest, LazySetIsNotSynced) {
  auto& kv = static_cast<InMemKv&>(*kv_);
  uint64_t f = NewFile("f");
  const uint64_t synced = kv.synced_commits();
  proto::SetXattrRequest req;
  req.set_inode(f);
  req.set_name("user.lazy");
  req.set_value("v");
  req.set_lazy_sync(true);
  proto::SetXattrResponse resp;
  ASSERT_OK(metadata::SetXattr(*state_, req, &resp));
  proto::RemoveXattrRequest rm;
  rm.set_inode(f);
  rm.set_name("user.lazy");
  rm.set_lazy_sync(true);
  proto::RemoveXattrResponse rm_resp;
  ASSERT_OK_AND_ASSIGN(std::string v, GetXattr(f, "user.lazy"));
  EXPECT_EQ(v, "v");
  ASSERT_OK(metadata::RemoveXattr(*state_, rm, &rm_resp));
  EXPECT_EQ(kv.synced_commits(), synced);
}

}  // namespace
}  // namespace granary::metadata
