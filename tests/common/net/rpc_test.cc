// RpcServer and RpcConnection over real loopback sockets.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/net/frame.h"
#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"
#include "tests/testutil/raw_socket.h"

namespace granary::net {
namespace {

// A server and client sharing an io_context run by two threads.
class RpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RpcServer>(io_.get_executor(), ServerOptions{});
    // PING echoes the request payload back, prefixed by nothing.
    server_->Add<proto::PingRequest, proto::PingResponse>(
        proto::PING, [](CallContext& ctx, const proto::PingRequest&,
                        proto::PingResponse* resp) -> Awaitable<Status> {
          resp->set_server("test");
          if (!ctx.payload.empty()) {
            ctx.reply_payload = std::make_shared<const Buffer>(std::move(ctx.payload));
          }
          co_return Status::Ok();
        });
    // CHUNK_STAT sleeps for chunk_id milliseconds, then answers.
    server_->Add<proto::ChunkStatRequest, proto::ChunkStatResponse>(
        proto::CHUNK_STAT, [](CallContext&, const proto::ChunkStatRequest& req,
                              proto::ChunkStatResponse* resp) -> Awaitable<Status> {
          asio::steady_timer t(co_await asio::this_coro::executor, Millis(req.chunk_id()));
          co_await t.async_wait(kUseTuple);
          resp->set_stored_length(req.chunk_id());
          co_return Status::Ok();
        });
    // CHUNK_DELETE fails with a storage error, CHUNK_LIST throws.
    server_->Add<proto::ChunkDeleteRequest, proto::ChunkDeleteResponse>(
        proto::CHUNK_DELETE,
        [](CallContext&, const proto::ChunkDeleteRequest&,
           proto::ChunkDeleteResponse*) -> Awaitable<Status> {
          co_return Status::ChunkNotFound("chunk 7 version 2 not here");
        });
    server_->Add<proto::ChunkListRequest, proto::ChunkListResponse>(
        proto::CHUNK_LIST,
        [](CallContext&, const proto::ChunkListRequest&,
           proto::ChunkListResponse*) -> Awaitable<Status> {
          throw std::runtime_error("boom");
          co_return Status::Ok();
        });
    // CHUNK_READ replies with a file payload: bytes [req.first_block(),
    // + req.block_count()) of file_fd_, sent with sendfile.
    server_->Add<proto::ChunkReadRequest, proto::ChunkReadResponse>(
        proto::CHUNK_READ, [this](CallContext& ctx, const proto::ChunkReadRequest& req,
                                  proto::ChunkReadResponse*) -> Awaitable<Status> {
          ctx.reply_file = FilePayload{nullptr, file_fd_, req.first_block(), req.block_count()};
          co_return Status::Ok();
        });
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    server_->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  template <class F>
  auto Run(F f) {
    return asio::co_spawn(io_, std::move(f), asio::use_future).get();
  }

  std::shared_ptr<RpcConnection> Connect() {
    auto c = Run([this]() { return RpcConnection::Connect(io_.get_executor(), address_, Millis(2000)); });
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  std::string RawExchange(const std::string& bytes) {
    return testutil::RawExchange(address_, bytes);
  }

  void ExpectServerAlive() {
    auto c = Connect();
    auto r = Run([&]() -> Awaitable<Result<proto::PingResponse>> {
      co_return co_await Call<proto::PingResponse>(*c, proto::PING, proto::PingRequest{}, Millis(2000));
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->server(), "test");
  }

  int file_fd_ = -1;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<RpcServer> server_;
  std::string address_;
};

TEST_F(RpcTest, ManyCallsInFlightOnOneConnection) {
  auto conn = Connect();
  constexpr int kCalls = 200;
  auto ok = Run([&]() -> Awaitable<int> {
    int good = 0;
    // Launch all calls, then await them: they are in flight together.
    std::vector<std::future<bool>> futures;
    for (int i = 0; i < kCalls; ++i) {
      futures.push_back(asio::co_spawn(
          io_,
          [&, i]() -> Awaitable<bool> {
            auto payload = std::make_shared<Buffer>(static_cast<size_t>(i * 997 % 300000));
            for (size_t k = 0; k < payload->size(); ++k) payload->data()[k] = uint8_t(k * 31 + i);
            Buffer back;
            auto r = co_await Call<proto::PingResponse>(*conn, proto::PING, proto::PingRequest{},
                                                        Millis(10000), payload, &back);
            co_return r.ok() && back.size() == payload->size() &&
                std::memcmp(back.data(), payload->data(), back.size()) == 0;
          },
          asio::use_future));
    }
    for (auto& f : futures) {
      // Poll without blocking the io threads this coroutine runs on.
      while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        asio::steady_timer t(io_, Millis(1));
        co_await t.async_wait(kUseTuple);
      }
      good += f.get() ? 1 : 0;
    }
    co_return good;
  });
  EXPECT_EQ(ok, kCalls);
}

TEST_F(RpcTest, FilePayloadsArriveIntact) {
  char path[] = "/tmp/granary-rpc-test-XXXXXX";
  file_fd_ = mkstemp(path);
  ASSERT_GE(file_fd_, 0);
  unlink(path);
  std::vector<uint8_t> data(5 << 20);  // more than a socket buffer holds
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7 + (i >> 13));
  ASSERT_EQ(pwrite(file_fd_, data.data(), data.size(), 0), ssize_t(data.size()));
  auto conn = Connect();
  for (auto [off, len] : {std::pair<uint32_t, uint32_t>{0, 5 << 20}, {12345, 3 << 20}, {7, 0}}) {
    Buffer got;
    auto r = Run([&]() -> Awaitable<Result<proto::ChunkReadResponse>> {
      proto::ChunkReadRequest req;
      req.set_first_block(off);
      req.set_block_count(len);
      co_return co_await Call<proto::ChunkReadResponse>(*conn, proto::CHUNK_READ, req,
                                                        Millis(10000), nullptr, &got);
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(got.size(), len);
    EXPECT_EQ(std::memcmp(got.data(), data.data() + off, len), 0) << "offset " << off;
  }
  close(file_fd_);
}

TEST_F(RpcTest, DeadlineReturnsTimeoutAndConnectionStaysUsable) {
  auto conn = Connect();
  auto slow = Run([&]() -> Awaitable<Result<proto::ChunkStatResponse>> {
    proto::ChunkStatRequest req;
    req.set_chunk_id(2000);  // server sleeps 2 s
    co_return co_await Call<proto::ChunkStatResponse>(*conn, proto::CHUNK_STAT, req, Millis(50));
  });
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), proto::TIMEOUT);
  EXPECT_TRUE(slow.status().retryable());
  auto fast = Run([&]() -> Awaitable<Result<proto::ChunkStatResponse>> {
    proto::ChunkStatRequest req;
    req.set_chunk_id(1);
    co_return co_await Call<proto::ChunkStatResponse>(*conn, proto::CHUNK_STAT, req, Millis(5000));
  });
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->stored_length(), 1u);
}

TEST_F(RpcTest, ErrorsTravelAsValues) {
  auto conn = Connect();
  auto r = Run([&]() -> Awaitable<Result<proto::ChunkDeleteResponse>> {
    co_return co_await Call<proto::ChunkDeleteResponse>(*conn, proto::CHUNK_DELETE,
                                                        proto::ChunkDeleteRequest{}, Millis(2000));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::CHUNK_NOT_FOUND);
  EXPECT_EQ(r.status().message(), "chunk 7 version 2 not here");
}

TEST_F(RpcTest, HandlerExceptionBecomesInternalError) {
  auto conn = Connect();
  auto r = Run([&]() -> Awaitable<Result<proto::ChunkListResponse>> {
    co_return co_await Call<proto::ChunkListResponse>(*conn, proto::CHUNK_LIST,
                                                      proto::ChunkListRequest{}, Millis(2000));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::INTERNAL);
  EXPECT_NE(r.status().message().find("boom"), std::string::npos);
  ExpectServerAlive();
}

TEST_F(RpcTest, UnknownMethodIsRefused) {
  auto conn = Connect();
  auto r = Run([&]() -> Awaitable<Result<RawReply>> {
    co_return co_await conn->CallRaw(static_cast<proto::Method>(4242), "", nullptr, Millis(2000));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::UNKNOWN_METHOD);
}

TEST_F(RpcTest, UnparsableMessageIsRefused) {
  auto conn = Connect();
  auto r = Run([&]() -> Awaitable<Result<RawReply>> {
    co_return co_await conn->CallRaw(proto::CHUNK_STAT, std::string("\xff\xff\xff\xff", 4), nullptr,
                                     Millis(2000));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::PROTOCOL_ERROR);
}

TEST_F(RpcTest, GarbageBytesGetAnErrorAndOnlyThatConnectionCloses) {
  auto conn = Connect();  // an innocent bystander
  std::string reply = RawExchange(std::string(100, 'x'));
  ASSERT_GE(reply.size(), kFrameHeaderSize);
  auto h = DecodeFrameHeader(reinterpret_cast<const uint8_t*>(reply.data()), FrameLimits{});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, static_cast<uint32_t>(proto::PROTOCOL_ERROR));
  std::string msg = reply.substr(kFrameHeaderSize, h->message_len);
  EXPECT_NE(msg.find("magic"), std::string::npos) << msg;
  EXPECT_TRUE(conn->healthy());
  ExpectServerAlive();
}

TEST_F(RpcTest, OversizedFrameIsRefusedBeforeAllocation) {
  FrameHeader h;
  h.kind = FrameKind::kRequest;
  h.method = proto::PING;
  h.request_id = 5;
  h.payload_len = 0xFFFFFFF0u;  // ~4 GiB
  uint8_t raw[kFrameHeaderSize];
  EncodeFrameHeader(h, raw);
  std::string reply = RawExchange(std::string(reinterpret_cast<char*>(raw), sizeof raw));
  ASSERT_GE(reply.size(), kFrameHeaderSize);
  auto rh = DecodeFrameHeader(reinterpret_cast<const uint8_t*>(reply.data()), FrameLimits{});
  ASSERT_TRUE(rh.ok());
  EXPECT_EQ(rh->status, static_cast<uint32_t>(proto::PROTOCOL_ERROR));
  ExpectServerAlive();
}

TEST_F(RpcTest, TruncatedFrameDoesNotHurtTheServer) {
  FrameHeader h;
  h.method = proto::PING;
  h.request_id = 9;
  h.message_len = 100;
  uint8_t raw[kFrameHeaderSize];
  EncodeFrameHeader(h, raw);
  std::string bytes(reinterpret_cast<char*>(raw), sizeof raw);
  bytes += "only ten b";
  std::string reply = RawExchange(bytes);
  EXPECT_TRUE(reply.empty());  // nothing to answer: the request never arrived whole
  ExpectServerAlive();
}

TEST_F(RpcTest, ServerShutdownFailsPendingCallsAsUnavailable) {
  auto conn = Connect();
  auto fut = asio::co_spawn(
      io_,
      [&]() -> Awaitable<Result<proto::ChunkStatResponse>> {
        proto::ChunkStatRequest req;
        req.set_chunk_id(3000);
        co_return co_await Call<proto::ChunkStatResponse>(*conn, proto::CHUNK_STAT, req,
                                                          Millis(20000));
      },
      asio::use_future);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server_->Stop();
  auto r = fut.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::UNAVAILABLE);
  EXPECT_FALSE(conn->healthy());
}

TEST_F(RpcTest, ConnectToClosedPortFails) {
  auto r = Run([this]() {
    return RpcConnection::Connect(io_.get_executor(), "127.0.0.1:1", Millis(2000));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::UNAVAILABLE);
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos);
}

TEST(SplitHostPort, ParsesAndRejects) {
  auto ok = SplitHostPort("10.0.0.1:7000");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "10.0.0.1");
  EXPECT_EQ(ok->second, 7000);
  EXPECT_FALSE(SplitHostPort("nohost").ok());
  EXPECT_FALSE(SplitHostPort("h:0").ok());
  EXPECT_FALSE(SplitHostPort("h:70000").ok());
  EXPECT_FALSE(SplitHostPort("h:12x").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
}

}  // namespace
}  // namespace granary::net
