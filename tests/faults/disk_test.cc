// Disk trouble: a data folder that vanishes under a running chunk server is
// taken out of service; its replicas are reported lost and copied back from
// the other servers, while the server's other folder keeps serving.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

TEST(Disk, FailedDataFolderIsTakenOutOfService) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3,
                                                         .disks_per_chunkserver = 2,
                                                         .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(24 * kMiB + 1, 41);
  CreateOptions o;
  o.chunk_size = 2 * kMiB;  // 13 chunks: both folders of every server hold some
  ASSERT_OK(WriteFile(*client, "/on-two-disks", data, o));
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/on-two-disks"));

  // The second disk of server 0 disappears (as an unmounted or dead disk
  // would): its path no longer holds the folder.
  const std::string disk = cluster->chunkd_data_dir(0, 1);
  const auto t0 = FaultClock::now();
  fs::rename(disk, disk + ".gone");
  // The server notices at its next heartbeat and reports the folder's
  // replicas lost; metad has them copied (back onto server 0, the only
  // server without a replica of those chunks).
  uint64_t copies = 0;
  while (copies == 0 && FaultClock::now() - t0 < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_OK_AND_ASSIGN(RepairStatusInfo r, client->RepairStatus());
    copies = r.copies_done;
  }
  ASSERT_GT(copies, 0u) << "no replica of the vanished folder was re-created";
  ASSERT_OK(WaitFullyReplicated(*client, {"/on-two-disks"}, std::chrono::seconds(60)).status());
  // Every replica metad names on server 0 is really there again (copied into
  // the remaining folder).
  bool all_there = false;
  while (!all_there && FaultClock::now() - t0 < std::chrono::seconds(60)) {
    all_there = true;
    for (const ChunkLocation& c : layout) {
      all_there = all_there &&
                  client->StatReplica(cluster->chunkd_address(0), c.chunk_id, c.version).ok();
    }
    if (!all_there) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(all_there) << "lost replicas were not copied back to server 0";
  std::printf("[ timing ] data folder gone: every replica back in %.2f s\n",
              std::chrono::duration<double>(FaultClock::now() - t0).count());
  EXPECT_TRUE(cluster->chunkd_running(0)) << "the server must keep running";
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  for (const NodeStatus& n : nodes) EXPECT_TRUE(n.up) << n.address;
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/on-two-disks"));
  EXPECT_TRUE(back == data);
  EXPECT_GT(fs::file_size(disk + ".gone/node_id"), 0u);  // the old disk is untouched
}

}  // namespace
}  // namespace granary::testutil
