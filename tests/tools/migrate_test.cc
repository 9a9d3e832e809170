// granary migrate against real clusters: local -> cluster -> local round
// trips, cluster -> cluster, a run killed with SIGKILL and resumed, dry runs,
// and the errors for a missing source, an unreachable cluster, a file where a
// folder is needed and a corrupt source file.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"
#include "tests/tools/cli_test_util.h"
#include "tools/dev/process.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

#define EXPECT_EXIT_CODE(result, code) \
  EXPECT_EQ((result).exit_code, code) << "stdout:\n" << (result).out << "stderr:\n" << (result).err

class MigrateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = TestCluster::Start();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (cluster_ == nullptr) GTEST_SKIP() << "cluster did not start";
  }

  static CommandResult Granary(std::vector<std::string> args) {
    args.insert(args.begin(), {"--meta", cluster_->meta_address()});
    return RunGranary(std::move(args));
  }

  // A tree with nested folders, empty files and folders, a multi-MiB file,
  // a symlink, an unusual mode and an mtime with nanoseconds.
  static void MakeTree(const std::string& root) {
    WriteLocal(root + "/weights.bin", RandomData(5 * 1024 * 1024 + 13, 1));
    WriteLocal(root + "/config.json", "{\"layers\": 2}\n");
    WriteLocal(root + "/sub/deeper/shard-0001", RandomData(100000, 2));
    WriteLocal(root + "/sub/empty-file", "");
    fs::create_directories(root + "/empty-dir");
    fs::create_symlink("sub/deeper/shard-0001", root + "/link");
    chmod((root + "/config.json").c_str(), 0640);
    struct timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 123456789}};
    utimensat(AT_FDCWD, (root + "/sub/deeper/shard-0001").c_str(), times, 0);
  }

  // Contents, plus what migrate promises to keep: mode, mtime, link targets.
  static void ExpectSameTree(const std::string& a, const std::string& b) {
    EXPECT_EQ(ReadTree(a), ReadTree(b));
    for (const auto& e : fs::recursive_directory_iterator(a)) {
      std::string rel = e.path().lexically_relative(a).string();
      struct stat sa {}, sb {};
      ASSERT_EQ(lstat(e.path().c_str(), &sa), 0);
      ASSERT_EQ(lstat((b + "/" + rel).c_str(), &sb), 0) << rel;
      EXPECT_EQ(sa.st_mode, sb.st_mode) << rel;
      if (S_ISLNK(sa.st_mode)) {
        EXPECT_EQ(fs::read_symlink(e.path()), fs::read_symlink(b + "/" + rel)) << rel;
        continue;
      }
      EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) << rel;
      EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) << rel;
    }
  }

  static TestCluster* cluster_;
};

TestCluster* MigrateTest::cluster_ = nullptr;

TEST_F(MigrateTest, LocalToClusterToLocalRoundTrip) {
  TempDir tmp;
  std::string src = tmp.path() + "/tree";
  MakeTree(src);

  auto up = Granary({"migrate", "--jobs", "3", src, "granary:/roundtrip"});
  EXPECT_EXIT_CODE(up, 0);
  EXPECT_NE(up.err.find("5 copied, 0 skipped, 0 failed"), std::string::npos) << up.err;

  auto down = Granary({"migrate", "granary:///roundtrip", tmp.path() + "/back"});
  EXPECT_EXIT_CODE(down, 0);
  ExpectSameTree(src, tmp.path() + "/back");

  // Everything is in place: a rerun skips every file, by size and mtime and
  // by checksum.
  auto again = Granary({"migrate", src, "granary:/roundtrip"});
  EXPECT_EXIT_CODE(again, 0);
  EXPECT_NE(again.err.find("0 copied, 5 skipped, 0 failed"), std::string::npos) << again.err;
  auto by_sum = Granary({"migrate", "--checksum", "granary:/roundtrip", tmp.path() + "/back"});
  EXPECT_EXIT_CODE(by_sum, 0);
  EXPECT_NE(by_sum.err.find("0 copied, 5 skipped"), std::string::npos) << by_sum.err;

  // A single file into an existing folder lands under its own name.
  auto one = Granary({"migrate", src + "/config.json", "granary:/roundtrip/sub/"});
  EXPECT_EXIT_CODE(one, 0);
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  ASSERT_OK_AND_ASSIGN(FileInfo info, client->Stat("/roundtrip/sub/config.json"));
  EXPECT_EQ(info.mode & 0777u, 0640u);
}

TEST_F(MigrateTest, ClusterToCluster) {
  ASSERT_OK_AND_ASSIGN(auto other, TestCluster::Start());
  TempDir tmp;
  std::string src = tmp.path() + "/tree";
  MakeTree(src);
  EXPECT_EXIT_CODE(Granary({"migrate", src, "granary:/c2c"}), 0);

  std::string remote = "granary://" + other->meta_address() + "/c2c-copy";
  auto across = Granary({"migrate", "granary:/c2c", remote});
  EXPECT_EXIT_CODE(across, 0);
  EXPECT_NE(across.err.find("5 copied, 0 skipped, 0 failed"), std::string::npos) << across.err;

  // Read it back from the second cluster only.
  auto back = RunGranary({"--meta", other->meta_address(), "migrate", "granary:/c2c-copy",
                          tmp.path() + "/back"});
  EXPECT_EXIT_CODE(back, 0);
  ExpectSameTree(src, tmp.path() + "/back");

  auto again = Granary({"migrate", "--checksum", "granary:/c2c", remote});
  EXPECT_EXIT_CODE(again, 0);
  EXPECT_NE(again.err.find("0 copied, 5 skipped"), std::string::npos) << again.err;
}

// Counts complete (non-temporary) files in a cluster folder.
size_t CompleteFiles(Client& client, const std::string& dir) {
  auto entries = client.ReadDir(dir);
  if (!entries.ok()) return 0;
  size_t n = 0;
  for (const DirEntryInfo& e : *entries) {
    if (e.info.type == FileType::kFile && e.name.find(".granary-migrate.") == std::string::npos) ++n;
  }
  return n;
}

TEST_F(MigrateTest, KilledRunResumes) {
  TempDir tmp;
  std::string src = tmp.path() + "/many";
  constexpr int kFiles = 30;
  for (int i = 0; i < kFiles; ++i) {
    WriteLocal(src + "/file-" + std::to_string(i), RandomData(96 * 1024 + i, 100 + i));
  }
  // About 6 s at 512 KiB/s: long enough to be killed in the middle.
  ASSERT_OK_AND_ASSIGN(
      pid_t pid, dev::SpawnProcess({.argv = {GranaryBinary(), "--meta", cluster_->meta_address(),
                                             "migrate", "--jobs", "2", "--bwlimit", "512K", src,
                                             "granary:/resume"},
                                    .output_file = tmp.path() + "/first.log",
                                    .die_with_parent = true}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CompleteFiles(*client, "/resume") < 5 && dev::ProcessAlive(pid) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  size_t done_before = CompleteFiles(*client, "/resume");
  ASSERT_GE(done_before, 5u) << dev::TailFile(tmp.path() + "/first.log", 20);
  (void)dev::SignalProcess(pid, GranaryBinary(), SIGKILL);
  ASSERT_OK(dev::WaitForExit(pid, std::chrono::seconds(10)));

  auto rerun = Granary({"migrate", src, "granary:/resume"});
  EXPECT_EXIT_CODE(rerun, 0);
  // The files complete before the kill are skipped, not copied again.
  size_t skipped = 0;
  size_t at = rerun.err.find(" skipped");
  ASSERT_NE(at, std::string::npos) << rerun.err;
  size_t start = rerun.err.rfind(' ', at - 1);
  skipped = std::stoul(rerun.err.substr(start + 1, at - start - 1));
  EXPECT_GE(skipped, done_before) << rerun.err;
  EXPECT_LT(skipped, static_cast<size_t>(kFiles)) << rerun.err;

  // No temporary file of the killed run is left, and every file is whole.
  ASSERT_OK_AND_ASSIGN(auto entries, client->ReadDir("/resume"));
  EXPECT_EQ(entries.size(), static_cast<size_t>(kFiles));
  EXPECT_EXIT_CODE(Granary({"migrate", "granary:/resume", tmp.path() + "/back"}), 0);
  EXPECT_EQ(ReadTree(src), ReadTree(tmp.path() + "/back"));
}

TEST_F(MigrateTest, DryRunChangesNothing) {
  TempDir tmp;
  std::string src = tmp.path() + "/tree";
  MakeTree(src);
  auto dry = Granary({"migrate", "--dry-run", src, "granary:/dry"});
  EXPECT_EXIT_CODE(dry, 0);
  EXPECT_NE(dry.out.find("copy weights.bin\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("copy link -> sub/deeper/shard-0001\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.err.find("5 copied"), std::string::npos) << dry.err;
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  EXPECT_EQ(client->Stat("/dry").status().code(), proto::NOT_FOUND);

  // After a real copy and a change to one file, a dry run lists that file
  // alone as a copy and leaves the cluster's version as it was.
  EXPECT_EXIT_CODE(Granary({"migrate", src, "granary:/dry"}), 0);
  WriteLocal(src + "/config.json", "{\"layers\": 3, \"changed\": true}\n");
  dry = Granary({"migrate", "-n", src, "granary:/dry"});
  EXPECT_EXIT_CODE(dry, 0);
  EXPECT_NE(dry.out.find("copy config.json\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("skip weights.bin\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.err.find("1 copied, 4 skipped"), std::string::npos) << dry.err;
  auto cat = Granary({"cat", "/dry/config.json"});
  EXPECT_EQ(cat.out, "{\"layers\": 2}\n");
}

TEST_F(MigrateTest, DeleteRemovesWhatTheSourceLacks) {
  TempDir tmp;
  std::string src = tmp.path() + "/tree";
  MakeTree(src);
  EXPECT_EXIT_CODE(Granary({"migrate", src, "granary:/del"}), 0);
  WriteLocal(tmp.path() + "/extra/extra.txt", "extra");
  WriteLocal(tmp.path() + "/extra/extra-dir/inner/x", RandomData(70000, 9));
  EXPECT_EXIT_CODE(Granary({"migrate", tmp.path() + "/extra", "granary:/del/sub"}), 0);

  // Without --delete the extra names stay; a dry run lists them and keeps them.
  auto dry = Granary({"migrate", "--delete", "--dry-run", src, "granary:/del"});
  EXPECT_EXIT_CODE(dry, 0);
  EXPECT_NE(dry.out.find("delete sub/extra.txt\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("delete sub/extra-dir/\n"), std::string::npos) << dry.out;
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  EXPECT_OK(client->Stat("/del/sub/extra-dir/inner/x").status());

  auto del = Granary({"migrate", "--delete", src, "granary:/del"});
  EXPECT_EXIT_CODE(del, 0);
  EXPECT_NE(del.err.find("0 copied, 5 skipped, 0 failed, 2 deleted"), std::string::npos)
      << del.err;
  EXPECT_EQ(client->Stat("/del/sub/extra.txt").status().code(), proto::NOT_FOUND);
  EXPECT_EQ(client->Stat("/del/sub/extra-dir").status().code(), proto::NOT_FOUND);
  EXPECT_EXIT_CODE(Granary({"migrate", "granary:/del", tmp.path() + "/back"}), 0);
  ExpectSameTree(src, tmp.path() + "/back");
}

TEST_F(MigrateTest, ClearErrors) {
  TempDir tmp;
  auto missing = Granary({"migrate", tmp.path() + "/nope", "granary:/x"});
  EXPECT_EXIT_CODE(missing, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND: source " + tmp.path() + "/nope does not exist"),
            std::string::npos)
      << missing.err;

  auto missing_remote = Granary({"migrate", "granary:/no/such", tmp.path() + "/x"});
  EXPECT_EXIT_CODE(missing_remote, 1);
  EXPECT_NE(missing_remote.err.find("/no/such"), std::string::npos) << missing_remote.err;

  // Port 1 on loopback: nothing listens there.
  auto unreachable = Granary({"migrate", tmp.path(), "granary://127.0.0.1:1/x"});
  EXPECT_EXIT_CODE(unreachable, 1);
  EXPECT_NE(unreachable.err.find("cannot reach cluster granary://127.0.0.1:1"), std::string::npos)
      << unreachable.err;

  auto bad_url = Granary({"migrate", tmp.path(), "granary://nohost/x"});
  EXPECT_EXIT_CODE(bad_url, 1);
  EXPECT_NE(bad_url.err.find("INVALID_ARGUMENT"), std::string::npos) << bad_url.err;

  // A file where the destination folder should be.
  WriteLocal(tmp.path() + "/tree/a", "a");
  EXPECT_EXIT_CODE(Granary({"migrate", tmp.path() + "/tree/a", "granary:/plainfile"}), 0);
  auto not_dir = Granary({"migrate", tmp.path() + "/tree", "granary:/plainfile"});
  EXPECT_EXIT_CODE(not_dir, 1);
  EXPECT_NE(not_dir.err.find("NOT_DIRECTORY"), std::string::npos) << not_dir.err;
  EXPECT_NE(not_dir.err.find("/plainfile"), std::string::npos) << not_dir.err;
}

TEST_F(MigrateTest, CorruptSourceFailsThatFileOnly) {
  TempDir tmp;
  // Over 64 KiB so that the data lives in chunks on the chunk servers.
  WriteLocal(tmp.path() + "/src/good.bin", RandomData(200000, 7));
  WriteLocal(tmp.path() + "/src/bad.bin", RandomData(200000, 8));
  EXPECT_EXIT_CODE(Granary({"migrate", tmp.path() + "/src", "granary:/corrupt"}), 0);

  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/corrupt/bad.bin"));
  ASSERT_FALSE(layout.empty());
  // Damage every replica, so no failover can save the read.
  for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
    std::string file = cluster_->ReplicaPath(i, layout[0].chunk_id, layout[0].version);
    if (fs::exists(file)) {
      ASSERT_OK(FlipByte(file, 5000, 0x5a));
    }
  }
  auto r = Granary({"migrate", "granary:/corrupt", tmp.path() + "/out"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_NE(r.err.find("FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/corrupt/bad.bin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 copied, 0 skipped, 1 failed"), std::string::npos) << r.err;
  // The good file was copied; the bad one left nothing under its name.
  EXPECT_EQ(ReadTree(tmp.path() + "/out").count("good.bin"), 1u);
  EXPECT_FALSE(fs::exists(tmp.path() + "/out/bad.bin"));
}

}  // namespace
}  // namespace granary::testutil
