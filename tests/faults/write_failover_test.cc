// Writes that lose a chain member: the writer replaces the chain (new chunk
// version) and resends the chunk from its buffer; the close succeeds and every
// byte reads back. Then repair brings every chunk back to three replicas.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

using Clock = FaultClock;

// Writes `data` in 1 MiB pieces, calling `midway` once half is written.
Status WriteWithFault(Client& c, const std::string& path, const std::vector<uint8_t>& data,
                      const std::function<void()>& midway) {
  CreateOptions o;
  o.chunk_size = 16 * kMiB;
  ASSIGN_OR_RETURN(auto w, c.Create(path, o));
  for (size_t off = 0; off < data.size(); off += kMiB) {
    if (off == data.size() / 2 / kMiB * kMiB) midway();
    RETURN_IF_ERROR(w->Write(ByteSpan(data.data() + off, std::min(kMiB, data.size() - off))));
  }
  return w->Close();
}

TEST(WriteFailover, KillNineDuringA300MiBWrite) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 4, .metad_config_toml = kFastMetad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = RandomBytes(300 * kMiB, 11);
  const auto t0 = Clock::now();
  ASSERT_OK(WriteWithFault(*client, "/big", data, [&] { ASSERT_OK(cluster->KillChunkd(0)); }));
  std::printf("[ timing ] 300 MiB written across a kill -9 in %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/big"));
  EXPECT_TRUE(back == data) << "contents differ";

  const auto t1 = Clock::now();
  ASSERT_OK(cluster->WaitForNodeState(0, /*up=*/false, std::chrono::seconds(20)));
  ASSERT_OK(WaitFullyReplicated(*client, {"/big"}, std::chrono::seconds(90)).status());
  std::printf("[ timing ] every chunk at 3 live replicas %.2f s after the write\n",
              std::chrono::duration<double>(Clock::now() - t1).count());
  EXPECT_FSCK_CLEAN(*cluster);
}

TEST(WriteFailover, StoppedServerDuringWritesAndReads) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 4, .metad_config_toml = kFastMetad}));
  ClientOptions co;
  co.rpc_timeout = std::chrono::milliseconds(3000);
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect(co));
  const auto before = RandomBytes(40 * kMiB, 12);
  ASSERT_OK(WriteFile(*client, "/before", before));
  // Alive but silent: SIGSTOP. Reads right away (before metad notices) move
  // to other replicas after the client's 3 s deadline; writes move to new
  // chains. Local reads off: every read goes to the chunk servers over TCP.
  ClientOptions tcp = co;
  tcp.local_reads = false;
  ASSERT_OK_AND_ASSIGN(auto reader, cluster->Connect(tcp));
  // Stop a server that holds /before.
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/before"));
  ASSERT_FALSE(layout.empty());
  int stopped = -1;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    if (cluster->chunkd_address(i) == layout[0].replicas[0].address) stopped = i;
  }
  ASSERT_GE(stopped, 0);
  ASSERT_OK(cluster->KillChunkd(stopped, SIGSTOP));
  auto t0 = Clock::now();
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*reader, "/before"));
  EXPECT_TRUE(back == before);
  const double read_s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(read_s, 20.0) << "reads waited far past the client's deadline";
  const auto data = RandomBytes(64 * kMiB, 13);
  t0 = Clock::now();
  ASSERT_OK(WriteWithFault(*reader, "/during", data, [] {}));
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_OK_AND_ASSIGN(auto back2, ReadFile(*reader, "/during"));
  EXPECT_TRUE(back2 == data);
  std::printf("[ timing ] one server stopped: 40 MiB read in %.2f s, 64 MiB written in %.2f s\n",
              read_s, write_s);
  ASSERT_OK(cluster->KillChunkd(stopped, SIGCONT));
  ASSERT_OK(WaitFullyReplicated(*client, {"/before", "/during"}, std::chrono::seconds(30)).status());
  EXPECT_FSCK_CLEAN(*cluster);
}

}  // namespace
}  // namespace granary::testutil
