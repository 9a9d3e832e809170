#include "metadata/repair/repair_plan.h"

#include <gtest/gtest.h>

#include <map>

namespace granary::metadata {
namespace {

proto::ChunkInfo Chunk(uint64_t index, std::vector<std::string> nodes) {
  proto::ChunkInfo c;
  c.set_chunk_index(index);
  c.set_chunk_id(100 + index);
  c.set_version(1);
  for (const auto& n : nodes) c.add_replicas()->set_node_id(n);
  return c;
}

struct Health {
  std::map<std::string, ReplicaHealth> of;
  ReplicaHealth operator()(const std::string& n) const {
    auto it = of.find(n);
    return it == of.end() ? ReplicaHealth::kGood : it->second;
  }
};

TEST(RepairPlan, HealthyChunkNeedsNothing) {
  bool lost = true;
  EXPECT_FALSE(PlanChunk(1, Chunk(0, {"a", "b", "c"}), 3, Health{}, &lost));
  EXPECT_FALSE(lost);
}

TEST(RepairPlan, GoneReplicaIsReplacedFromTheGoodOnes) {
  Health h{{{"b", ReplicaHealth::kGone}}};
  bool lost = true;
  auto t = PlanChunk(7, Chunk(2, {"a", "b", "c"}), 3, h, &lost);
  ASSERT_TRUE(t);
  EXPECT_FALSE(lost);
  EXPECT_EQ(t->inode, 7u);
  EXPECT_EQ(t->chunk_index, 2u);
  EXPECT_EQ(t->good, 2u);
  ASSERT_EQ(t->sources.size(), 2u);
  // Rotated by chunk id (102 % 2 == 0: not rotated).
  EXPECT_EQ(t->sources[0].node_id(), "a");
  EXPECT_EQ(t->sources[1].node_id(), "c");
  ASSERT_EQ(t->drop.size(), 1u);
  EXPECT_EQ(t->drop[0], "b");
}

TEST(RepairPlan, WaitingReplicasStillCount) {
  // A node down for less than the repair delay: no copy yet.
  Health h{{{"b", ReplicaHealth::kWaiting}}};
  bool lost = true;
  EXPECT_FALSE(PlanChunk(1, Chunk(0, {"a", "b", "c"}), 3, h, &lost));
}

TEST(RepairPlan, RaisedGoalAddsReplicas) {
  bool lost = true;
  auto t = PlanChunk(1, Chunk(0, {"a", "b"}), 3, Health{}, &lost);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->drop.empty());
}

TEST(RepairPlan, NoGoodReplicaIsUnrecoverableUnlessOneMayReturn) {
  Health gone{{{"a", ReplicaHealth::kGone}, {"b", ReplicaHealth::kGone}}};
  bool lost = false;
  EXPECT_FALSE(PlanChunk(1, Chunk(0, {"a", "b"}), 2, gone, &lost));
  EXPECT_TRUE(lost);
  Health waiting{{{"a", ReplicaHealth::kGone}, {"b", ReplicaHealth::kWaiting}}};
  EXPECT_FALSE(PlanChunk(1, Chunk(0, {"a", "b"}), 2, waiting, &lost));
  EXPECT_FALSE(lost);
}

TEST(RepairPlan, MostEndangeredFirst) {
  Health h{{{"x", ReplicaHealth::kGone}, {"y", ReplicaHealth::kGone}}};
  bool lost;
  std::vector<RepairTask> tasks;
  tasks.push_back(*PlanChunk(1, Chunk(0, {"a", "b", "x"}), 3, h, &lost));  // 2 good
  tasks.push_back(*PlanChunk(1, Chunk(1, {"a", "x", "y"}), 3, h, &lost));  // 1 good
  tasks.push_back(*PlanChunk(2, Chunk(0, {"c", "d", "y"}), 3, h, &lost));  // 2 good
  SortByUrgency(tasks);
  EXPECT_EQ(tasks[0].chunk_index, 1u);
  EXPECT_EQ(tasks[0].good, 1u);
  EXPECT_EQ(tasks[1].inode, 1u);
  EXPECT_EQ(tasks[2].inode, 2u);
}

TEST(RepairPlan, RebalanceOnlyPastTheThreshold) {
  const uint64_t cap = 1000;
  std::vector<NodeLoad> even = {{"a", "d1", cap, 500}, {"b", "d2", cap, 520}, {"c", "d3", cap, 480}};
  EXPECT_FALSE(PickRebalance(even, 20, 1));
  std::vector<NodeLoad> skewed = {{"a", "d1", cap, 600}, {"b", "d2", cap, 600}, {"n", "d3", cap, 0}};
  auto pair = PickRebalance(skewed, 20, 1);
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->second.node_id, "n");
  EXPECT_FALSE(PickRebalance(skewed, 0, 1)) << "0 turns rebalancing off";
  EXPECT_FALSE(PickRebalance(skewed, 20, 10'000)) << "below the byte floor";
  // Fill is relative to capacity: a big half-full node is not "fuller".
  std::vector<NodeLoad> sized = {{"big", "d1", 2 * cap, 1000}, {"small", "d2", cap, 500}};
  EXPECT_FALSE(PickRebalance(sized, 20, 1));
}

TEST(RepairPlan, MovesKeepFailureDomainsApart) {
  auto domain = [](const std::string& n) { return n == "x" ? "rack2" : "rack1"; };
  const NodeLoad from{"a", "rack1", 1, 1};
  const NodeLoad to_rack2{"y", "rack2", 1, 0};
  const NodeLoad to_rack1{"z", "rack1", 1, 0};
  // x is in rack2 already: moving a's replica to rack2 would double it up.
  EXPECT_FALSE(CanMove(Chunk(0, {"a", "x"}), from, to_rack2, domain));
  // Within a's own rack the spread is unchanged.
  EXPECT_TRUE(CanMove(Chunk(0, {"a", "x"}), from, to_rack1, domain));
  EXPECT_FALSE(CanMove(Chunk(0, {"b", "x"}), from, to_rack1, domain)) << "a holds no replica";
  EXPECT_FALSE(CanMove(Chunk(0, {"a", "z"}), from, to_rack1, domain)) << "z holds it already";
}

}  // namespace
}  // namespace granary::metadata
