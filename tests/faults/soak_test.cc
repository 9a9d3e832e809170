// A randomized soak: writers, readers and chunk server kills and restarts
// for a bounded time, then every acknowledged file is checked byte for byte
// and every chunk must be back at three live replicas.
//
//   GRANARY_SOAK_SECONDS=600 build/bin/faults_test --gtest_filter='Soak.*'
//
// CI runs it for 15 s.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

using Clock = FaultClock;

std::vector<uint8_t> Contents(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    // Half random, half repeating: both codecs get used.
    const uint64_t x = (i / 4096) % 2 ? rng() : seed * 0x9E3779B97F4A7C15ull;
    std::memcpy(v.data() + i, &x, 8);
  }
  return v;
}

TEST(Soak, MixedLoadWithKills) {
  const char* env = std::getenv("GRANARY_SOAK_SECONDS");
  const int seconds = env ? std::atoi(env) : 15;
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      TestCluster::Start({.chunkservers = 5,
                          .metad_config_toml = "[metad]\nnode_timeout_ms = 1000\n"
                                               "heartbeat_interval_ms = 200\n"
                                               "repair_delay_ms = 1000\n"
                                               "repair_interval_ms = 200\n"
                                               // The orphan sweep runs all the
                                               // time: it must never take a
                                               // replica a record names.
                                               "orphan_sweep_interval_ms = 500\n"}));
  ClientOptions co;
  co.rpc_timeout = std::chrono::milliseconds(5000);
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect(co));
  std::mt19937_64 rng(std::random_device{}());
  const uint64_t run_seed = rng();
  std::printf("[ soak ] seed %llu, %d s\n", static_cast<unsigned long long>(run_seed), seconds);
  rng.seed(run_seed);

  struct File {
    size_t size;
    uint64_t seed;
  };
  std::map<std::string, File> acked;
  std::vector<int> down;
  int writes = 0, failed_writes = 0, reads = 0, kills = 0, restarts = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    const int action = static_cast<int>(rng() % 10);
    if (action < 4) {
      const std::string path = "/soak-" + std::to_string(writes++);
      const File f{1 + rng() % (12 * kMiB), rng()};
      CreateOptions o;
      o.chunk_size = 4 * kMiB;
      Status st = WriteFile(*client, path, Contents(f.size, f.seed), o);
      if (st.ok()) {
        acked[path] = f;
      } else {
        ++failed_writes;  // not acknowledged: allowed to be lost
      }
    } else if (action < 8 && !acked.empty()) {
      auto it = acked.begin();
      std::advance(it, rng() % acked.size());
      ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, it->first));
      ASSERT_TRUE(back == Contents(it->second.size, it->second.seed)) << it->first;
      ++reads;
    } else if (action == 8 && down.size() < 2) {
      const int victim = static_cast<int>(rng() % cluster->num_chunkservers());
      if (std::find(down.begin(), down.end(), victim) == down.end()) {
        ASSERT_OK(cluster->KillChunkd(victim));
        down.push_back(victim);
        ++kills;
      }
    } else if (!down.empty()) {
      ASSERT_OK(cluster->RestartChunkd(down.back()));
      down.pop_back();
      ++restarts;
    }
  }
  for (int i : down) ASSERT_OK(cluster->RestartChunkd(i));
  std::printf("[ soak ] %d writes (%d not acknowledged), %d reads, %d kills, %d restarts\n",
              writes, failed_writes, reads, kills, restarts);

  // Everything acknowledged is intact and fully replicated again.
  std::vector<std::string> paths;
  for (const auto& [path, f] : acked) paths.push_back(path);
  ASSERT_OK(WaitFullyReplicated(*client, paths, std::chrono::seconds(120)).status());
  for (const auto& [path, f] : acked) {
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, path));
    EXPECT_TRUE(back == Contents(f.size, f.seed)) << path;
  }
  EXPECT_FSCK_CLEAN(*cluster);
}

}  // namespace
}  // namespace granary::testutil
