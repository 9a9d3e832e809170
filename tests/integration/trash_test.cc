// The trash: with [metad] trash_ms set, a removed file keeps its data until
// it is restored, purged or expires.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

constexpr size_t kMiB = 1 << 20;

TEST(Trash, RemovedFileIsListedRestoredAndPurged) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3,
                                           .metad_config_toml = "[metad]\ntrash_ms = 3600000\n"}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(client->Mkdir("/d").status());
  const auto data = MakeData(2 * kMiB + 11, 5);
  ASSERT_OK(WriteFile(*client, "/d/model.bin", data));
  ASSERT_OK_AND_ASSIGN(auto info, client->Stat("/d/model.bin"));
  ASSERT_OK(client->Unlink("/d/model.bin"));
  EXPECT_FALSE(client->Stat("/d/model.bin").ok());

  ASSERT_OK_AND_ASSIGN(auto items, client->TrashList());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].inode, info.inode);
  EXPECT_EQ(items[0].name, "model.bin");
  EXPECT_EQ(items[0].size, data.size());
  EXPECT_GT(items[0].expires_ms, items[0].deleted_ms);

  // The old name is taken again: restoring there is refused, elsewhere works.
  ASSERT_OK(WriteFile(*client, "/d/model.bin", MakeData(100, 6)));
  auto clash = client->TrashRestore(info.inode, "");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), proto::ALREADY_EXISTS) << clash.status().ToString();
  ASSERT_OK(client->TrashRestore(info.inode, "/d/model-restored.bin").status());
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/d/model-restored.bin"));
  EXPECT_TRUE(back == data);
  ASSERT_OK_AND_ASSIGN(items, client->TrashList());
  EXPECT_TRUE(items.empty());

  // Removed again and purged: gone for good.
  ASSERT_OK(client->Unlink("/d/model-restored.bin"));
  ASSERT_OK_AND_ASSIGN(uint64_t purged, client->TrashPurge(info.inode, false));
  EXPECT_EQ(purged, 1u);
  ASSERT_OK_AND_ASSIGN(items, client->TrashList());
  EXPECT_TRUE(items.empty());
  auto gone = client->TrashRestore(info.inode, "");
  EXPECT_EQ(gone.status().code(), proto::NOT_FOUND);
}

TEST(Trash, ExpiredEntriesAreFreedByUpkeep) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3,
                                           .metad_config_toml = "[metad]\ntrash_ms = 300\n"}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(WriteFile(*client, "/short-lived", MakeData(kMiB, 7)));
  ASSERT_OK(client->Unlink("/short-lived"));
  // Upkeep runs every second: the entry expires after 0.3 s.
  std::vector<TrashItem> items;
  const auto t0 = std::chrono::steady_clock::now();
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_OK_AND_ASSIGN(items, client->TrashList());
  } while (!items.empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  EXPECT_TRUE(items.empty());
}

}  // namespace
}  // namespace granary::testutil
