// Folder quotas: usage counted when set and at start, moved by every
// operation that adds, removes or resizes entries, limits enforced.

#include <gtest/gtest.h>

#include "metadata/ops/ops.h"
#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class QuotaTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(3);
  }
  Result<proto::QuotaInfo> SetQuota(const std::string& path, uint64_t bytes, uint64_t files) {
    proto::SetQuotaRequest req;
    req.set_path(path);
    req.set_max_bytes(bytes);
    req.set_max_files(files);
    proto::SetQuotaResponse resp;
    RETURN_IF_ERROR(metadata::SetQuota(*state_, req, &resp));
    return resp.quota();
  }
  Quota Usage(uint64_t dir) {
    auto q = state_->quotas().Get(dir);
    EXPECT_TRUE(q.has_value()) << "folder " << dir << " has no quota";
    return q.value_or(Quota{});
  }
  // A file of `size` bytes in `dir`, written and closed (size published).
  Status WriteFile(uint64_t dir, const std::string& name, uint64_t size) {
    proto::CreateRequest req;
    req.set_open_for_write(true);
    req.set_client_id("c1");
    req.set_chunk_size(kMiB);
    ASSIGN_OR_RETURN(proto::CreateResponse w, Create(dir, name, req));
    for (uint64_t i = 0; i * kMiB < size; ++i) {
      ASSIGN_OR_RETURN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), i));
      RETURN_IF_ERROR(Commit(w.inode().id(), w.lease_id(), c, std::min(kMiB, size - i * kMiB)));
    }
    return CloseFile(w.inode().id(), w.lease_id(), size).status();
  }
};

TEST_F(QuotaTest, SettingCountsWhatIsThere) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "data"));
  ASSERT_OK_AND_ASSIGN(proto::Inode sub, Mkdir(d.id(), "sub"));
  ASSERT_OK(WriteFile(d.id(), "a", 3 * kMiB));
  ASSERT_OK(WriteFile(sub.id(), "b", kMiB + 5));
  ASSERT_OK_AND_ASSIGN(proto::QuotaInfo q, SetQuota("/data", 100 * kMiB, 100));
  EXPECT_EQ(q.used_bytes(), 4 * kMiB + 5);
  EXPECT_EQ(q.used_files(), 3u) << "sub, a and sub/b";
  // A restart counts the same from the stored limits.
  OpenState();
  EXPECT_EQ(Usage(d.id()).used_bytes, static_cast<int64_t>(4 * kMiB + 5));
  EXPECT_EQ(Usage(d.id()).max_bytes, 100 * kMiB);
}

TEST_F(QuotaTest, FileLimitStopsCreates) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "few"));
  ASSERT_OK(SetQuota("/few", 0, 2).status());
  ASSERT_OK(Create(d.id(), "1").status());
  ASSERT_OK(Mkdir(d.id(), "2").status());
  EXPECT_ERROR(Create(d.id(), "3"), proto::QUOTA_EXCEEDED);
  EXPECT_ERROR(Symlink(d.id(), "4", "/x"), proto::QUOTA_EXCEEDED);
  ASSERT_OK(Unlink(d.id(), "1"));
  ASSERT_OK(Create(d.id(), "5").status()) << "room again after an unlink";
  EXPECT_EQ(Usage(d.id()).used_files, 2);
}

TEST_F(QuotaTest, ByteLimitStopsWritesAtClose) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "small"));
  ASSERT_OK(SetQuota("/small", 5 * kMiB, 0).status());
  ASSERT_OK(WriteFile(d.id(), "fits", 4 * kMiB));
  // 2 MiB more would reach 6 MiB: the second chunk cannot even be allocated
  // once the quota is full; here the close of the new size is refused.
  proto::CreateRequest req;
  req.set_open_for_write(true);
  req.set_client_id("c1");
  req.set_chunk_size(kMiB);
  ASSERT_OK_AND_ASSIGN(proto::CreateResponse w, Create(d.id(), "over", req));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c0, Allocate(w.inode().id(), w.lease_id(), 0));
  ASSERT_OK(Commit(w.inode().id(), w.lease_id(), c0, kMiB));
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 1), proto::QUOTA_EXCEEDED);
  EXPECT_ERROR(CloseFile(w.inode().id(), w.lease_id(), 2 * kMiB), proto::QUOTA_EXCEEDED);
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), kMiB).status()) << "what fits is kept";
  EXPECT_EQ(Usage(d.id()).used_bytes, static_cast<int64_t>(5 * kMiB));
  // Truncating and growing by setattr follow the same rule.
  EXPECT_ERROR(SetSize(w.inode().id(), 3 * kMiB), proto::QUOTA_EXCEEDED);
  ASSERT_OK(SetSize(w.inode().id(), 0).status());
  EXPECT_EQ(Usage(d.id()).used_bytes, static_cast<int64_t>(4 * kMiB));
}

TEST_F(QuotaTest, NestedQuotasAndMoves) {
  ASSERT_OK_AND_ASSIGN(proto::Inode outer, Mkdir(kRootInode, "outer"));
  ASSERT_OK_AND_ASSIGN(proto::Inode inner, Mkdir(outer.id(), "inner"));
  ASSERT_OK_AND_ASSIGN(proto::Inode other, Mkdir(kRootInode, "other"));
  ASSERT_OK(SetQuota("/outer", 10 * kMiB, 0).status());
  ASSERT_OK(SetQuota("/outer/inner", 3 * kMiB, 0).status());
  ASSERT_OK(WriteFile(other.id(), "big", 4 * kMiB));
  ASSERT_OK(WriteFile(other.id(), "two", 2 * kMiB));
  // Into inner: 4 MiB does not fit its 3 MiB; 2 MiB does and counts twice up.
  EXPECT_ERROR(Rename(other.id(), "big", inner.id(), "big"), proto::QUOTA_EXCEEDED);
  ASSERT_OK(Rename(other.id(), "two", inner.id(), "two"));
  EXPECT_EQ(Usage(inner.id()).used_bytes, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(Usage(outer.id()).used_bytes, static_cast<int64_t>(2 * kMiB));
  // Within outer (inner -> outer): outer keeps it, inner loses it.
  ASSERT_OK(Rename(inner.id(), "two", outer.id(), "two"));
  EXPECT_EQ(Usage(inner.id()).used_bytes, 0);
  EXPECT_EQ(Usage(outer.id()).used_bytes, static_cast<int64_t>(2 * kMiB));
  // A folder does not move between quota subtrees.
  ASSERT_OK(Mkdir(other.id(), "folder").status());
  EXPECT_ERROR(Rename(other.id(), "folder", outer.id(), "folder"), proto::ACROSS_QUOTAS);
  // Removing a quota'd folder removes its quota.
  ASSERT_OK(Rmdir(outer.id(), "inner"));
  EXPECT_FALSE(state_->quotas().Get(inner.id()).has_value());
  EXPECT_EQ(Usage(outer.id()).used_files, 1) << "only 'two' is left";
}

TEST_F(QuotaTest, RemovingTheLimitsRemovesTheQuota) {
  ASSERT_OK(Mkdir(kRootInode, "q").status());
  ASSERT_OK(SetQuota("/q", kMiB, 1).status());
  ASSERT_OK(SetQuota("/q", 0, 0).status());
  EXPECT_TRUE(state_->quotas().empty());
  OpenState();
  EXPECT_TRUE(state_->quotas().empty()) << "the stored limits went too";
  EXPECT_ERROR(SetQuota("/nope", 1, 1), proto::NOT_FOUND);
}

}  // namespace
}  // namespace granary::metadata
