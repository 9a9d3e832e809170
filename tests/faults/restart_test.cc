// Whole-process failures: metad killed in the middle of a write, two of
// three replicas' servers killed, every process killed at once. After each,
// every acknowledged file is byte-identical and every chunk is back at three
// replicas on live servers.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

using Clock = FaultClock;

TEST(Restart, MetadKilledMidWriteLosesNothingAcknowledged) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto done = RandomBytes(20 * kMiB, 21);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  o.fsync_on_close = true;
  ASSERT_OK(WriteFile(*client, "/acknowledged", done, o));

  const auto data = RandomBytes(40 * kMiB, 22);
  ASSERT_OK_AND_ASSIGN(auto w, client->Create("/in-flight", o));
  Status st;
  Clock::time_point killed{};
  for (size_t off = 0; off < data.size() && st.ok(); off += kMiB) {
    if (off == 20 * kMiB) {
      killed = Clock::now();
      ASSERT_OK(cluster->KillMetad(SIGKILL));
      ASSERT_OK(cluster->RestartMetad());
    }
    st = w->Write(ByteSpan(data.data() + off, kMiB));
  }
  if (st.ok()) st = w->Close();
  // The writer rides through: its calls wait for metad to come back and its
  // lease is reclaimed (metadata/state/lease_table.h).
  ASSERT_OK(st) << "the write across the metad restart";
  std::printf("[ timing ] metad killed and restarted mid-write: the write closed %.2f s after "
              "the kill\n",
              std::chrono::duration<double>(Clock::now() - killed).count());

  ASSERT_OK_AND_ASSIGN(auto fresh, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*fresh, "/acknowledged"));
  EXPECT_TRUE(back == done);
  ASSERT_OK_AND_ASSIGN(auto all, ReadFile(*fresh, "/in-flight"));
  EXPECT_TRUE(all == data);
  ASSERT_OK(WaitFullyReplicated(*fresh, {"/acknowledged", "/in-flight"}, std::chrono::seconds(30))
                .status());
  EXPECT_FSCK_CLEAN(*cluster);
}

TEST(Restart, TwoOfThreeReplicasLostThenOneServerBack) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 5, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(8 * kMiB, 23);
  ASSERT_OK(WriteFile(*client, "/one-chunk", data));
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/one-chunk"));
  ASSERT_EQ(layout.size(), 1u);
  std::vector<int> holders;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    for (const ReplicaInfo& r : layout[0].replicas) {
      if (r.address == cluster->chunkd_address(i)) holders.push_back(i);
    }
  }
  ASSERT_EQ(holders.size(), 3u);
  const auto t0 = Clock::now();
  ASSERT_OK(cluster->KillChunkd(holders[0]));
  ASSERT_OK(cluster->KillChunkd(holders[1]));
  // One replica left: still readable, and the repair copies it twice.
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/one-chunk"));
  EXPECT_TRUE(back == data);
  // Only once metad sees them DOWN does "fully replicated" mean repaired.
  ASSERT_OK(cluster->WaitForNodeState(holders[0], /*up=*/false, std::chrono::seconds(20)));
  ASSERT_OK(cluster->WaitForNodeState(holders[1], /*up=*/false, std::chrono::seconds(20)));
  ASSERT_OK_AND_ASSIGN(double repaired,
                       WaitFullyReplicated(*client, {"/one-chunk"}, std::chrono::seconds(60)));
  std::printf("[ timing ] two of three replicas killed: 3 live replicas again after %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  (void)repaired;
  ASSERT_OK(cluster->RestartChunkd(holders[0]));
  ASSERT_OK_AND_ASSIGN(layout, client->GetLayout("/one-chunk"));
  EXPECT_EQ(layout[0].replicas.size(), 3u);
  ASSERT_OK_AND_ASSIGN(back, ReadFile(*client, "/one-chunk"));
  EXPECT_TRUE(back == data);
  EXPECT_FSCK_CLEAN(*cluster);
}

TEST(Restart, EveryProcessKilledAtOnce) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3, .metad_config_toml = kFastMetad}));
  std::vector<std::vector<uint8_t>> files;
  {
    ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
    ASSERT_OK(client->Mkdir("/d").status());
    CreateOptions o;
    o.fsync_on_close = true;
    for (int i = 0; i < 5; ++i) {
      files.push_back(RandomBytes((i + 1) * 3 * kMiB + 5, 30 + i));
      ASSERT_OK(WriteFile(*client, "/d/f" + std::to_string(i), files.back(), o));
    }
  }
  ASSERT_OK(cluster->KillMetad(SIGKILL));
  for (int i = 0; i < cluster->num_chunkservers(); ++i) ASSERT_OK(cluster->KillChunkd(i));
  const auto t0 = Clock::now();
  ASSERT_OK(cluster->RestartMetad());
  for (int i = 0; i < cluster->num_chunkservers(); ++i) ASSERT_OK(cluster->RestartChunkd(i));
  std::printf("[ timing ] every process restarted and serving in %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  std::vector<std::string> paths;
  for (int i = 0; i < 5; ++i) {
    paths.push_back("/d/f" + std::to_string(i));
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, paths.back()));
    EXPECT_TRUE(back == files[i]) << paths.back();
  }
  ASSERT_OK(WaitFullyReplicated(*client, paths, std::chrono::seconds(30)).status());
  EXPECT_FSCK_CLEAN(*cluster);
}

}  // namespace
}  // namespace granary::testutil
