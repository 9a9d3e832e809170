// Re-replication: a chunk server killed for good, and a replica corrupted on
// disk, both end with every chunk back at three good replicas and every file
// byte-identical, without anyone's help. Each test prints how long detection
// and repair took (docs/reliability.md quotes them).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
using Clock = FaultClock;

Result<double> WaitRepaired(Client& c, const std::string& path, size_t want,
                            std::chrono::seconds limit) {
  return WaitFullyReplicated(c, {path}, limit, want);
}

Result<bool> FullyReplicated(Client& c, const std::string& path, size_t want) {
  return testutil::FullyReplicated(c, std::vector<std::string>{path}, want);
}

TEST(Repair, KilledChunkServerIsReplaced) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 4, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(20 * kMiB + 7, 1);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;  // 6 chunks spread over the 4 servers
  ASSERT_OK(WriteFile(*client, "/victim", data, o));

  const auto t0 = Clock::now();
  ASSERT_OK(cluster->KillChunkd(2));
  ASSERT_OK(cluster->WaitForNodeState(2, /*up=*/false, std::chrono::seconds(20)));
  const double detect = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_OK_AND_ASSIGN(double repair, WaitRepaired(*client, "/victim", 3, std::chrono::seconds(60)));
  std::printf("[ timing ] kill -9: down after %.2f s, 3 replicas again %.2f s later\n", detect,
              repair);

  // Every byte, from each replica in turn (local reads off: over TCP too).
  for (bool local : {true, false}) {
    ClientOptions co;
    co.local_reads = local;
    ASSERT_OK_AND_ASSIGN(auto reader, cluster->Connect(co));
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*reader, "/victim"));
    EXPECT_TRUE(back == data) << "local reads " << local;
  }

  // The dead server comes back: its stale replicas are deleted, nothing is
  // over-replicated, and the file still reads.
  ASSERT_OK(cluster->RestartChunkd(2));
  ASSERT_OK_AND_ASSIGN(bool still, FullyReplicated(*client, "/victim", 3));
  EXPECT_TRUE(still);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/victim"));
  EXPECT_TRUE(back == data);
  EXPECT_FSCK_CLEAN(*cluster);
}

TEST(Repair, CorruptReplicaFoundByScrubIsReplaced) {
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      TestCluster::Start({.chunkservers = 3,
                          .metad_config_toml = kFastMetad,
                          .chunkd_config_toml = "[chunkd]\nscrub_mbps = 1000\n"
                                                "scrub_start_delay_s = 0\n"
                                                "scrub_pass_interval_s = 1\n"}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(3 * kMiB, 2);
  ASSERT_OK(WriteFile(*client, "/rot", data));
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/rot"));
  ASSERT_EQ(layout.size(), 1u);
  const fs::path file = cluster->ReplicaPath(0, layout[0].chunk_id, layout[0].version);
  ASSERT_TRUE(fs::exists(file)) << file;

  const auto t0 = Clock::now();
  ASSERT_OK(FlipByte(file, 100000, 0x01));
  // The scrub quarantines the replica; metad has it copied back.
  const fs::path quarantined = file.string() + ".corrupt";
  while (!fs::exists(quarantined) && Clock::now() - t0 < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(quarantined)) << "scrub did not find the flipped bit";
  const double detect = std::chrono::duration<double>(Clock::now() - t0).count();
  while (!fs::exists(file) && Clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(file)) << "no good replica copied back";
  const double repair = std::chrono::duration<double>(Clock::now() - t0).count() - detect;
  std::printf("[ timing ] flipped bit: quarantined after %.2f s, copied back %.2f s later\n",
              detect, repair);
  ASSERT_OK_AND_ASSIGN(double settle, WaitRepaired(*client, "/rot", 3, std::chrono::seconds(30)));
  (void)settle;
  // The new copy is good: every replica serves the same bytes.
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/rot"));
    EXPECT_TRUE(back == data);
  }
  EXPECT_FSCK_CLEAN(*cluster);
}

TEST(Repair, DrainedNodeEndsEmptyAndCanBeRemoved) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 4, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(12 * kMiB + 3, 3);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK(WriteFile(*client, "/drained", data, o));
  // The victim: the server holding the most replicas (placement is random,
  // so any one server may, rarely, hold none of the 4 x 3).
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  std::string victim;
  int victim_index = -1;
  NodeStatus before;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    for (const NodeStatus& n : nodes) {
      if (n.address != cluster->chunkd_address(i)) continue;
      ASSERT_OK_AND_ASSIGN(NodeStatus st, client->NodeAdmin(n.node_id, NodeAction::kStatus));
      if (victim.empty() || st.replicas_referenced > before.replicas_referenced) {
        victim = n.node_id;
        victim_index = i;
        before = st;
      }
    }
  }
  ASSERT_FALSE(victim.empty());
  ASSERT_GT(before.replicas_referenced, 0u) << "4 chunks x 3 replicas on 4 nodes";

  const auto t0 = Clock::now();
  ASSERT_OK_AND_ASSIGN(NodeStatus draining, client->NodeAdmin(victim, NodeAction::kDrain));
  EXPECT_TRUE(draining.draining);
  uint64_t left = before.replicas_referenced;
  while (left > 0 && Clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_OK_AND_ASSIGN(NodeStatus now, client->NodeAdmin(victim, NodeAction::kStatus));
    left = now.replicas_referenced;
  }
  ASSERT_EQ(left, 0u) << "drain did not finish";
  std::printf("[ timing ] drain of %llu replicas: %.2f s\n",
              static_cast<unsigned long long>(before.replicas_referenced),
              std::chrono::duration<double>(Clock::now() - t0).count());
  ASSERT_OK_AND_ASSIGN(bool full, FullyReplicated(*client, "/drained", 3));
  EXPECT_TRUE(full);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/drained"));
  EXPECT_TRUE(back == data);

  // Up: refused with a clear reason. Stopped and empty: removed.
  auto refused = client->NodeAdmin(victim, NodeAction::kRemove);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is up"), std::string::npos)
      << refused.status().ToString();
  ASSERT_OK(cluster->KillChunkd(victim_index, SIGTERM));
  ASSERT_OK(cluster->WaitForNodeState(victim_index, /*up=*/false, std::chrono::seconds(20)));
  ASSERT_OK(client->NodeAdmin(victim, NodeAction::kRemove).status());
  ASSERT_OK_AND_ASSIGN(auto after, client->ListNodes());
  for (const NodeStatus& n : after) EXPECT_NE(n.node_id, victim);
  EXPECT_FSCK_CLEAN(*cluster);
}

// A reader opened before a drain moved its chunk and the old copy was
// deleted asks metad where the chunk is now instead of failing.
TEST(Repair, ReaderFollowsAChunkMovedAfterItOpened) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 2, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(3 * kMiB + 5, 21);
  CreateOptions o;
  o.replicas = 1;
  ASSERT_OK(WriteFile(*client, "/moving", data, o));
  ASSERT_OK_AND_ASSIGN(auto reader, client->Open("/moving", {.readahead = false}));
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/moving"));
  ASSERT_EQ(layout.size(), 1u);
  ASSERT_EQ(layout[0].replicas.size(), 1u);
  const std::string holder = layout[0].replicas[0].node_id;
  int index = -1;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    if (fs::exists(cluster->ReplicaPath(i, layout[0].chunk_id, layout[0].version))) index = i;
  }
  ASSERT_GE(index, 0);
  ASSERT_OK(client->NodeAdmin(holder, NodeAction::kDrain).status());
  // Moved, and the old file deleted by its server.
  const auto t0 = Clock::now();
  while (fs::exists(cluster->ReplicaPath(index, layout[0].chunk_id, layout[0].version)) &&
         Clock::now() - t0 < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(fs::exists(cluster->ReplicaPath(index, layout[0].chunk_id, layout[0].version)));
  std::vector<uint8_t> back(data.size());
  ASSERT_OK(ReadExactly(*reader, 0, back));
  EXPECT_TRUE(back == data);
}

TEST(Repair, NewServerIsFilledByRebalance) {
  const std::string metad = std::string(kFastMetad) +
                            "rebalance_threshold_percent = 20\n"
                            "rebalance_min_bytes = 1\n"
                            "rebalance_interval_ms = 300\n";
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3, .metad_config_toml = metad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  CreateOptions o;
  o.chunk_size = 2 * kMiB;
  o.replicas = 2;
  const auto data = RandomBytes(48 * kMiB, 4);  // 24 chunks x 2 replicas on 3 servers
  ASSERT_OK(WriteFile(*client, "/spread", data, o));

  ASSERT_OK_AND_ASSIGN(int added, cluster->AddChunkd());
  ASSERT_OK(cluster->WaitForNodeState(added, /*up=*/true, std::chrono::seconds(20)));
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  std::string fresh;
  for (const NodeStatus& n : nodes) {
    if (n.address == cluster->chunkd_address(added)) fresh = n.node_id;
  }
  ASSERT_FALSE(fresh.empty());
  // 48 replicas over 4 servers is 12 each; the new one should get most of
  // its share without ever leaving a chunk below 2 replicas.
  const auto t0 = Clock::now();
  uint64_t held = 0;
  while (held < 8 && Clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_OK_AND_ASSIGN(NodeStatus n, client->NodeAdmin(fresh, NodeAction::kStatus));
    held = n.replicas_referenced;
    ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/spread"));
    for (const ChunkLocation& c : layout) ASSERT_GE(c.replicas.size(), 2u);
  }
  std::printf("[ timing ] rebalance: new server holds %llu of 48 replicas after %.2f s\n",
              static_cast<unsigned long long>(held),
              std::chrono::duration<double>(Clock::now() - t0).count());
  EXPECT_GE(held, 8u);
  ASSERT_OK_AND_ASSIGN(bool full, FullyReplicated(*client, "/spread", 2));
  EXPECT_TRUE(full);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/spread"));
  EXPECT_TRUE(back == data);
  EXPECT_FSCK_CLEAN(*cluster);
}

// A file's replication factor raised then lowered: the repair loop copies
// its chunks up to the new factor, then trims them down, and the trimmed
// replicas' files are deleted from their servers.
TEST(Repair, ReplicationFactorChangeCopiesThenTrims) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 4, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(10 * kMiB + 3, 77);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  o.replicas = 2;
  ASSERT_OK(WriteFile(*client, "/goal", data, o));
  ASSERT_OK(WaitFullyReplicated(*client, {"/goal"}, std::chrono::seconds(10), 2).status());

  const auto t0 = FaultClock::now();
  ASSERT_OK(client->SetLayout("/goal", {.replicas = 4}).status());
  ASSERT_OK_AND_ASSIGN(double up, WaitFullyReplicated(*client, {"/goal"},
                                                      std::chrono::seconds(30), 4));
  ASSERT_OK(client->SetLayout("/goal", {.replicas = 1}).status());
  ASSERT_OK_AND_ASSIGN(double down, WaitFullyReplicated(*client, {"/goal"},
                                                        std::chrono::seconds(30), 1));
  std::printf("[ timing ] replicas 2 -> 4 in %.2f s, 4 -> 1 in %.2f s\n", up, down);
  // The dropped replicas' files go with the servers' next heartbeats.
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/goal"));
  size_t files = 0;
  for (;;) {
    files = 0;
    for (const ChunkLocation& c : layout) {
      for (int i = 0; i < cluster->num_chunkservers(); ++i) {
        files += std::filesystem::exists(cluster->ReplicaPath(i, c.chunk_id, c.version)) ? 1 : 0;
      }
    }
    if (files == layout.size() || FaultClock::now() - t0 > std::chrono::seconds(60)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(files, layout.size()) << "one replica file per chunk left";
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/goal"));
  EXPECT_TRUE(back == data);
  EXPECT_FSCK_CLEAN(*cluster);
}

}  // namespace
}  // namespace granary::testutil
