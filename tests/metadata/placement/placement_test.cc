#include "metadata/placement/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/testutil/status_matchers.h"

namespace granary::metadata {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

PlacementCandidate Node(std::string id, uint64_t free_gib, std::string domain = "") {
  return {std::move(id), std::move(domain), 1000 * kGiB, free_gib * kGiB};
}

std::vector<std::string> Ids(const std::vector<PlacementCandidate>& nodes,
                             const std::vector<size_t>& picks) {
  std::vector<std::string> out;
  for (size_t i : picks) out.push_back(nodes[i].node_id);
  return out;
}

TEST(Placement, PicksDistinctNodes) {
  std::vector<PlacementCandidate> nodes;
  for (int i = 0; i < 5; ++i) nodes.push_back(Node("n" + std::to_string(i), 100));
  PlacementRng rng(1);
  for (int draw = 0; draw < 1000; ++draw) {
    auto picks = ChooseReplicas(nodes, 3, {}, {}, rng);
    ASSERT_OK(picks);
    ASSERT_EQ(picks->size(), 3u);
    std::set<size_t> unique(picks->begin(), picks->end());
    EXPECT_EQ(unique.size(), 3u);
  }
  // R equal to the node count uses every node.
  auto all = ChooseReplicas(nodes, 5, {}, {}, rng);
  ASSERT_OK(all);
  EXPECT_EQ(std::set<size_t>(all->begin(), all->end()).size(), 5u);
}

TEST(Placement, SpreadsOverFailureDomains) {
  // Three racks of two nodes; rack "a" has far more free space.
  std::vector<PlacementCandidate> nodes = {Node("a1", 900, "a"), Node("a2", 900, "a"),
                                           Node("b1", 10, "b"),  Node("b2", 10, "b"),
                                           Node("c1", 10, "c"),  Node("c2", 10, "c")};
  PlacementRng rng(2);
  for (int draw = 0; draw < 2000; ++draw) {
    auto picks = ChooseReplicas(nodes, 3, {}, {}, rng);
    ASSERT_OK(picks);
    std::set<std::string> domains;
    for (size_t i : *picks) domains.insert(nodes[i].failure_domain);
    ASSERT_EQ(domains.size(), 3u) << "replicas share a rack";
  }
}

TEST(Placement, MoreReplicasThanDomainsSpreadsEvenly) {
  // Two domains, four replicas: two per domain, never three in one.
  std::vector<PlacementCandidate> nodes = {Node("a1", 500, "a"), Node("a2", 500, "a"),
                                           Node("a3", 500, "a"), Node("b1", 20, "b"),
                                           Node("b2", 20, "b"),  Node("b3", 20, "b")};
  PlacementRng rng(3);
  for (int draw = 0; draw < 1000; ++draw) {
    auto picks = ChooseReplicas(nodes, 4, {}, {}, rng);
    ASSERT_OK(picks);
    std::map<std::string, int> per_domain;
    for (size_t i : *picks) ++per_domain[nodes[i].failure_domain];
    ASSERT_EQ(per_domain["a"], 2);
    ASSERT_EQ(per_domain["b"], 2);
  }
}

TEST(Placement, UnlabeledNodesCountAsTheirOwnDomains) {
  // One labeled rack with two nodes and two unlabeled nodes: 3 replicas fit
  // in 3 distinct domains (rack "a", u1, u2), so rack "a" gets only one.
  std::vector<PlacementCandidate> nodes = {Node("a1", 900, "a"), Node("a2", 900, "a"),
                                           Node("u1", 20), Node("u2", 20)};
  PlacementRng rng(4);
  for (int draw = 0; draw < 500; ++draw) {
    auto picks = ChooseReplicas(nodes, 3, {}, {}, rng);
    ASSERT_OK(picks);
    int in_a = 0;
    for (size_t i : *picks) in_a += nodes[i].failure_domain == "a";
    ASSERT_EQ(in_a, 1);
  }
}

TEST(Placement, WeightsByFreeSpace) {
  std::vector<PlacementCandidate> nodes = {Node("small", 100), Node("medium", 200),
                                           Node("large", 700)};
  PlacementRng rng(5);
  constexpr int kDraws = 10000;
  std::map<std::string, int> hits;
  for (int draw = 0; draw < kDraws; ++draw) {
    auto picks = ChooseReplicas(nodes, 1, {}, {}, rng);
    ASSERT_OK(picks);
    ++hits[nodes[(*picks)[0]].node_id];
  }
  // Standard deviation of a share is at most 0.005 at 10k draws: 0.03 is ~6 sigma.
  EXPECT_NEAR(hits["small"] / double(kDraws), 0.1, 0.03);
  EXPECT_NEAR(hits["medium"] / double(kDraws), 0.2, 0.03);
  EXPECT_NEAR(hits["large"] / double(kDraws), 0.7, 0.03);
}

TEST(Placement, WeightingHoldsForTheFirstReplicaOfSeveral) {
  std::vector<PlacementCandidate> nodes = {Node("a", 100), Node("b", 100), Node("c", 100),
                                           Node("big", 700)};
  PlacementRng rng(6);
  constexpr int kDraws = 10000;
  int big_first = 0, big_anywhere = 0;
  for (int draw = 0; draw < kDraws; ++draw) {
    auto picks = ChooseReplicas(nodes, 2, {}, {}, rng);
    ASSERT_OK(picks);
    big_first += nodes[(*picks)[0]].node_id == "big";
    for (size_t i : *picks) big_anywhere += nodes[i].node_id == "big";
  }
  EXPECT_NEAR(big_first / double(kDraws), 0.7, 0.03);
  // P(big among 2) = 0.7 + 0.3 * (700/900) = 0.9333.
  EXPECT_NEAR(big_anywhere / double(kDraws), 0.9333, 0.03);
}

TEST(Placement, HonoursExcludes) {
  std::vector<PlacementCandidate> nodes = {Node("n0", 100), Node("n1", 900), Node("n2", 100),
                                           Node("n3", 100)};
  std::vector<std::string> exclude = {"n1", "n3"};
  PlacementRng rng(7);
  for (int draw = 0; draw < 500; ++draw) {
    auto picks = ChooseReplicas(nodes, 2, exclude, {}, rng);
    ASSERT_OK(picks);
    std::vector<std::string> ids = Ids(nodes, *picks);
    std::sort(ids.begin(), ids.end());
    ASSERT_EQ(ids, (std::vector<std::string>{"n0", "n2"}));
  }
}

TEST(Placement, NotEnoughNodesNamesTheCounts) {
  std::vector<PlacementCandidate> nodes = {Node("n0", 100), Node("n1", 100)};
  PlacementRng rng(8);
  auto r = ChooseReplicas(nodes, 3, {}, {}, rng);
  ASSERT_ERROR(r, proto::NOT_ENOUGH_NODES);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_NE(r.status().message().find("need 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("only 2 of 2 live"), std::string::npos)
      << r.status().message();

  std::vector<std::string> exclude = {"n0"};
  auto excluded = ChooseReplicas(nodes, 2, exclude, {}, rng);
  ASSERT_ERROR(excluded, proto::NOT_ENOUGH_NODES);
  EXPECT_NE(excluded.status().message().find("1 excluded"), std::string::npos);

  EXPECT_ERROR(ChooseReplicas({}, 1, {}, {}, rng), proto::NOT_ENOUGH_NODES);
  EXPECT_ERROR(ChooseReplicas(nodes, 0, {}, {}, rng), proto::INVALID_ARGUMENT);
}

TEST(Placement, SkipsNodesBelowTheFreeSpaceFloor) {
  // capacity 1000 GiB each: "tight" has 5 GiB free (< 1%), "tiny" 0.5 GiB (< 1 GiB).
  std::vector<PlacementCandidate> nodes = {Node("ok1", 100), Node("tight", 5), Node("ok2", 50)};
  nodes.push_back({"tiny", "", 10 * kGiB, kGiB / 2});
  PlacementOptions options;  // 1 GiB and 1%
  PlacementRng rng(9);
  for (int draw = 0; draw < 200; ++draw) {
    auto picks = ChooseReplicas(nodes, 2, {}, options, rng);
    ASSERT_OK(picks);
    for (size_t i : *picks) ASSERT_TRUE(nodes[i].node_id.starts_with("ok"));
  }
  auto r = ChooseReplicas(nodes, 3, {}, options, rng);
  ASSERT_ERROR(r, proto::NOT_ENOUGH_NODES);
  EXPECT_NE(r.status().message().find("2 below the free-space floor"), std::string::npos)
      << r.status().message();
  // With no floor every node qualifies.
  EXPECT_OK(ChooseReplicas(nodes, 4, {}, PlacementOptions{0, 0}, rng));
}

TEST(Placement, SameSeedSameChoices) {
  std::vector<PlacementCandidate> nodes;
  for (int i = 0; i < 20; ++i) nodes.push_back(Node("n" + std::to_string(i), 10 + i));
  PlacementRng a(42), b(42);
  for (int draw = 0; draw < 100; ++draw) {
    auto x = ChooseReplicas(nodes, 3, {}, {}, a);
    auto y = ChooseReplicas(nodes, 3, {}, {}, b);
    ASSERT_OK(x);
    ASSERT_OK(y);
    ASSERT_EQ(*x, *y);
  }
}

}  // namespace
}  // namespace granary::metadata
