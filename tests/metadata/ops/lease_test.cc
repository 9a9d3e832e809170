// Write leases: one writer per file, renewal, expiry, release.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

class LeaseTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(3);
  }
  // Moves time on; the chunk servers keep heartbeating meanwhile.
  void Advance(int64_t ms) {
    clock_.AdvanceMs(ms);
    for (const char* n : {"n0", "n1", "n2"}) ASSERT_OK(Beat(n));
  }
};

TEST_F(LeaseTest, SecondWriterIsRefusedNamingTheHolder) {
  ASSERT_OK_AND_ASSIGN(auto w1, CreateForWrite(kRootInode, "f", "trainer-7"));
  EXPECT_NE(w1.lease_id(), 0u);
  EXPECT_EQ(w1.lease_ms(), 60000u);
  Result<proto::CreateResponse> w2 = CreateForWrite(kRootInode, "f", "other");
  ASSERT_ERROR(w2, proto::LEASE_CONFLICT);
  EXPECT_NE(w2.status().message().find("trainer-7"), std::string::npos) << w2.status().message();
  Result<proto::OpenResponse> o = OpenFile(w1.inode().id(), /*write=*/true, "other");
  ASSERT_ERROR(o, proto::LEASE_CONFLICT);
  EXPECT_NE(o.status().message().find("trainer-7"), std::string::npos);
  // The same client id is a second writer too.
  EXPECT_ERROR(OpenFile(w1.inode().id(), true, "trainer-7"), proto::LEASE_CONFLICT);
  // Readers are not affected.
  EXPECT_OK(OpenFile(w1.inode().id(), /*write=*/false));
}

TEST_F(LeaseTest, WrongLeaseIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f"));
  const uint64_t ino = w.inode().id();
  EXPECT_ERROR(Allocate(ino, w.lease_id() + 1, 0), proto::LEASE_EXPIRED);
  EXPECT_ERROR(Allocate(ino, 0, 0), proto::LEASE_EXPIRED);
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(ino, w.lease_id(), 0));
  EXPECT_ERROR(Commit(ino, w.lease_id() + 1, c, 10), proto::LEASE_EXPIRED);
  EXPECT_ERROR(CloseFile(ino, w.lease_id() + 1, 10), proto::LEASE_EXPIRED);
  // A lease is for one inode only.
  ASSERT_OK_AND_ASSIGN(auto other, Create(kRootInode, "g"));
  EXPECT_ERROR(Allocate(other.inode().id(), w.lease_id(), 0), proto::LEASE_EXPIRED);
  EXPECT_OK(Commit(ino, w.lease_id(), c, 10));
}

TEST_F(LeaseTest, ReleaseThenReacquire) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  const uint64_t ino = w.inode().id();
  ASSERT_OK(CloseFile(ino, w.lease_id(), 0, /*release=*/true));
  EXPECT_ERROR(CloseFile(ino, w.lease_id(), 0), proto::LEASE_EXPIRED);
  ASSERT_OK_AND_ASSIGN(proto::OpenResponse o, OpenFile(ino, true, "b"));
  EXPECT_NE(o.lease_id(), 0u);
  EXPECT_NE(o.lease_id(), w.lease_id());
  EXPECT_EQ(o.lease_ms(), 60000u);
  EXPECT_ERROR(Allocate(ino, w.lease_id(), 0), proto::LEASE_EXPIRED);
  EXPECT_OK(Allocate(ino, o.lease_id(), 0));
}

TEST_F(LeaseTest, FsyncKeepsTheLease) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), 0, /*release=*/false));
  EXPECT_ERROR(OpenFile(w.inode().id(), true, "b"), proto::LEASE_CONFLICT);
  EXPECT_OK(Allocate(w.inode().id(), w.lease_id(), 0));
}

TEST_F(LeaseTest, ExpiresUnlessRenewed) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  const uint64_t ino = w.inode().id();
  Advance(40'000);
  ASSERT_OK(Allocate(ino, w.lease_id(), 0));  // renews for another 60 s
  Advance(40'000);                            // 80 s after the grant
  ASSERT_OK(Allocate(ino, w.lease_id(), 1));
  Advance(60'001);
  EXPECT_ERROR(Allocate(ino, w.lease_id(), 2), proto::LEASE_EXPIRED);
  ASSERT_OK_AND_ASSIGN(proto::OpenResponse o, OpenFile(ino, true, "b"));
  EXPECT_ERROR(CloseFile(ino, w.lease_id(), 0), proto::LEASE_EXPIRED);
  EXPECT_OK(CloseFile(ino, o.lease_id(), 0));
}

TEST_F(LeaseTest, TruncateRespectsAnotherWriter) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), 0));
  ASSERT_OK(Commit(w.inode().id(), w.lease_id(), c, 1000));
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), 1000, /*release=*/false));
  proto::CreateRequest trunc;
  trunc.set_truncate(true);
  EXPECT_ERROR(Create(kRootInode, "f", trunc), proto::LEASE_CONFLICT);
  ASSERT_OK_AND_ASSIGN(proto::Inode still, Stat(w.inode().id()));
  EXPECT_EQ(still.size(), 1000u);
  ASSERT_OK_AND_ASSIGN(auto chunks, Layout(w.inode().id()));
  EXPECT_EQ(chunks.size(), 1u);
}

TEST_F(LeaseTest, WriteOpenNeedsAClientIdAndAFile) {
  ASSERT_OK_AND_ASSIGN(auto f, Create(kRootInode, "f"));
  EXPECT_ERROR(OpenFile(f.inode().id(), true, ""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(CreateForWrite(kRootInode, "g", ""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(OpenFile(f.inode().id(), true, std::string(300, 'c')), proto::INVALID_ARGUMENT);
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  EXPECT_ERROR(OpenFile(d.id(), false), proto::IS_DIRECTORY);
  EXPECT_ERROR(OpenFile(d.id(), true), proto::IS_DIRECTORY);
  EXPECT_ERROR(OpenFile(99999, false), proto::NOT_FOUND);
}

// A writer rides through a metad restart: its lease is reclaimed on its next
// call, and from then on it holds the file again.
TEST_F(LeaseTest, LeasesAreReclaimedAfterARestart) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  OpenState();
  AddNodes(3);  // the chunk servers register with the new process
  ASSERT_OK(Allocate(w.inode().id(), w.lease_id(), 0).status());
  EXPECT_ERROR(OpenFile(w.inode().id(), true, "b"), proto::LEASE_CONFLICT);
  ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), 0));
}

TEST_F(LeaseTest, ReclaimLosesToANewWriter) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  OpenState();
  ASSERT_OK_AND_ASSIGN(proto::OpenResponse o, OpenFile(w.inode().id(), true, "b"));
  EXPECT_NE(o.lease_id(), w.lease_id());
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 0), proto::LEASE_EXPIRED);
}

TEST_F(LeaseTest, NoReclaimAfterTheWindow) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  OpenState();
  Advance(state_->leases().lease_ms() + 1);
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 0), proto::LEASE_EXPIRED);
}

TEST_F(LeaseTest, UnlinkForgetsTheLease) {
  ASSERT_OK_AND_ASSIGN(auto w, CreateForWrite(kRootInode, "f", "a"));
  ASSERT_OK(Unlink(kRootInode, "f"));
  EXPECT_EQ(state_->leases().Holder(w.inode().id()), std::nullopt);
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 0), proto::LEASE_EXPIRED);
}

}  // namespace
}  // namespace granary::metadata
