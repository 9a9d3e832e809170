#include "tools/dev/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/testutil/status_matchers.h"

namespace granary::dev {
namespace {

SpawnOptions Spawn(std::vector<std::string> argv, std::string output_file = "") {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.output_file = std::move(output_file);
  return o;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "granary-process-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ProcessTest, SpawnMatchAndStop) {
  ASSERT_OK_AND_ASSIGN(pid_t pid, SpawnProcess(Spawn({"/bin/sleep", "30"})));
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_TRUE(ProcessMatches(pid, "/bin/sleep"));
  EXPECT_FALSE(ProcessMatches(pid, "/bin/true"));
  // A mismatching binary is never signalled.
  EXPECT_ERROR(SignalProcess(pid, "/bin/true", SIGKILL), proto::NOT_FOUND);
  EXPECT_TRUE(ProcessAlive(pid));
  bool killed = true;
  ASSERT_OK(StopProcess(pid, "/bin/sleep", std::chrono::seconds(5), &killed));
  EXPECT_FALSE(killed);  // sleep dies of SIGTERM
  EXPECT_FALSE(ProcessAlive(pid));
  // Stopping what is gone is fine.
  EXPECT_OK(StopProcess(pid, "/bin/sleep", std::chrono::seconds(1)));
}

TEST_F(ProcessTest, StopEscalatesToKill) {
  // A shell that ignores SIGTERM needs SIGKILL. Short sleeps and no shared
  // stdout, so no orphan holds the test's output open after the kill.
  ASSERT_OK_AND_ASSIGN(
      pid_t pid, SpawnProcess(Spawn({"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"},
                                    "/dev/null")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let trap install
  bool killed = false;
  ASSERT_OK(StopProcess(pid, "/bin/sh", std::chrono::milliseconds(200), &killed));
  EXPECT_TRUE(killed);
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST_F(ProcessTest, ExecFailureIsReported) {
  auto r = SpawnProcess(Spawn({dir_ + "/no-such-binary"}));
  ASSERT_ERROR(r, proto::IO_ERROR);
  EXPECT_NE(r.status().message().find("no-such-binary"), std::string::npos);
}

TEST_F(ProcessTest, OutputGoesToFile) {
  std::string out = dir_ + "/out";
  SpawnOptions o = Spawn({"/bin/sh", "-c", "echo hi; echo err >&2"}, out);
  o.new_session = true;
  ASSERT_OK_AND_ASSIGN(pid_t pid, SpawnProcess(o));
  ASSERT_OK(WaitForExit(pid, std::chrono::seconds(10)));
  EXPECT_EQ(TailFile(out, 10), "hi\nerr");
  EXPECT_EQ(TailFile(out, 1), "err");
  EXPECT_EQ(TailFile(dir_ + "/missing", 1), "");
}

TEST_F(ProcessTest, PortFileNeedsCompleteLine) {
  std::string path = dir_ + "/port";
  EXPECT_ERROR(ReadPortFile(path), proto::UNAVAILABLE);
  std::ofstream(path) << "127.0.0.1:12";
  EXPECT_ERROR(ReadPortFile(path), proto::UNAVAILABLE);
  std::ofstream(path) << "127.0.0.1:1234\n";
  ASSERT_OK_AND_ASSIGN(std::string addr, ReadPortFile(path));
  EXPECT_EQ(addr, "127.0.0.1:1234");
}

TEST_F(ProcessTest, FindDaemonBinaryOnPath) {
  ASSERT_OK_AND_ASSIGN(std::string sh, FindDaemonBinary("sh"));
  EXPECT_EQ(std::filesystem::path(sh).filename(), "sh");
  EXPECT_ERROR(FindDaemonBinary("granary-no-such-daemon"), proto::NOT_FOUND);
}

}  // namespace
}  // namespace granary::dev
