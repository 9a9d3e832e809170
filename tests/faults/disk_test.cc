// Disk trouble: a data folder that vanishes under a running chunk server is
// taken out of service; its replicas are reported lost and copied back from
// the other servers, while the server's other folder keeps serving. A server
// whose only folder fills up refuses new chunks, writers in its chains move
// to new chains without it, and metad stops placing chunks on it.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
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
  EXPECT_FSCK_CLEAN(*cluster);
}

// Unmounts the small file system under chunk server 0 after stopping it
// (declared after the cluster, so it runs first).
struct SmallDisk {
  TestCluster* cluster = nullptr;
  std::string dir;
  ~SmallDisk() {
    if (cluster == nullptr) return;
    (void)cluster->KillChunkd(0);
    ::umount2(dir.c_str(), MNT_DETACH);
  }
};

TEST(Disk, FullDataFolderRefusesWritesWhileOthersTakeThem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small file system";
  // Server 0 alone in domain "a" and server 1 in "b": every chain holds
  // both, and the third replica goes to server 2 or 3 (domain "c").
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      TestCluster::Start({.chunkservers = 4,
                          .failure_domains = {"a", "b", "c", "c"},
                          .metad_config_toml = std::string(kFastMetad) +
                                               "min_free_bytes = 1048576\n"
                                               "min_free_percent = 0\n",
                          .chunkd_config_toml = "[chunkd]\nmin_free_bytes = 4194304\n"}));
  // Server 0's data folder moves onto a 48 MiB tmpfs: about 44 MiB it will
  // fill before refusing.
  const std::string disk = cluster->chunkd_data_dir(0);
  ASSERT_OK(cluster->KillChunkd(0, SIGTERM));
  fs::rename(disk, disk + ".orig");
  fs::create_directories(disk);
  ASSERT_EQ(::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=48m"), 0) << std::strerror(errno);
  SmallDisk guard{cluster.get(), disk};
  fs::copy(disk + ".orig", disk, fs::copy_options::recursive);
  ASSERT_OK(cluster->RestartChunkd(0));

  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  std::vector<std::string> paths;
  std::vector<std::vector<uint8_t>> contents;
  const auto t0 = FaultClock::now();
  // 96 MiB per replica: server 0 fills about halfway through; every write
  // still succeeds.
  for (int i = 0; i < 8; ++i) {
    paths.push_back("/fill-" + std::to_string(i));
    contents.push_back(RandomBytes(12 * kMiB, 100 + i));
    ASSERT_OK(WriteFile(*client, paths.back(), contents.back(), o)) << paths.back();
  }
  std::printf("[ timing ] 8 x 12 MiB written in %.2f s while server 0's folder filled up\n",
              std::chrono::duration<double>(FaultClock::now() - t0).count());
  struct statvfs vfs {};
  ASSERT_EQ(::statvfs(disk.c_str(), &vfs), 0);
  EXPECT_LT(uint64_t{vfs.f_bavail} * vfs.f_frsize, 4 * kMiB + 4 * kMiB)
      << "server 0's folder should be at its floor";
  EXPECT_TRUE(cluster->chunkd_running(0)) << "a full folder must not stop the server";

  // Metad hears of it: server 0 reports no room, and the later files' chunks
  // live on the three others.
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  std::string node0;
  for (const NodeStatus& n : nodes) {
    if (n.address == cluster->chunkd_address(0)) {
      node0 = n.node_id;
      EXPECT_LT(n.free_bytes, kMiB) << "heartbeats report what new chunks may fill";
      EXPECT_TRUE(n.up);
    }
  }
  ASSERT_FALSE(node0.empty());
  ASSERT_OK_AND_ASSIGN(auto last, client->GetLayout(paths.back()));
  for (const ChunkLocation& c : last) {
    for (const ReplicaInfo& r : c.replicas) EXPECT_NE(r.node_id, node0) << "placed on a full server";
  }
  ASSERT_OK(WaitFullyReplicated(*client, paths, std::chrono::seconds(30)).status());
  for (size_t i = 0; i < paths.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, paths[i]));
    EXPECT_TRUE(back == contents[i]) << paths[i];
  }
  EXPECT_FSCK_CLEAN(*cluster);
}

}  // namespace
}  // namespace granary::testutil
