// granary fsck against a real cluster: clean while every replica's server
// is up; once a chunk server is marked down, the files with chunks on it
// are listed as under-replicated and the exit code is 1; clean again after
// the server comes back.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>


#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"
#include "tests/tools/cli_test_util.h"

namespace granary::testutil {
namespace {

TEST(GranaryFsck, UnderReplicatedWhileAChunkServerIsDown) {
  // A short node timeout: a killed server is marked down within a second.
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      TestCluster::Start({.chunkservers = 3,
                          .metad_config_toml = "[metad]\nnode_timeout_ms = 800\n"
                                               "heartbeat_interval_ms = 200\n"}));
  auto granary = [&](std::vector<std::string> args, std::string in = "") {
    args.insert(args.begin(), {"--meta", cluster->meta_address()});
    return RunGranary(std::move(args), "", std::move(in));
  };
  ASSERT_EQ(granary({"mkdir", "/data"}).exit_code, 0);
  // Over 64 KiB so that the data lives in chunks, not inline in metad.
  const std::string bytes(200000, 'x');
  ASSERT_EQ(granary({"put", "-", "/data/a.bin"}, bytes).exit_code, 0);
  ASSERT_EQ(granary({"put", "-", "/data/b.bin"}, bytes).exit_code, 0);

  auto clean = granary({"fsck"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_NE(clean.out.find("2 files, 2 chunks; 0 chunks under-replicated, 0 missing"),
            std::string::npos)
      << clean.out;

  ASSERT_OK(cluster->KillChunkd(1));
  ASSERT_OK(cluster->WaitForNodeState(1, /*up=*/false, std::chrono::seconds(20)));
  auto degraded = granary({"fsck", "/data"});
  EXPECT_EQ(degraded.exit_code, 1) << degraded.out << degraded.err;
  EXPECT_NE(degraded.out.find("UNDER-REPLICATED"), std::string::npos) << degraded.out;
  EXPECT_NE(degraded.out.find("/data/a.bin"), std::string::npos) << degraded.out;
  EXPECT_NE(degraded.out.find("2/3"), std::string::npos) << degraded.out;
  EXPECT_NE(degraded.out.find("1 of 3 chunk servers down"), std::string::npos) << degraded.out;
  EXPECT_NE(degraded.err.find("under-replicated"), std::string::npos) << degraded.err;

  ASSERT_OK(cluster->RestartChunkd(1));
  auto healed = granary({"fsck", "/data"});
  EXPECT_EQ(healed.exit_code, 0) << healed.out << healed.err;

  auto missing_path = granary({"fsck", "/nope"});
  EXPECT_EQ(missing_path.exit_code, 1);
  EXPECT_NE(missing_path.err.find("NOT_FOUND"), std::string::npos) << missing_path.err;
}

TEST(GranaryFsck, CorruptReplicaOnALiveServerIsReported) {
  // The scrub finds the flipped byte at once; the repair loop sleeps for an
  // hour, so fsck sees the damage before anything heals it.
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      TestCluster::Start({.chunkservers = 3,
                          .metad_config_toml = "[metad]\nrepair_interval_ms = 3600000\n",
                          .chunkd_config_toml = "[chunkd]\nscrub_mbps = 1000\n"
                                                "scrub_start_delay_s = 0\n"
                                                "scrub_pass_interval_s = 1\n"}));
  auto granary = [&](std::vector<std::string> args, std::string in = "") {
    args.insert(args.begin(), {"--meta", cluster->meta_address()});
    return RunGranary(std::move(args), "", std::move(in));
  };
  std::string bytes(300000, 'y');
  for (size_t i = 0; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(i * 31);
  ASSERT_EQ(granary({"put", "-", "/rotting.bin"}, bytes).exit_code, 0);
  EXPECT_EQ(granary({"fsck"}).exit_code, 0);

  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/rotting.bin"));
  ASSERT_EQ(layout.size(), 1u);
  const std::filesystem::path file =
      cluster->ReplicaPath(1, layout[0].chunk_id, layout[0].version);
  ASSERT_OK(FlipByte(file, 5000, 0x5a));
  const std::string quarantined = file.string() + ".corrupt";
  for (int i = 0; i < 200 && !std::filesystem::exists(quarantined); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(quarantined)) << "the scrub did not quarantine it";

  auto bad = granary({"fsck"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("1 corrupt or lost replicas"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("/rotting.bin"), std::string::npos) << bad.out;
  // Trusting metad's map alone, the damage is invisible.
  auto map_only = granary({"fsck", "--no-replica-check"});
  EXPECT_EQ(map_only.exit_code, 0) << map_only.out;
}

}  // namespace
}  // namespace granary::testutil
