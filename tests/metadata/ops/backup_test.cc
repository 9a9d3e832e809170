// Backup sessions: the snapshot listing (depth first, paged, subtree), the
// raw metadata pages, the hold on replica deletions and the session lease.

#include <gtest/gtest.h>

#include <set>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class BackupTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(3);
  }

  Result<uint64_t> Begin(uint64_t lease_ms = 0) {
    proto::BackupBeginRequest req;
    req.set_client_id("backup-client");
    req.set_lease_ms(lease_ms);
    proto::BackupBeginResponse resp;
    RETURN_IF_ERROR(BackupBegin(*state_, req, &resp));
    return resp.session_id();
  }
  Status End(uint64_t id) {
    proto::BackupEndRequest req;
    req.set_session_id(id);
    proto::BackupEndResponse resp;
    return BackupEnd(*state_, req, &resp);
  }
  Status Renew(uint64_t id) {
    proto::BackupRenewRequest req;
    req.set_session_id(id);
    proto::BackupRenewResponse resp;
    return BackupRenew(*state_, req, &resp);
  }
  // Every entry of the subtree at `path`, following pages of `limit`.
  Result<std::vector<proto::BackupEntry>> ListAll(uint64_t id, const std::string& path = "",
                                                  uint32_t limit = 0) {
    std::vector<proto::BackupEntry> out;
    proto::BackupListRequest req;
    req.set_session_id(id);
    req.set_path(path);
    req.set_limit(limit);
    for (int pages = 0; pages < 1000; ++pages) {
      proto::BackupListResponse resp;
      RETURN_IF_ERROR(BackupList(*state_, req, &resp));
      for (const auto& e : resp.entries()) out.push_back(e);
      if (!resp.more()) return out;
      req.set_started(true);
      if (!out.empty()) req.set_after(out.back().path());
    }
    return Status::Internal("listing did not end");
  }
  static std::vector<std::string> Paths(const std::vector<proto::BackupEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.path());
    return out;
  }
  // A file with `chunks` committed 1 MiB chunks, closed at that size.
  uint64_t WriteFile(uint64_t parent, const std::string& name, int chunks) {
    proto::CreateRequest req;
    req.set_open_for_write(true);
    req.set_client_id("writer");
    req.set_chunk_size(kMiB);
    auto w = Create(parent, name, req);
    EXPECT_OK(w);
    if (!w.ok()) return 0;
    for (int i = 0; i < chunks; ++i) {
      auto c = Allocate(w->inode().id(), w->lease_id(), i);
      EXPECT_OK(c);
      if (c.ok()) {
        EXPECT_OK(Commit(w->inode().id(), w->lease_id(), *c, kMiB));
      }
    }
    EXPECT_OK(CloseFile(w->inode().id(), w->lease_id(), chunks * kMiB));
    return w->inode().id();
  }
  // Every deletion handed out to n0..n2 now.
  std::multiset<std::string> DrainDeletions() {
    std::multiset<std::string> out;
    for (int i = 0; i < 3; ++i) {
      auto refs = Beat("n" + std::to_string(i));
      EXPECT_OK(refs);
      if (!refs.ok()) continue;
      for (const auto& r : *refs) {
        out.insert(std::to_string(r.chunk_id()) + "/" + std::to_string(r.version()));
      }
    }
    return out;
  }
  // A tree: /a/, /a/b/, /a/b/deep (2 chunks), /a/f (1 chunk, xattr),
  // /a/link -> b, /c/, /small (inline).
  void MakeTree() {
    ASSERT_OK_AND_ASSIGN(proto::Inode a, Mkdir(kRootInode, "a"));
    ASSERT_OK_AND_ASSIGN(proto::Inode b, Mkdir(a.id(), "b"));
    WriteFile(b.id(), "deep", 2);
    const uint64_t f = WriteFile(a.id(), "f", 1);
    ASSERT_OK(SetXattr(f, "user.tag", std::string("v\0x", 3)));
    ASSERT_OK(Symlink(a.id(), "link", "b").status());
    ASSERT_OK(Mkdir(kRootInode, "c").status());
    ASSERT_OK_AND_ASSIGN(auto small, CreateForWrite(kRootInode, "small"));
    ASSERT_OK(CloseInline(small.inode().id(), small.lease_id(), "tiny").status());
  }
};

TEST_F(BackupTest, ListWalksTheTreeDepthFirstWithEverythingARestoreNeeds) {
  MakeTree();
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK_AND_ASSIGN(auto entries, ListAll(id));
  EXPECT_EQ(Paths(entries), (std::vector<std::string>{"", "a", "a/b", "a/b/deep", "a/f", "a/link",
                                                      "c", "small"}));
  const proto::BackupEntry& deep = entries[3];
  EXPECT_EQ(deep.inode().type(), proto::INODE_FILE);
  ASSERT_EQ(deep.chunks_size(), 2);
  EXPECT_EQ(deep.chunks(1).chunk_index(), 1u);
  EXPECT_EQ(deep.chunks(1).length(), kMiB);
  ASSERT_GT(deep.chunks(0).replicas_size(), 0);
  EXPECT_FALSE(deep.chunks(0).replicas(0).address().empty());  // filled from the registry
  const proto::BackupEntry& f = entries[4];
  ASSERT_EQ(f.xattrs_size(), 1);
  EXPECT_EQ(f.xattrs(0).name(), "user.tag");
  EXPECT_EQ(f.xattrs(0).value(), std::string("v\0x", 3));
  EXPECT_EQ(entries[5].inode().symlink_target(), "b");
  EXPECT_TRUE(entries[7].has_inline_data());
  EXPECT_EQ(entries[7].inline_data(), "tiny");
  ASSERT_OK(End(id));
}

TEST_F(BackupTest, PagesOfOneEntryGiveTheSameWalk) {
  MakeTree();
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK_AND_ASSIGN(auto whole, ListAll(id));
  ASSERT_OK_AND_ASSIGN(auto paged, ListAll(id, "", 1));
  EXPECT_EQ(Paths(paged), Paths(whole));
  ASSERT_OK_AND_ASSIGN(auto by_two, ListAll(id, "", 2));
  EXPECT_EQ(Paths(by_two), Paths(whole));
}

TEST_F(BackupTest, ListsOneSubtree) {
  MakeTree();
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK_AND_ASSIGN(auto entries, ListAll(id, "/a/b"));
  EXPECT_EQ(Paths(entries), (std::vector<std::string>{"", "deep"}));
  EXPECT_ERROR(ListAll(id, "/missing"), proto::NOT_FOUND);
}

TEST_F(BackupTest, TheSnapshotIgnoresLaterChanges) {
  MakeTree();
  ASSERT_OK_AND_ASSIGN(proto::Inode a, ResolvePath("/a"));
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK(Unlink(a.id(), "f"));
  WriteFile(kRootInode, "new", 1);
  ASSERT_OK(Rename(kRootInode, "c", a.id(), "c2"));
  ASSERT_OK_AND_ASSIGN(auto entries, ListAll(id));
  EXPECT_EQ(Paths(entries), (std::vector<std::string>{"", "a", "a/b", "a/b/deep", "a/f", "a/link",
                                                      "c", "small"}));
}

TEST_F(BackupTest, DeletionsWaitWhileASessionIsOpen) {
  const uint64_t f = WriteFile(kRootInode, "f", 2);
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(f));
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK(Unlink(kRootInode, "f"));
  EXPECT_TRUE(DrainDeletions().empty());
  // Still listed, with its chunks, for the backup to read.
  ASSERT_OK_AND_ASSIGN(auto entries, ListAll(id));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].chunks_size(), 2);
  ASSERT_OK(End(id));
  // Deferred, never dropped: every replica goes out once the session ends.
  std::multiset<std::string> expected;
  for (const auto& c : layout) {
    for (int r = 0; r < c.replicas_size(); ++r) {
      expected.insert(std::to_string(c.chunk_id()) + "/" + std::to_string(c.version()));
    }
  }
  EXPECT_EQ(DrainDeletions(), expected);
}

TEST_F(BackupTest, AnExpiredSessionNoLongerHoldsDeletions) {
  WriteFile(kRootInode, "f", 1);
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin(/*lease_ms=*/2000));
  clock_.AdvanceMs(1500);
  ASSERT_OK(Renew(id));  // renewed: open until 3500
  clock_.AdvanceMs(1500);
  ASSERT_OK(Unlink(kRootInode, "f"));
  EXPECT_TRUE(DrainDeletions().empty());
  clock_.AdvanceMs(2001);  // the client vanished
  EXPECT_FALSE(DrainDeletions().empty());
  EXPECT_ERROR(Renew(id), proto::NOT_FOUND);
  EXPECT_ERROR(ListAll(id), proto::NOT_FOUND);
  EXPECT_ERROR(End(id), proto::NOT_FOUND);
}

TEST_F(BackupTest, RejectsBadRequests) {
  EXPECT_ERROR(Begin(10), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Begin(3'600'000), proto::INVALID_ARGUMENT);
  proto::BackupBeginRequest no_client;
  proto::BackupBeginResponse resp;
  EXPECT_ERROR(BackupBegin(*state_, no_client, &resp), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ListAll(12345), proto::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  proto::BackupListRequest req;
  req.set_session_id(id);
  req.set_started(true);
  req.set_after(std::string(5000, 'x'));
  proto::BackupListResponse list;
  EXPECT_ERROR(BackupList(*state_, req, &list), proto::NAME_TOO_LONG);
}

TEST_F(BackupTest, MetadataPagesHoldEveryPairOfTheSnapshot) {
  MakeTree();
  ASSERT_OK_AND_ASSIGN(uint64_t id, Begin());
  ASSERT_OK_AND_ASSIGN(auto expected, kv_->Scan(KeyRange{}, 0));
  WriteFile(kRootInode, "after", 1);  // not in the snapshot
  std::vector<KvPair> got;
  proto::BackupMetadataRequest req;
  req.set_session_id(id);
  req.set_max_bytes(64);  // many small pages
  int pages = 0;
  for (; pages < 10000; ++pages) {
    proto::BackupMetadataResponse resp;
    ASSERT_OK(BackupMetadata(*state_, req, &resp));
    for (const auto& p : resp.pairs()) got.push_back({p.key(), p.value()});
    if (!resp.more()) break;
    req.set_started(true);
    req.set_after_key(got.back().key);
  }
  EXPECT_GT(pages, 3);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].key, expected[i].key) << i;
    EXPECT_EQ(got[i].value, expected[i].value) << i;
  }
}

}  // namespace
}  // namespace granary::metadata
