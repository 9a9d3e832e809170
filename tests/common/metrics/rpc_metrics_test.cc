// RpcMetrics fed by a real RpcServer over loopback: every call is counted by
// method and code, with bytes and latency; malformed frames and unknown
// method numbers do not add series.
#include "common/metrics/rpc_metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/metrics/text_format.h"
#include "common/net/rpc_client.h"
#include "tests/testutil/raw_socket.h"
#include "tests/testutil/status_matchers.h"

namespace granary::metrics {
namespace {

using net::Awaitable;
using net::Millis;

class RpcMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::ServerOptions opts;
    opts.observer = std::make_shared<RpcMetrics>(registry_);
    server_ = std::make_unique<net::RpcServer>(io_.get_executor(), opts);
    AddConnectionGauge(registry_, *server_);
    // PING echoes its payload; CHUNK_DELETE always fails.
    server_->Add<proto::PingRequest, proto::PingResponse>(
        proto::PING, [](net::CallContext& ctx, const proto::PingRequest&,
                        proto::PingResponse* resp) -> Awaitable<Status> {
          resp->set_server("test");
          ctx.reply_payload = std::make_shared<const Buffer>(std::move(ctx.payload));
          co_return Status::Ok();
        });
    server_->Add<proto::ChunkDeleteRequest, proto::ChunkDeleteResponse>(
        proto::CHUNK_DELETE, [](net::CallContext&, const proto::ChunkDeleteRequest&,
                                proto::ChunkDeleteResponse*) -> Awaitable<Status> {
          co_return Status::ChunkNotFound("not here");
        });
    ASSERT_OK(server_->Start());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    server_->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Calls `method` with a payload of `payload_bytes`; returns the code.
  proto::ErrorCode CallOnce(net::RpcConnection& c, proto::Method method, size_t payload_bytes) {
    auto payload = std::make_shared<Buffer>(payload_bytes);
    std::memset(payload->data(), 7, payload_bytes);
    auto r = asio::co_spawn(
                 io_,
                 [&]() -> Awaitable<Result<proto::PingResponse>> {
                   co_return co_await net::Call<proto::PingResponse>(
                       c, method, proto::PingRequest{}, Millis(2000), payload);
                 },
                 asio::use_future)
                 .get();
    return r.ok() ? proto::OK : r.status().code();
  }

  std::vector<Sample> Scrape() {
    auto s = ParseText(registry_.Render());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : std::vector<Sample>{};
  }

  Registry registry_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<net::RpcServer> server_;
  std::string address_;
};

TEST_F(RpcMetricsTest, CountsCallsBytesLatencyAndConnections) {
  auto conn = asio::co_spawn(io_, net::RpcConnection::Connect(io_.get_executor(), address_,
                                                              Millis(2000)),
                             asio::use_future)
                  .get();
  ASSERT_OK(conn.status());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(CallOnce(**conn, proto::PING, 1000), proto::OK);
  EXPECT_EQ(CallOnce(**conn, proto::CHUNK_DELETE, 0), proto::CHUNK_NOT_FOUND);
  EXPECT_EQ(CallOnce(**conn, static_cast<proto::Method>(60000), 0), proto::UNKNOWN_METHOD);
  EXPECT_EQ(CallOnce(**conn, static_cast<proto::Method>(60001), 0), proto::UNKNOWN_METHOD);

  std::vector<Sample> s = Scrape();
  EXPECT_EQ(FindSample(s, "granary_rpc_requests_total", {{"method", "PING"}, {"code", "OK"}}), 5);
  EXPECT_EQ(FindSample(s, "granary_rpc_requests_total",
                       {{"method", "CHUNK_DELETE"}, {"code", "CHUNK_NOT_FOUND"}}),
            1);
  // Both unknown method numbers share one series.
  EXPECT_EQ(FindSample(s, "granary_rpc_requests_total",
                       {{"method", "unknown"}, {"code", "UNKNOWN_METHOD"}}),
            2);
  EXPECT_EQ(FindSample(s, "granary_rpc_errors_total", {{"method", "PING"}}), 0);
  EXPECT_EQ(FindSample(s, "granary_rpc_errors_total", {{"method", "unknown"}}), 2);
  // Each PING carries 1000 payload bytes each way, plus its messages.
  EXPECT_GE(*FindSample(s, "granary_rpc_request_bytes_total", {{"method", "PING"}}), 5000);
  EXPECT_GE(*FindSample(s, "granary_rpc_response_bytes_total", {{"method", "PING"}}), 5000);
  EXPECT_EQ(FindSample(s, "granary_rpc_request_duration_seconds_count", {{"method", "PING"}}), 5);
  EXPECT_EQ(FindSample(s, "granary_rpc_request_duration_seconds_bucket",
                       {{"method", "PING"}, {"le", "+Inf"}}),
            5);
  EXPECT_EQ(FindSample(s, "granary_rpc_connections"), 1);
  EXPECT_EQ(FindSample(s, "granary_rpc_protocol_errors_total"), 0);
}

TEST_F(RpcMetricsTest, MalformedFrameCountsAsProtocolError) {
  testutil::RawExchange(address_, std::string(64, 'x'));  // not a frame header
  // The server counts it before it closes the connection, which RawExchange
  // waited for.
  std::vector<Sample> s = Scrape();
  EXPECT_EQ(FindSample(s, "granary_rpc_protocol_errors_total"), 1);
  EXPECT_FALSE(FindSample(s, "granary_rpc_requests_total").has_value());
}

}  // namespace
}  // namespace granary::metrics
