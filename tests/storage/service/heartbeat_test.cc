// Heartbeater against a fake metad on a loopback socket.
#include "storage/service/heartbeat.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/net/rpc_server.h"
#include "storage/store/chunk_format.h"
#include "tests/storage/test_chunks.h"

namespace granary::storage::service {
namespace {

using storage::testing::TempDir;

// A metad that refuses the first registrations, then asks for one delete and
// one re-registration through its heartbeat replies.
struct FakeMeta {
  std::atomic<int> register_calls{0}, registered{0}, heartbeats{0};
  std::mutex mu;
  proto::NodeInfo last_node;  // guarded by mu
  store::ChunkKey to_delete;

  void Install(net::RpcServer& s) {
    s.Add<proto::RegisterNodeRequest, proto::RegisterNodeResponse>(
        proto::META_REGISTER_NODE,
        [this](net::CallContext&, const proto::RegisterNodeRequest& req,
               proto::RegisterNodeResponse* resp) -> net::Awaitable<Status> {
          if (++register_calls <= 2) co_return Status::Unavailable("metad is starting");
          {
            std::lock_guard lock(mu);
            last_node = req.node();
          }
          ++registered;
          resp->set_heartbeat_interval_ms(20);
          co_return Status::Ok();
        });
    s.Add<proto::HeartbeatRequest, proto::HeartbeatResponse>(
        proto::META_HEARTBEAT,
        [this](net::CallContext&, const proto::HeartbeatRequest& req,
               proto::HeartbeatResponse* resp) -> net::Awaitable<Status> {
          const int n = ++heartbeats;
          if (n == 2) {
            proto::ChunkRef* ref = resp->add_delete_chunks();
            ref->set_chunk_id(to_delete.chunk_id);
            ref->set_version(to_delete.version);
          }
          if (n == 4) resp->set_reregister(true);
          co_return Status::Ok();
        });
  }
};

template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(Heartbeater, RegistersRetriesDeletesAndReregisters) {
  TempDir dir;
  store::StoreOptions so;
  so.data_dirs = {dir.Sub("data")};
  so.min_free_bytes = 0;
  auto opened = store::ChunkStore::Open(so);
  ASSERT_OK(opened);
  store::ChunkStore& st = **opened;
  // One committed replica for metad to release.
  auto c = storage::testing::MakeChunk(1, 4096, 1);
  const store::ChunkKey key{0xdead, 1};
  auto layout = store::ValidatePiece(c.encoded, 0, 0, 1);
  ASSERT_OK(layout);
  ASSERT_OK(st.WritePiece(key, *layout, c.encoded));
  ASSERT_OK(st.Commit(key, {1, c.total_stored(), c.total_raw(), false}));

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  asio::thread_pool disk(1);
  FakeMeta meta;
  meta.to_delete = key;
  net::RpcServer server(io.get_executor(), net::ServerOptions{});
  meta.Install(server);
  ASSERT_OK(server.Start());
  net::ConnectionPool pool(io.get_executor(), net::Millis(2000));
  HeartbeatOptions ho;
  ho.meta_address = "127.0.0.1:" + std::to_string(server.port());
  ho.advertise_address = "127.0.0.1:7777";
  ho.failure_domain = "rack-9";
  ho.initial_backoff = net::Millis(10);
  Heartbeater hb(st, disk.get_executor(), pool, ho);
  std::thread runner([&] { io.run(); });
  auto done = asio::co_spawn(asio::make_strand(io), hb.Run(), asio::use_future);

  EXPECT_TRUE(WaitFor([&] { return meta.registered >= 2; }));
  EXPECT_GE(meta.register_calls, 4);
  EXPECT_GE(meta.heartbeats, 4);
  EXPECT_EQ(st.Stat(key).status().code(), proto::CHUNK_NOT_FOUND);  // deleted on request
  {
    std::lock_guard lock(meta.mu);
    EXPECT_EQ(meta.last_node.node_id(), st.node_id());
    EXPECT_EQ(meta.last_node.address(), "127.0.0.1:7777");
    EXPECT_EQ(meta.last_node.failure_domain(), "rack-9");
    EXPECT_GT(meta.last_node.capacity_bytes(), 0u);
  }
  EXPECT_TRUE(hb.registered());

  hb.Stop();
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  server.Stop();
  pool.CloseAll();
  io.stop();
  runner.join();
  disk.join();
}

TEST(Heartbeater, StopsWhileMetadIsDown) {
  TempDir dir;
  store::StoreOptions so;
  so.data_dirs = {dir.Sub("data")};
  so.min_free_bytes = 0;
  auto opened = store::ChunkStore::Open(so);
  ASSERT_OK(opened);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  asio::thread_pool disk(1);
  net::ConnectionPool pool(io.get_executor(), net::Millis(200));
  HeartbeatOptions ho;
  {
    // Nothing listens here: every registration fails fast.
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    ho.meta_address = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  }
  ho.initial_backoff = net::Millis(5);
  ho.max_backoff = net::Millis(20);
  Heartbeater hb(**opened, disk.get_executor(), pool, ho);
  std::thread runner([&] { io.run(); });
  auto done = asio::co_spawn(asio::make_strand(io), hb.Run(), asio::use_future);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(hb.registered());
  hb.Stop();
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  pool.CloseAll();
  io.stop();
  runner.join();
  disk.join();
}

}  // namespace
}  // namespace granary::storage::service
