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

}  // namespace
}  // namespace granary::metadata
