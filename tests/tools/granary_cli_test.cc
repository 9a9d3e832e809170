// Runs the real `granary` binary against a TestCluster.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "granary/safetensors.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"
#include "tests/tools/cli_test_util.h"

namespace granary::testutil {
namespace {

class GranaryCliTest : public ::testing::Test {
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

  // `granary --meta ADDR ARGS...`
  static CommandResult Granary(std::vector<std::string> args, std::string stdin_data = "") {
    args.insert(args.begin(), {"--meta", cluster_->meta_address()});
    return RunGranary(std::move(args), "", std::move(stdin_data));
  }

  static TestCluster* cluster_;
};

TestCluster* GranaryCliTest::cluster_ = nullptr;

#define EXPECT_EXIT_CODE(result, code) \
  EXPECT_EQ((result).exit_code, code) << "stdout:\n" << (result).out << "stderr:\n" << (result).err

TEST_F(GranaryCliTest, PutGetTreeRoundTrip) {
  TempDir tmp;
  std::string src = tmp.path() + "/tree";
  WriteLocal(src + "/weights.bin", RandomData(3 * 1024 * 1024 + 17, 1));
  WriteLocal(src + "/config.json", "{\"layers\": 2}\n");
  WriteLocal(src + "/sub/deeper/shard-0001", RandomData(100000, 2));
  WriteLocal(src + "/sub/empty-file", "");
  std::filesystem::create_directories(src + "/empty-dir");

  auto put = Granary({"put", "--jobs", "3", src, "/roundtrip"});
  EXPECT_EXIT_CODE(put, 0);
  EXPECT_NE(put.err.find("put: 4 files"), std::string::npos) << put.err;
  EXPECT_NE(put.err.find("MB/s"), std::string::npos) << put.err;

  auto get = Granary({"get", "/roundtrip", tmp.path() + "/back"});
  EXPECT_EXIT_CODE(get, 0);
  EXPECT_NE(get.err.find("get: 4 files"), std::string::npos) << get.err;
  EXPECT_EQ(ReadTree(src), ReadTree(tmp.path() + "/back"));

  // Into an existing folder the tree lands under its own name, like cp -r.
  std::filesystem::create_directories(tmp.path() + "/into");
  EXPECT_EXIT_CODE(Granary({"get", "/roundtrip", tmp.path() + "/into"}), 0);
  EXPECT_EQ(ReadTree(src), ReadTree(tmp.path() + "/into/roundtrip"));
}

TEST_F(GranaryCliTest, LsAndStat) {
  TempDir tmp;
  WriteLocal(tmp.path() + "/a.bin", RandomData(200000, 3));
  ASSERT_EQ(Granary({"mkdir", "-p", "/ls/sub"}).exit_code, 0);
  ASSERT_EQ(Granary({"put", tmp.path() + "/a.bin", "/ls/"}).exit_code, 0);

  auto ls = Granary({"ls", "/ls"});
  EXPECT_EXIT_CODE(ls, 0);
  EXPECT_EQ(ls.out, "a.bin\nsub/\n");

  auto ll = Granary({"ls", "-l", "--bytes", "/ls"});
  EXPECT_EXIT_CODE(ll, 0);
  EXPECT_NE(ll.out.find("200000"), std::string::npos) << ll.out;
  EXPECT_NE(ll.out.find("drwx"), std::string::npos) << ll.out;

  auto st = Granary({"stat", "/ls/a.bin"});
  EXPECT_EXIT_CODE(st, 0);
  EXPECT_NE(st.out.find("200000 bytes"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("chunks: 1"), std::string::npos) << st.out;
  // Replica addresses come from GetLayout.
  EXPECT_NE(st.out.find("127.0.0.1:"), std::string::npos) << st.out;

  auto dir = Granary({"stat", "/ls/sub"});
  EXPECT_EXIT_CODE(dir, 0);
  EXPECT_NE(dir.out.find("directory"), std::string::npos) << dir.out;
}

TEST_F(GranaryCliTest, RemoveRecursive) {
  ASSERT_EQ(Granary({"mkdir", "-p", "/rm/a/b"}).exit_code, 0);
  ASSERT_EQ(Granary({"put", "-", "/rm/a/b/f"}, "data").exit_code, 0);

  auto no_r = Granary({"rm", "/rm"});
  EXPECT_EXIT_CODE(no_r, 1);
  EXPECT_NE(no_r.err.find("granary: rm: IS_DIRECTORY"), std::string::npos) << no_r.err;

  EXPECT_EXIT_CODE(Granary({"rm", "-r", "/rm"}), 0);
  auto gone = Granary({"stat", "/rm"});
  EXPECT_EXIT_CODE(gone, 1);
  EXPECT_NE(gone.err.find("granary: stat: NOT_FOUND"), std::string::npos) << gone.err;
  EXPECT_EXIT_CODE(Granary({"rm", "-f", "/rm"}), 0);
}

TEST_F(GranaryCliTest, LoadOneTensorParallelRankAndVerifyIt) {
  TempDir tmp;
  const std::vector<TensorSpec> specs = {{"q.weight", Dtype::kBF16, {64, 96}},
                                         {"o.weight", Dtype::kF32, {96, 64}},
                                         {"norm", Dtype::kF32, {96}}};
  ASSERT_OK_AND_ASSIGN(std::string header, BuildSafetensorsHeader(specs));
  const std::string file = header + RandomData(64 * 96 * 2 + 96 * 64 * 4 + 96 * 4, 9);
  WriteLocal(tmp.path() + "/tp.safetensors", file);
  EXPECT_EXIT_CODE(Granary({"put", tmp.path() + "/tp.safetensors", "/tp.safetensors"}), 0);

  // --verify gathers the same slice from a plain read of the whole tensor.
  auto load = Granary({"load", "/tp.safetensors", "--shard", "1/4", "--split", "q.*=0",
                       "--split", "o.*=-1", "--verify"});
  EXPECT_EXIT_CODE(load, 0);
  EXPECT_NE(load.out.find("loaded 3 tensors"), std::string::npos) << load.out;
  EXPECT_NE(load.out.find("verified"), std::string::npos) << load.out;

  auto rank = Granary({"load", "/tp.safetensors", "--shard", "4/4", "--split", "q.*=0"});
  EXPECT_EXIT_CODE(rank, 1);
  EXPECT_NE(rank.err.find("--shard \"4/4\""), std::string::npos) << rank.err;
  auto trailing = Granary({"load", "/tp.safetensors", "--shard", "1/4x", "--split", "q.*=0"});
  EXPECT_EXIT_CODE(trailing, 1);
  EXPECT_NE(trailing.err.find("RANK/WORLD"), std::string::npos) << trailing.err;
  auto rule = Granary({"load", "/tp.safetensors", "--shard", "0/2", "--split", "q.weight"});
  EXPECT_EXIT_CODE(rule, 1);
  EXPECT_NE(rule.err.find("PATTERN=DIM"), std::string::npos) << rule.err;
  auto alone = Granary({"load", "/tp.safetensors", "--split", "q.*=0"});
  EXPECT_EXIT_CODE(alone, 1);
  EXPECT_NE(alone.err.find("--split needs --shard"), std::string::npos) << alone.err;
  auto uneven = Granary({"load", "/tp.safetensors", "--shard", "0/5", "--split", "norm=0"});
  EXPECT_EXIT_CODE(uneven, 1);
  EXPECT_NE(uneven.err.find("does not split into 5 equal parts"), std::string::npos) << uneven.err;
}

TEST_F(GranaryCliTest, WarmAFolderAndAFile) {
  TempDir tmp;
  WriteLocal(tmp.path() + "/w.bin", RandomData(3 << 20, 4));
  EXPECT_EXIT_CODE(Granary({"mkdir", "/warm"}), 0);
  EXPECT_EXIT_CODE(Granary({"put", tmp.path() + "/w.bin", "/warm/w.bin"}), 0);
  auto all = Granary({"warm", "/warm"});
  EXPECT_EXIT_CODE(all, 0);
  EXPECT_NE(all.out.find("warmed 3 replica(s) of 1 chunk(s) in 1 file(s)"), std::string::npos)
      << all.out;
  auto one = Granary({"--json", "warm", "/warm/w.bin", "--one-replica", "-j", "2"});
  EXPECT_EXIT_CODE(one, 0);
  EXPECT_NE(one.out.find("\"replicas\": 1"), std::string::npos) << one.out;
  auto missing = Granary({"warm", "/warm/nope"});
  EXPECT_EXIT_CODE(missing, 1);
  EXPECT_NE(missing.err.find("/warm/nope"), std::string::npos) << missing.err;
  EXPECT_EXIT_CODE(Granary({"warm", "/warm", "-j", "0"}), 2);
}

TEST_F(GranaryCliTest, MissingSourceIsAClearError) {
  TempDir tmp;
  auto put = Granary({"put", tmp.path() + "/does-not-exist", "/x"});
  EXPECT_EXIT_CODE(put, 1);
  EXPECT_EQ(put.err.rfind("granary: put: NOT_FOUND: ", 0), 0u) << put.err;
  EXPECT_NE(put.err.find("does-not-exist"), std::string::npos) << put.err;

  auto get = Granary({"get", "/does-not-exist", tmp.path() + "/x"});
  EXPECT_EXIT_CODE(get, 1);
  EXPECT_EQ(get.err.rfind("granary: get: NOT_FOUND", 0), 0u) << get.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/x"));

  // A trailing '/' names a folder, which must exist for a single file.
  WriteLocal(tmp.path() + "/f", "f");
  auto into_missing = Granary({"put", tmp.path() + "/f", "/no-such-folder/"});
  EXPECT_EXIT_CODE(into_missing, 1);
  EXPECT_NE(into_missing.err.find("does not exist"), std::string::npos) << into_missing.err;
}

TEST_F(GranaryCliTest, UsageErrorsExitTwo) {
  EXPECT_EXIT_CODE(RunGranary({"put"}), 2);
  auto unknown = RunGranary({"no-such-command"});
  EXPECT_EXIT_CODE(unknown, 2);
  EXPECT_NE(unknown.err.find("unknown command 'no-such-command'"), std::string::npos)
      << unknown.err;
  EXPECT_EXIT_CODE(RunGranary({"ls", "--no-such-flag"}), 2);
  auto help = RunGranary({"put", "--help"});
  EXPECT_EXIT_CODE(help, 0);
  EXPECT_NE(help.out.find("--no-fsync"), std::string::npos) << help.out;
}

TEST_F(GranaryCliTest, StdinStdoutAndCat) {
  std::string data = RandomData(5 * 1024 * 1024 + 3, 4);
  EXPECT_EXIT_CODE(Granary({"put", "--no-fsync", "--replicas", "2", "-", "/stdin.bin"}, data), 0);
  auto get = Granary({"get", "/stdin.bin", "-"});
  EXPECT_EXIT_CODE(get, 0);
  EXPECT_TRUE(get.out == data) << "stdout differs, " << get.out.size() << " bytes";
  auto cat = Granary({"cat", "/stdin.bin"});
  EXPECT_EXIT_CODE(cat, 0);
  EXPECT_TRUE(cat.out == data);
  auto st = Granary({"stat", "/stdin.bin"});
  EXPECT_NE(st.out.find("replicas: 2"), std::string::npos) << st.out;
}

// A destination that is not a regular file (/dev/null, a FIFO) is written
// to, never replaced by a renamed temporary file.
TEST_F(GranaryCliTest, GetIntoAFifoWritesThroughIt) {
  std::string data = RandomData(3 * 1024 * 1024 + 1, 5);
  EXPECT_EXIT_CODE(Granary({"put", "--no-fsync", "-", "/fifo.bin"}, data), 0);
  TempDir tmp;
  const std::string fifo = tmp.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    got.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  auto get = Granary({"get", "/fifo.bin", fifo});
  reader.join();
  EXPECT_EXIT_CODE(get, 0);
  EXPECT_TRUE(got == data) << got.size() << " bytes came through the FIFO";
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
}

TEST_F(GranaryCliTest, MkdirMvSetattrDfClusterStatus) {
  EXPECT_EXIT_CODE(Granary({"mkdir", "/mv"}), 0);
  EXPECT_EXIT_CODE(Granary({"mkdir", "/mv"}), 1);        // exists
  EXPECT_EXIT_CODE(Granary({"mkdir", "-p", "/mv"}), 0);  // -p: fine
  ASSERT_EQ(Granary({"put", "-", "/mv/f"}, "x").exit_code, 0);
  EXPECT_EXIT_CODE(Granary({"mkdir", "/mv/dest"}), 0);
  EXPECT_EXIT_CODE(Granary({"mv", "/mv/f", "/mv/dest"}), 0);  // into the folder
  EXPECT_EQ(Granary({"cat", "/mv/dest/f"}).out, "x");

  auto set = Granary({"setattr", "/mv/dest", "--replicas", "2", "--chunk-size", "8M"});
  EXPECT_EXIT_CODE(set, 0);
  EXPECT_NE(set.out.find("replicas 2"), std::string::npos) << set.out;

  auto df = Granary({"df"});
  EXPECT_EXIT_CODE(df, 0);
  EXPECT_NE(df.out.find("3/3 up"), std::string::npos) << df.out;

  auto cs = Granary({"cluster", "status"});
  EXPECT_EXIT_CODE(cs, 0);
  EXPECT_NE(cs.out.find(cluster_->chunkd_address(0)), std::string::npos) << cs.out;
  EXPECT_NE(cs.out.find("3/3 up"), std::string::npos) << cs.out;
}

TEST(GranaryCliNoCluster, TellsWhatToDo) {
  TempDir tmp;  // no ./granary-dev here, no GRANARY_META
  auto r = RunGranary({"ls", "/"}, tmp.path());
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_NE(r.err.find("granary dev up"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GRANARY_META"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace granary::testutil
