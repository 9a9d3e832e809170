// granary fsck against a real cluster: clean while every replica's server
// is up; once a chunk server is marked down, the files with chunks on it
// are listed as under-replicated and the exit code is 1; clean again after
// the server comes back.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace granary::testutil
