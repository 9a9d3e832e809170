// Chunk server registry: register, heartbeat, liveness, deletions, statfs.

#include <gtest/gtest.h>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using NodeTest = testing::MetaTest;

proto::RegisterNodeRequest NodeReq(const std::string& id, const std::string& address,
                                   uint64_t capacity = 1000, uint64_t free = 600) {
  proto::RegisterNodeRequest req;
  req.mutable_node()->set_node_id(id);
  req.mutable_node()->set_address(address);
  req.mutable_node()->set_failure_domain("rack1");
  req.mutable_node()->set_capacity_bytes(capacity);
  req.mutable_node()->set_free_bytes(free);
  req.mutable_node()->set_used_bytes(capacity - free);
  return req;
}

TEST_F(NodeTest, RegisterListAndStatFs) {
  proto::RegisterNodeResponse reg;
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "127.0.0.1:9001"), &reg));
  EXPECT_EQ(reg.heartbeat_interval_ms(), 1000u);
  ASSERT_OK(RegisterNode(*state_, NodeReq("b", "127.0.0.1:9002", 2000, 500), &reg));

  proto::ListNodesResponse list;
  ASSERT_OK(ListNodes(*state_, {}, &list));
  ASSERT_EQ(list.nodes_size(), 2);
  EXPECT_EQ(list.nodes(0).node_id(), "a");
  EXPECT_EQ(list.nodes(0).state(), proto::NODE_UP);
  EXPECT_EQ(list.nodes(0).failure_domain(), "rack1");
  EXPECT_GT(list.nodes(0).last_heartbeat_ms(), 0);

  ASSERT_OK(Create(kRootInode, "f"));
  proto::StatFsResponse fs;
  ASSERT_OK(StatFs(*state_, {}, &fs));
  EXPECT_EQ(fs.capacity_bytes(), 3000u);
  EXPECT_EQ(fs.free_bytes(), 1100u);
  EXPECT_EQ(fs.used_bytes(), 1900u);
  EXPECT_EQ(fs.nodes_up(), 2u);
  EXPECT_EQ(fs.nodes_total(), 2u);
  EXPECT_EQ(fs.files(), 2u);  // root + f
  EXPECT_EQ(fs.chunks(), 0u);
}

TEST_F(NodeTest, SilentNodesGoDownAndComeBack) {
  proto::RegisterNodeResponse reg;
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "h:1"), &reg));
  ASSERT_OK(RegisterNode(*state_, NodeReq("b", "h:2"), &reg));
  clock_.AdvanceMs(6000);
  ASSERT_OK(Beat("a"));
  clock_.AdvanceMs(6000);  // b silent for 12 s
  proto::ListNodesResponse list;
  ASSERT_OK(ListNodes(*state_, {}, &list));
  EXPECT_EQ(list.nodes(0).state(), proto::NODE_UP);
  EXPECT_EQ(list.nodes(1).state(), proto::NODE_DOWN);
  proto::StatFsResponse fs;
  ASSERT_OK(StatFs(*state_, {}, &fs));
  EXPECT_EQ(fs.nodes_up(), 1u);
  EXPECT_EQ(fs.nodes_total(), 2u);
  EXPECT_EQ(fs.capacity_bytes(), 1ull << 40);  // only a, with the heartbeat's usage
  ASSERT_OK(Beat("b"));
  list.Clear();
  ASSERT_OK(ListNodes(*state_, {}, &list));
  EXPECT_EQ(list.nodes(1).state(), proto::NODE_UP);
}

TEST_F(NodeTest, UnknownNodeIsAskedToRegister) {
  proto::HeartbeatRequest req;
  req.mutable_node()->set_node_id("stranger");
  proto::HeartbeatResponse resp;
  ASSERT_OK(Heartbeat(*state_, req, &resp));
  EXPECT_TRUE(resp.reregister());
  req.mutable_node()->set_node_id("");
  EXPECT_ERROR(Heartbeat(*state_, req, &resp), proto::INVALID_ARGUMENT);
}

TEST_F(NodeTest, RegistrationIsValidated) {
  proto::RegisterNodeResponse reg;
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("", "h:1"), &reg), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("has space", "h:1"), &reg), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq(std::string(256, 'n'), "h:1"), &reg),
               proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("a", "no-port"), &reg), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("a", "h:0"), &reg), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("a", "h:70000"), &reg), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(RegisterNode(*state_, NodeReq("a", ":80"), &reg), proto::INVALID_ARGUMENT);
  proto::ListNodesResponse list;
  ASSERT_OK(ListNodes(*state_, {}, &list));
  EXPECT_EQ(list.nodes_size(), 0);
  EXPECT_OK(RegisterNode(*state_, NodeReq("a", "[::1]:80"), &reg));
}

TEST_F(NodeTest, ReRegistrationUpdatesTheAddress) {
  proto::RegisterNodeResponse reg;
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "h:1"), &reg));
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "h:2"), &reg));
  proto::ListNodesResponse list;
  ASSERT_OK(ListNodes(*state_, {}, &list));
  ASSERT_EQ(list.nodes_size(), 1);
  EXPECT_EQ(list.nodes(0).address(), "h:2");
}

TEST_F(NodeTest, DeletionsAreHandedOutInBatchesOnce) {
  proto::RegisterNodeResponse reg;
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "h:1"), &reg));
  ASSERT_OK(RegisterNode(*state_, NodeReq("ab", "h:2"), &reg));
  KvTxn txn;
  const int total = static_cast<int>(state_->options().deletions_per_heartbeat) + 5;
  for (int i = 0; i < total; ++i) txn.Put(GarbageKey("a", 100 + i, 7), "");
  txn.Put(GarbageKey("ab", 1, 1), "");  // "a" must not collect node "ab"'s work
  ASSERT_OK(kv_->Commit(txn, {}));
  ASSERT_OK_AND_ASSIGN(auto first, Beat("a"));
  EXPECT_EQ(first.size(), state_->options().deletions_per_heartbeat);
  EXPECT_EQ(first[0].chunk_id(), 100u);
  EXPECT_EQ(first[0].version(), 7u);
  ASSERT_OK_AND_ASSIGN(auto second, Beat("a"));
  EXPECT_EQ(second.size(), 5u);
  ASSERT_OK_AND_ASSIGN(auto third, Beat("a"));
  EXPECT_TRUE(third.empty());
  ASSERT_OK_AND_ASSIGN(auto other, Beat("ab"));
  ASSERT_EQ(other.size(), 1u);
}

TEST_F(NodeTest, RegistryAndUsageSurviveARestartAsDown) {
  proto::RegisterNodeResponse reg;
  ASSERT_OK(RegisterNode(*state_, NodeReq("a", "h:1"), &reg));
  proto::HeartbeatRequest hb;
  hb.mutable_node()->set_node_id("a");
  hb.mutable_node()->set_capacity_bytes(5000);
  hb.mutable_node()->set_free_bytes(4000);
  proto::HeartbeatResponse hb_resp;
  ASSERT_OK(Heartbeat(*state_, hb, &hb_resp));
  ASSERT_OK(state_->Maintain(/*final=*/true));
  OpenState();
  proto::ListNodesResponse list;
  ASSERT_OK(ListNodes(*state_, {}, &list));
  ASSERT_EQ(list.nodes_size(), 1);
  EXPECT_EQ(list.nodes(0).state(), proto::NODE_DOWN);
  EXPECT_EQ(list.nodes(0).address(), "h:1");
  EXPECT_EQ(list.nodes(0).capacity_bytes(), 5000u);
  ASSERT_OK(Heartbeat(*state_, hb, &hb_resp));
  EXPECT_FALSE(hb_resp.reregister());
  list.Clear();
  ASSERT_OK(ListNodes(*state_, {}, &list));
  EXPECT_EQ(list.nodes(0).state(), proto::NODE_UP);
}

}  // namespace
}  // namespace granary::metadata
