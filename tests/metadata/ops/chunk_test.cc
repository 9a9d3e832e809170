// Chunk allocation, commit, versioning, truncation and deletion scheduling.

#include <gtest/gtest.h>

#include <set>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class ChunkTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    AddNodes(5);
  }
  // A writer on a new file with 1 MiB chunks.
  proto::CreateResponse NewFile(const std::string& name, uint32_t replicas = 0) {
    proto::CreateRequest req;
    req.set_open_for_write(true);
    req.set_client_id("writer");
    req.set_chunk_size(kMiB);
    req.set_replicas(replicas);
    auto r = Create(kRootInode, name, req);
    EXPECT_OK(r);
    return r.ok() ? *r : proto::CreateResponse();
  }
  // Writes `chunks` full chunks and closes at `size`.
  void WriteFile(const proto::CreateResponse& w, int chunks, uint64_t size) {
    for (int i = 0; i < chunks; ++i) {
      auto c = Allocate(w.inode().id(), w.lease_id(), i);
      ASSERT_OK(c);
      ASSERT_OK(Commit(w.inode().id(), w.lease_id(), *c, std::min<uint64_t>(kMiB, size - i * kMiB)));
    }
    ASSERT_OK(CloseFile(w.inode().id(), w.lease_id(), size, /*release=*/false));
  }
  // All deletions queued, over every node, as "id/version@node".
  std::multiset<std::string> DrainDeletions() {
    std::multiset<std::string> out;
    for (int i = 0; i < 5; ++i) {
      std::string node = "n" + std::to_string(i);
      auto refs = Beat(node);
      EXPECT_OK(refs);
      if (!refs.ok()) continue;
      for (const auto& r : *refs) {
        out.insert(std::to_string(r.chunk_id()) + "/" + std::to_string(r.version()) + "@" + node);
      }
    }
    return out;
  }
  static std::multiset<std::string> Replicas(const proto::ChunkInfo& c) {
    std::multiset<std::string> out;
    for (const auto& r : c.replicas()) {
      out.insert(std::to_string(c.chunk_id()) + "/" + std::to_string(c.version()) + "@" +
                 r.node_id());
    }
    return out;
  }
};

TEST_F(ChunkTest, AllocateCommitClose) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(ino, w.lease_id(), 0));
  EXPECT_NE(c.chunk_id(), 0u);
  EXPECT_EQ(c.version(), 1u);
  EXPECT_EQ(c.chunk_index(), 0u);
  ASSERT_EQ(c.replicas_size(), 3);
  std::set<std::string> nodes;
  for (const auto& r : c.replicas()) {
    nodes.insert(r.node_id());
    EXPECT_EQ(r.address(), "127.0.0.1:" + std::to_string(9000 + std::stoi(r.node_id().substr(1))));
  }
  EXPECT_EQ(nodes.size(), 3u);
  ASSERT_OK_AND_ASSIGN(auto before, Layout(ino));
  EXPECT_TRUE(before.empty());  // allocated is not committed

  ASSERT_OK(Commit(ino, w.lease_id(), c, 4096));
  EXPECT_EQ(state_->chunk_count.load(), 1);
  ASSERT_OK_AND_ASSIGN(proto::Inode unclosed, Stat(ino));
  EXPECT_EQ(unclosed.size(), 0u);  // visible at close
  ASSERT_OK_AND_ASSIGN(proto::Inode closed, CloseFile(ino, w.lease_id(), 4096));
  EXPECT_EQ(closed.size(), 4096u);
  ASSERT_OK_AND_ASSIGN(proto::OpenResponse o, OpenFile(ino));
  ASSERT_EQ(o.chunks_size(), 1);
  EXPECT_EQ(o.chunks(0).chunk_id(), c.chunk_id());
  EXPECT_EQ(o.chunks(0).length(), 4096u);
  EXPECT_EQ(o.chunks(0).stored_length(), 4096u + 64);
  EXPECT_EQ(o.chunks(0).replicas_size(), 3);
  EXPECT_EQ(o.chunks(0).replicas(0).node_id(), c.replicas(0).node_id());  // chain order kept
  EXPECT_FALSE(o.chunks(0).replicas(0).address().empty());
  EXPECT_EQ(o.inode().size(), 4096u);
}

TEST_F(ChunkTest, ReplicaCountFollowsTheFile) {
  proto::CreateResponse w = NewFile("two", 2);
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), 0));
  EXPECT_EQ(c.replicas_size(), 2);
  proto::CreateResponse wide = NewFile("six", 6);  // 5 nodes only
  Result<proto::ChunkInfo> r = Allocate(wide.inode().id(), wide.lease_id(), 0);
  ASSERT_ERROR(r, proto::NOT_ENOUGH_NODES);
  EXPECT_NE(r.status().message().find("need 6"), std::string::npos);
}

TEST_F(ChunkTest, ExcludedNodesAreAvoided) {
  proto::CreateResponse w = NewFile("f");
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), i, {"n0", "n1"}));
    for (const auto& r : c.replicas()) {
      EXPECT_NE(r.node_id(), "n0");
      EXPECT_NE(r.node_id(), "n1");
    }
  }
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 0, {"n0", "n1", "n2"}),
               proto::NOT_ENOUGH_NODES);
}

TEST_F(ChunkTest, ReallocationBeforeCommitBumpsTheVersion) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v1, Allocate(ino, w.lease_id(), 0));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v2, Allocate(ino, w.lease_id(), 0));
  EXPECT_EQ(v2.chunk_id(), v1.chunk_id());
  EXPECT_EQ(v2.version(), 2u);
  // Only the latest allocation can be committed.
  Status stale = Commit(ino, w.lease_id(), v1, 10);
  ASSERT_ERROR(stale, proto::STALE_VERSION);
  EXPECT_FALSE(stale.retryable());
  ASSERT_OK(Commit(ino, w.lease_id(), v2, 10));
  // The abandoned chain of v1 may hold a partial copy: it is queued for deletion.
  EXPECT_EQ(DrainDeletions(), Replicas(v1));
}

TEST_F(ChunkTest, RewriteIsCopyOnWrite) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v1, Allocate(ino, w.lease_id(), 0));
  ASSERT_OK(Commit(ino, w.lease_id(), v1, 100));
  ASSERT_OK(CloseFile(ino, w.lease_id(), 100, false));
  EXPECT_TRUE(DrainDeletions().empty());

  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v2, Allocate(ino, w.lease_id(), 0));
  EXPECT_EQ(v2.chunk_id(), v1.chunk_id());
  EXPECT_EQ(v2.version(), 2u);
  ASSERT_OK_AND_ASSIGN(auto mid, Layout(ino));
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0].version(), 1u);  // readers keep the committed version meanwhile
  ASSERT_OK(Commit(ino, w.lease_id(), v2, 200));
  ASSERT_OK_AND_ASSIGN(auto after, Layout(ino));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].version(), 2u);
  EXPECT_EQ(after[0].length(), 200u);
  EXPECT_EQ(state_->chunk_count.load(), 1);
  EXPECT_EQ(DrainDeletions(), Replicas(v1));  // the old version goes
}

TEST_F(ChunkTest, CommitIsIdempotentAndValidated) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(ino, w.lease_id(), 0));

  proto::ChunkInfo too_long = c;
  EXPECT_ERROR(Commit(ino, w.lease_id(), too_long, kMiB + 1), proto::INVALID_ARGUMENT);
  proto::ChunkInfo stranger = c;
  stranger.mutable_replicas(0)->set_node_id("not-allocated");
  EXPECT_ERROR(Commit(ino, w.lease_id(), stranger, 10), proto::INVALID_ARGUMENT);
  proto::ChunkInfo twice = c;
  *twice.mutable_replicas(1) = c.replicas(0);
  EXPECT_ERROR(Commit(ino, w.lease_id(), twice, 10), proto::INVALID_ARGUMENT);
  proto::ChunkInfo none = c;
  none.clear_replicas();
  EXPECT_ERROR(Commit(ino, w.lease_id(), none, 10), proto::INVALID_ARGUMENT);
  proto::ChunkInfo zero = c;
  zero.set_version(0);
  EXPECT_ERROR(Commit(ino, w.lease_id(), zero, 10), proto::INVALID_ARGUMENT);
  proto::ChunkInfo elsewhere = c;
  elsewhere.set_chunk_index(5);
  EXPECT_ERROR(Commit(ino, w.lease_id(), elsewhere, 10), proto::STALE_VERSION);

  ASSERT_OK(Commit(ino, w.lease_id(), c, 10));
  ASSERT_OK(Commit(ino, w.lease_id(), c, 10));  // a retried commit
  EXPECT_EQ(state_->chunk_count.load(), 1);
}

TEST_F(ChunkTest, CommitWithFewerReplicasFreesTheUnusedOne) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(ino, w.lease_id(), 0));
  proto::ChunkInfo partial = c;
  partial.mutable_replicas()->RemoveLast();
  ASSERT_OK(Commit(ino, w.lease_id(), partial, 10));
  std::multiset<std::string> expected = {std::to_string(c.chunk_id()) + "/1@" +
                                         c.replicas(2).node_id()};
  EXPECT_EQ(DrainDeletions(), expected);
  ASSERT_OK_AND_ASSIGN(auto layout, Layout(ino));
  ASSERT_EQ(layout.size(), 1u);
  EXPECT_EQ(layout[0].replicas_size(), 2);
}

TEST_F(ChunkTest, ChunkIdsAreUniqueAcrossFiles) {
  std::set<uint64_t> ids;
  for (int f = 0; f < 4; ++f) {
    proto::CreateResponse w = NewFile("f" + std::to_string(f));
    for (int i = 0; i < 10; ++i) {  // 40 ids cross several 16-id batches
      ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), i));
      EXPECT_TRUE(ids.insert(c.chunk_id()).second);
    }
  }
}

TEST_F(ChunkTest, VersionsAreNeverReusedAcrossARestart) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v1, Allocate(ino, w.lease_id(), 0));
  ASSERT_OK(Commit(ino, w.lease_id(), v1, 10));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v2, Allocate(ino, w.lease_id(), 0));
  EXPECT_EQ(v2.version(), 2u);
  OpenState();  // the writer crashed with v2 half-written, and metad restarted
  AddNodes(5);
  ASSERT_OK_AND_ASSIGN(proto::OpenResponse o, OpenFile(ino, true, "new-writer"));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo v3, Allocate(ino, o.lease_id(), 0));
  EXPECT_EQ(v3.chunk_id(), v1.chunk_id());
  EXPECT_EQ(v3.version(), 3u);
}

TEST_F(ChunkTest, SetAttrTruncateDropsWholeChunksAndCapsTheLast) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  WriteFile(w, 3, 3 * kMiB);
  ASSERT_OK_AND_ASSIGN(auto full, Layout(ino));
  ASSERT_EQ(full.size(), 3u);
  EXPECT_TRUE(DrainDeletions().empty());

  proto::SetAttrRequest req;
  req.set_inode(ino);
  req.set_size(kMiB + kMiB / 2);
  proto::SetAttrResponse resp;
  ASSERT_OK(SetAttr(*state_, req, &resp));
  EXPECT_EQ(resp.inode().size(), kMiB + kMiB / 2);
  ASSERT_OK_AND_ASSIGN(auto cut, Layout(ino));
  ASSERT_EQ(cut.size(), 2u);
  EXPECT_EQ(cut[0].length(), kMiB);
  EXPECT_EQ(cut[1].length(), kMiB / 2);
  EXPECT_EQ(cut[1].chunk_id(), full[1].chunk_id());
  EXPECT_EQ(cut[1].version(), full[1].version());  // same replicas, shorter
  EXPECT_EQ(DrainDeletions(), Replicas(full[2]));
  EXPECT_EQ(state_->chunk_count.load(), 2);

  // Growing again leaves a hole: nothing comes back.
  req.set_size(3 * kMiB);
  ASSERT_OK(SetAttr(*state_, req, &resp));
  ASSERT_OK_AND_ASSIGN(auto grown, Layout(ino));
  ASSERT_EQ(grown.size(), 2u);
  EXPECT_EQ(grown[1].length(), kMiB / 2);
  EXPECT_EQ(resp.inode().size(), 3 * kMiB);

  req.set_size(0);
  ASSERT_OK(SetAttr(*state_, req, &resp));
  ASSERT_OK_AND_ASSIGN(auto empty, Layout(ino));
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(state_->chunk_count.load(), 0);
}

TEST_F(ChunkTest, CreateWithTruncateEmptiesTheFile) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  WriteFile(w, 2, 2 * kMiB);
  ASSERT_OK(CloseFile(ino, w.lease_id(), 2 * kMiB, true));
  ASSERT_OK_AND_ASSIGN(auto chunks, Layout(ino));
  proto::CreateRequest req;
  req.set_truncate(true);
  req.set_open_for_write(true);
  req.set_client_id("second");
  ASSERT_OK_AND_ASSIGN(proto::CreateResponse again, Create(kRootInode, "f", req));
  EXPECT_EQ(again.inode().id(), ino);
  EXPECT_EQ(again.inode().size(), 0u);
  EXPECT_NE(again.lease_id(), 0u);
  ASSERT_OK_AND_ASSIGN(auto after, Layout(ino));
  EXPECT_TRUE(after.empty());
  std::multiset<std::string> expected = Replicas(chunks[0]);
  expected.merge(Replicas(chunks[1]));
  EXPECT_EQ(DrainDeletions(), expected);
  // A new chunk at index 0 gets a new id.
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo fresh, Allocate(ino, again.lease_id(), 0));
  EXPECT_NE(fresh.chunk_id(), chunks[0].chunk_id());
  EXPECT_EQ(fresh.version(), 1u);
}

TEST_F(ChunkTest, UnlinkFreesEveryChunkAndPendingAllocation) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  WriteFile(w, 2, 2 * kMiB);
  ASSERT_OK_AND_ASSIGN(auto chunks, Layout(ino));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo pending, Allocate(ino, w.lease_id(), 2));
  ASSERT_OK(Unlink(kRootInode, "f"));
  std::multiset<std::string> expected = Replicas(chunks[0]);
  expected.merge(Replicas(chunks[1]));
  expected.merge(Replicas(pending));
  EXPECT_EQ(DrainDeletions(), expected);
  EXPECT_TRUE(DrainDeletions().empty());  // handed out once
  EXPECT_EQ(state_->chunk_count.load(), 0);
  auto left = kv_->Scan(KeyRange::Prefix(ChunkPrefix(ino)), 0);
  ASSERT_OK(left);
  EXPECT_TRUE(left->empty());
  left = kv_->Scan(KeyRange::Prefix(PendingChunkPrefix(ino)), 0);
  ASSERT_OK(left);
  EXPECT_TRUE(left->empty());
}

TEST_F(ChunkTest, CloseDropsChunksPastTheSize) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  WriteFile(w, 3, 3 * kMiB);
  ASSERT_OK_AND_ASSIGN(auto full, Layout(ino));
  ASSERT_OK(CloseFile(ino, w.lease_id(), kMiB, true));
  ASSERT_OK_AND_ASSIGN(auto kept, Layout(ino));
  ASSERT_EQ(kept.size(), 1u);
  std::multiset<std::string> expected = Replicas(full[1]);
  expected.merge(Replicas(full[2]));
  EXPECT_EQ(DrainDeletions(), expected);
}

TEST_F(ChunkTest, ChunkSizeChangesOnlyWithoutData) {
  proto::CreateResponse w = NewFile("f");
  const uint64_t ino = w.inode().id();
  proto::SetAttrRequest req;
  req.set_inode(ino);
  req.set_chunk_size(4 * kMiB);
  proto::SetAttrResponse resp;
  ASSERT_OK(SetAttr(*state_, req, &resp));
  EXPECT_EQ(resp.inode().chunk_size(), 4 * kMiB);
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(ino, w.lease_id(), 0));
  req.set_chunk_size(8 * kMiB);
  Status st = SetAttr(*state_, req, &resp);
  ASSERT_ERROR(st, proto::INVALID_ARGUMENT);  // a pending allocation counts as data
  ASSERT_OK(Commit(ino, w.lease_id(), c, 10));
  EXPECT_ERROR(SetAttr(*state_, req, &resp), proto::INVALID_ARGUMENT);
  req.set_chunk_size(3 * kMiB + 1);
  EXPECT_ERROR(SetAttr(*state_, req, &resp), proto::INVALID_ARGUMENT);
}

TEST_F(ChunkTest, GetLayoutPages) {
  proto::CreateResponse w = NewFile("f");
  WriteFile(w, 5, 5 * kMiB);
  proto::GetLayoutRequest req;
  req.set_inode(w.inode().id());
  req.set_first_chunk(1);
  req.set_count(3);
  proto::GetLayoutResponse resp;
  ASSERT_OK(GetLayout(*state_, req, &resp));
  ASSERT_EQ(resp.chunks_size(), 3);
  EXPECT_EQ(resp.chunks(0).chunk_index(), 1u);
  EXPECT_EQ(resp.chunks(2).chunk_index(), 3u);
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "d"));
  req.set_inode(d.id());
  EXPECT_ERROR(GetLayout(*state_, req, &resp), proto::IS_DIRECTORY);
}

TEST_F(ChunkTest, DownNodesAreNotPlaced) {
  proto::CreateResponse w = NewFile("f");
  clock_.AdvanceMs(9000);
  ASSERT_OK(Beat("n0"));
  ASSERT_OK(Beat("n1"));
  clock_.AdvanceMs(2000);  // n2..n4 silent for 11 s: DOWN
  Result<proto::ChunkInfo> r = Allocate(w.inode().id(), w.lease_id(), 0);
  ASSERT_ERROR(r, proto::NOT_ENOUGH_NODES);
  ASSERT_OK(Beat("n2"));
  ASSERT_OK_AND_ASSIGN(proto::ChunkInfo c, Allocate(w.inode().id(), w.lease_id(), 0));
  std::set<std::string> got;
  for (const auto& rep : c.replicas()) got.insert(rep.node_id());
  EXPECT_EQ(got, (std::set<std::string>{"n0", "n1", "n2"}));
}

TEST_F(ChunkTest, AllocateValidatesItsRequest) {
  proto::CreateResponse w = NewFile("f");
  std::vector<std::string> many(65, "x");
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 0, many), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(Allocate(w.inode().id(), w.lease_id(), 1ull << 60), proto::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace granary::metadata
