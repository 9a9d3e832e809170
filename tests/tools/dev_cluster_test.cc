// `granary dev up|status|down` run for real, in a temporary folder.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/testutil/status_matchers.h"
#include "tests/tools/cli_test_util.h"
#include "tools/dev/cluster_state.h"
#include "tools/dev/process.h"

namespace granary::testutil {
namespace {

#define EXPECT_EXIT_CODE(result, code) \
  EXPECT_EQ((result).exit_code, code) << "stdout:\n" << (result).out << "stderr:\n" << (result).err

std::vector<pid_t> Pids(const dev::ClusterState& s) {
  std::vector<pid_t> pids = {s.metad.pid};
  for (const auto& c : s.chunkds) pids.push_back(c.pid);
  return pids;
}

// Stops the cluster even when an assertion ended the test early.
struct DownOnExit {
  std::string dir;
  ~DownOnExit() { RunGranary({"dev", "down", "--dir", dir}); }
};

TEST(DevCluster, UpStatusDownLeavesNoProcesses) {
  TempDir tmp;
  DownOnExit guard{tmp.path() + "/granary-dev"};
  // Default folder ./granary-dev, so the other commands find the cluster.
  auto up = RunGranary({"dev", "up", "--chunkservers", "2"}, tmp.path());
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("export GRANARY_META=127.0.0.1:"), std::string::npos) << up.out;

  std::string dir = tmp.path() + "/granary-dev";
  ASSERT_OK_AND_ASSIGN(dev::ClusterState st, dev::ReadClusterState(dir + "/cluster.toml"));
  ASSERT_EQ(st.chunkds.size(), 2u);
  EXPECT_TRUE(dev::ProcessMatches(st.metad.pid, st.metad.binary));
  for (const auto& c : st.chunkds) EXPECT_TRUE(dev::ProcessMatches(c.pid, c.binary)) << c.name;
  EXPECT_TRUE(std::filesystem::exists(dir + "/metad/log"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/chunkd-2/port"));

  // Idempotent.
  auto again = RunGranary({"dev", "up", "--chunkservers", "2"}, tmp.path());
  EXPECT_EXIT_CODE(again, 0);
  EXPECT_NE(again.out.find("already running"), std::string::npos) << again.out;

  // Discovery through ./granary-dev/cluster.toml.
  auto df = RunGranary({"df"}, tmp.path());
  EXPECT_EXIT_CODE(df, 0);
  EXPECT_NE(df.out.find("2/2 up"), std::string::npos) << df.out;

  auto status = RunGranary({"dev", "status"}, tmp.path());
  EXPECT_EXIT_CODE(status, 0);
  EXPECT_NE(status.out.find("chunkd-2"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(st.chunkds[1].address), std::string::npos) << status.out;

  auto down = RunGranary({"dev", "down"}, tmp.path());
  EXPECT_EXIT_CODE(down, 0);
  for (pid_t pid : Pids(st)) EXPECT_FALSE(dev::ProcessAlive(pid)) << pid;
  EXPECT_FALSE(std::filesystem::exists(dir + "/cluster.toml"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/metad/data"));  // data kept

  auto after = RunGranary({"df"}, tmp.path());
  EXPECT_EXIT_CODE(after, 1);

  EXPECT_EXIT_CODE(RunGranary({"dev", "down", "--wipe"}, tmp.path()), 0);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(DevCluster, UpRestartsOnlyWhatDied) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  DownOnExit guard{dir};
  ASSERT_EQ(RunGranary({"dev", "up", "--dir", dir, "--failure-domains"}).exit_code, 0);
  ASSERT_OK_AND_ASSIGN(dev::ClusterState before, dev::ReadClusterState(dir + "/cluster.toml"));
  ASSERT_EQ(before.chunkds.size(), 3u);
  EXPECT_EQ(before.chunkds[2].failure_domain, "domain-3");

  const auto& victim = before.chunkds[1];
  ASSERT_OK(dev::SignalProcess(victim.pid, victim.binary, SIGKILL));
  ASSERT_OK(dev::WaitForExit(victim.pid, std::chrono::seconds(5)));

  auto up = RunGranary({"dev", "up", "--dir", dir});
  EXPECT_EXIT_CODE(up, 0);
  EXPECT_NE(up.out.find("started granary-chunkd chunkd-2"), std::string::npos) << up.out;
  ASSERT_OK_AND_ASSIGN(dev::ClusterState after, dev::ReadClusterState(dir + "/cluster.toml"));
  EXPECT_EQ(after.metad.pid, before.metad.pid);
  EXPECT_EQ(after.chunkds[0].pid, before.chunkds[0].pid);
  EXPECT_NE(after.chunkds[1].pid, before.chunkds[1].pid);

  EXPECT_EXIT_CODE(RunGranary({"dev", "down", "--dir", dir, "--wipe"}), 0);
  for (pid_t pid : Pids(after)) EXPECT_FALSE(dev::ProcessAlive(pid)) << pid;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace granary::testutil
