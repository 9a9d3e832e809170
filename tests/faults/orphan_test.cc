// Orphans: a replica on a chunk server that no metad record names (as a
// crash between a chunk's commit on the servers and its record in metad
// leaves) is found by metad's sweep and deleted, while every recorded
// replica stays.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/codec/block.h"
#include "common/net/rpc_client.h"
#include "tests/faults/fault_util.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

// Writes and commits one chunk straight to a chunk server, behind metad's back.
Status WriteStrayChunk(const std::string& address, uint64_t chunk_id) {
  const auto raw = RandomBytes(100000, chunk_id);
  auto block = std::make_shared<Buffer>(codec::MaxEncodedSize(raw.size()));
  ASSIGN_OR_RETURN(size_t n, codec::EncodeBlock(raw, {}, block->span()));
  auto piece = std::make_shared<const Buffer>(Buffer::CopyOf(block->span().first(n)));
  asio::io_context io;
  net::ConnectionPool pool(io.get_executor(), net::Millis(3000));
  auto call = [&]() -> net::Awaitable<Status> {
    proto::ChunkWriteRequest w;
    w.set_chunk_id(chunk_id);
    w.set_version(1);
    w.set_first_block(0);
    w.set_block_count(1);
    auto r = co_await pool.Call<proto::ChunkWriteResponse>(address, proto::CHUNK_WRITE, w,
                                                           net::Millis(5000), piece);
    if (!r.ok()) co_return r.status();
    proto::ChunkWriteRequest c;
    c.set_chunk_id(chunk_id);
    c.set_version(1);
    c.set_commit(true);
    c.set_total_blocks(1);
    c.set_total_stored(n);
    c.set_total_raw(raw.size());
    auto committed = co_await pool.Call<proto::ChunkWriteResponse>(address, proto::CHUNK_WRITE,
                                                                   c, net::Millis(5000));
    pool.CloseAll();
    co_return committed.status();
  };
  auto f = asio::co_spawn(io, call(), asio::use_future);
  io.run();
  return f.get();
}

TEST(Orphans, UnrecordedReplicaIsSweptRecordedOnesStay) {
  const std::string metad = std::string(kFastMetad) + "orphan_sweep_interval_ms = 300\n";
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3, .metad_config_toml = metad}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = MakeData(5 * kMiB, 51);
  ASSERT_OK(WriteFile(*client, "/kept", data));
  const uint64_t stray = 0x0eadbeef00000001ull;  // far from any id metad hands out
  ASSERT_OK(WriteStrayChunk(cluster->chunkd_address(1), stray));
  ASSERT_OK(client->StatReplica(cluster->chunkd_address(1), stray, 1).status());

  const auto t0 = FaultClock::now();
  bool gone = false;
  while (!gone && FaultClock::now() - t0 < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = client->StatReplica(cluster->chunkd_address(1), stray, 1);
    gone = !r.ok() && r.status().code() == proto::CHUNK_NOT_FOUND;
  }
  EXPECT_TRUE(gone) << "the orphan is still there";
  std::printf("[ timing ] orphan replica deleted %.2f s after it appeared\n",
              std::chrono::duration<double>(FaultClock::now() - t0).count());
  // Nothing recorded was touched.
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/kept"));
  for (const ChunkLocation& c : layout) {
    for (const ReplicaInfo& r : c.replicas) {
      EXPECT_OK(client->StatReplica(r.address, c.chunk_id, c.version).status());
    }
  }
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/kept"));
  EXPECT_TRUE(back == data);
}

}  // namespace
}  // namespace granary::testutil
