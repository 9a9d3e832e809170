// The admin's everyday commands against a real cluster: quotas through the
// CLI (through a mount: tests/fuse), du, and --json output parsed back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testutil/cluster_suite.h"
#include "tests/tools/cli_test_util.h"

namespace granary::testutil {
namespace {

class AdminCliTest : public ClusterSuite {
 protected:
  static CommandResult Granary(std::vector<std::string> args) {
    args.insert(args.begin(), {"--meta", cluster_->meta_address()});
    return RunGranary(std::move(args), "", "");
  }
  // Runs with --json and parses stdout.
  static nlohmann::json Json(std::vector<std::string> args) {
    args.push_back("--json");
    CommandResult r = Granary(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }
};

TEST_F(AdminCliTest, QuotaThroughTheCli) {
  TempDir tmp;
  WriteLocal(tmp.path() + "/2m", RandomData(2 << 20, 1));
  WriteLocal(tmp.path() + "/5m", RandomData(5 << 20, 2));
  ASSERT_EQ(Granary({"mkdir", "/quota-cli"}).exit_code, 0);
  CommandResult set = Granary({"quota", "set", "/quota-cli", "--bytes", "4M", "--files", "10"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(Granary({"put", tmp.path() + "/2m", "/quota-cli/a"}).exit_code, 0);
  CommandResult over = Granary({"put", tmp.path() + "/5m", "/quota-cli/b"});
  EXPECT_NE(over.exit_code, 0);
  EXPECT_NE(over.err.find("quota"), std::string::npos) << over.err;

  nlohmann::json ls = Json({"quota", "ls"});
  ASSERT_TRUE(ls.is_array()) << ls;
  bool found = false;
  for (const auto& q : ls) {
    if (q["path"] != "/quota-cli") continue;
    found = true;
    EXPECT_EQ(q["max_bytes"], 4u << 20);
    EXPECT_EQ(q["used_bytes"], 2u << 20) << "the refused file left nothing counted";
    EXPECT_EQ(q["max_files"], 10u);
  }
  EXPECT_TRUE(found) << ls;
  EXPECT_EQ(Granary({"quota", "rm", "/quota-cli"}).exit_code, 0);
  EXPECT_EQ(Granary({"put", tmp.path() + "/5m", "/quota-cli/b"}).exit_code, 0)
      << "no limit once removed";
}

TEST_F(AdminCliTest, DuAndJsonOutputs) {
  TempDir tmp;
  WriteLocal(tmp.path() + "/t/big", RandomData(3 << 20, 3));
  WriteLocal(tmp.path() + "/t/sub/small", RandomData(1000, 4));
  ASSERT_EQ(Granary({"put", tmp.path() + "/t", "/du-tree"}).exit_code, 0);
  nlohmann::json du = Json({"du", "/du-tree"});
  EXPECT_EQ(du["bytes"], (3u << 20) + 1000);
  EXPECT_EQ(du["files"], 2u);
  EXPECT_EQ(du["folders"], 1u);
  EXPECT_EQ(du["replicated_bytes"], 3 * ((3u << 20) + 1000)) << "three replicas each";
  ASSERT_EQ(du["entries"].size(), 2u);
  EXPECT_EQ(du["entries"][0]["path"], "/du-tree/big") << "largest first";
  CommandResult text = Granary({"du", "/du-tree"});
  EXPECT_NE(text.out.find("/du-tree/sub"), std::string::npos) << text.out;

  nlohmann::json nodes = Json({"node", "ls"});
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_TRUE(nodes[0]["up"].get<bool>());
  nlohmann::json df = Json({"df"});
  EXPECT_EQ(df["nodes_up"], 3u);
  EXPECT_GT(df["capacity_bytes"].get<uint64_t>(), 0u);
  nlohmann::json status = Json({"cluster", "status"});
  EXPECT_EQ(status["nodes"].size(), 3u);
  EXPECT_TRUE(status["repair"].contains("under_replicated"));
}

}  // namespace
}  // namespace granary::testutil
