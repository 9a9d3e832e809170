// Cluster key authentication over real loopback sockets: the handshake,
// refusals with clear errors, roles, and frames altered or replayed on the
// wire by a proxy in the middle.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "common/endian.h"
#include "common/net/cluster_key.h"
#include "common/net/hmac.h"
#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"

namespace granary::net {
namespace {

std::shared_ptr<const ClusterKey> Key(std::string id, KeyRole role, char fill) {
  return std::make_shared<const ClusterKey>(ClusterKey{std::move(id), role, std::string(32, fill)});
}

// Forwards one connection to `upstream`; frames from the client pass through
// `mutate(index, bytes)`, which returns what to forward instead. Frames from
// index 2 on (after AUTH_HELLO and AUTH_PROVE) carry a 32-byte tag.
class TamperProxy {
 public:
  using Mutate = std::function<std::string(int, std::string)>;
  TamperProxy(uint16_t upstream, Mutate mutate)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
        client_(io_),
        server_(io_),
        mutate_(std::move(mutate)) {
    thread_ = std::thread([this, upstream] { Run(upstream); });
  }
  ~TamperProxy() {
    asio::error_code ec;
    ::shutdown(client_.native_handle(), SHUT_RDWR);
    ::shutdown(server_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    thread_.join();
  }
  std::string address() {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  void Run(uint16_t upstream) {
    asio::error_code ec;
    acceptor_.accept(client_, ec);
    if (ec) return;
    server_.connect({asio::ip::make_address("127.0.0.1"), upstream}, ec);
    if (ec) return;
    std::thread back([this] {
      char buf[65536];
      asio::error_code e;
      while (true) {
        size_t n = server_.read_some(asio::buffer(buf), e);
        if (e || !asio::write(client_, asio::buffer(buf, n), e) || e) break;
      }
      ::shutdown(client_.native_handle(), SHUT_RDWR);
    });
    for (int index = 0;; ++index) {
      std::string frame(kFrameHeaderSize, '\0');
      if (asio::read(client_, asio::buffer(frame), ec) != frame.size() || ec) break;
      auto* h = reinterpret_cast<const uint8_t*>(frame.data());
      size_t body = size_t{GetU32(h + 20)} + GetU32(h + 24) + (index >= 2 ? kMacBytes : 0);
      frame.resize(kFrameHeaderSize + body);
      if (asio::read(client_, asio::buffer(frame.data() + kFrameHeaderSize, body), ec) != body) break;
      std::string out = mutate_(index, std::move(frame));
      if (!asio::write(server_, asio::buffer(out), ec) || ec) break;
    }
    ::shutdown(server_.native_handle(), SHUT_RDWR);
    back.join();
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket client_;
  asio::ip::tcp::socket server_;
  Mutate mutate_;
  std::thread thread_;
};

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = KeyRing::Parse(
        "daemons cluster " + std::string(64, 'c') + "\n" +
        "writer rw " + std::string(64, 'd') + "\n" +
        "reader ro " + std::string(64, 'e') + "\n", "test");
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    ServerOptions o;
    o.keys = std::make_shared<const KeyRing>(std::move(*ring));
    o.handshake_timeout = Millis(500);
    server_ = Serve(o);
    plain_ = Serve(ServerOptions{});
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  std::unique_ptr<RpcServer> Serve(ServerOptions o) {
    auto s = std::make_unique<RpcServer>(io_.get_executor(), o);
    // PING echoes the payload; CHUNK_WRITE counts; CHUNK_READ sends a file.
    s->Add<proto::PingRequest, proto::PingResponse>(
        proto::PING, [](CallContext& ctx, const proto::PingRequest&,
                        proto::PingResponse* resp) -> Awaitable<Status> {
          resp->set_server("test");
          ctx.reply_payload = std::make_shared<const Buffer>(std::move(ctx.payload));
          co_return Status::Ok();
        });
    s->Add<proto::ChunkWriteRequest, proto::ChunkWriteResponse>(
        proto::CHUNK_WRITE, [this](CallContext&, const proto::ChunkWriteRequest&,
                                   proto::ChunkWriteResponse*) -> Awaitable<Status> {
          ++writes_;
          co_return Status::Ok();
        });
    s->Add<proto::ChunkReadRequest, proto::ChunkReadResponse>(
        proto::CHUNK_READ, [this](CallContext& ctx, const proto::ChunkReadRequest& req,
                                  proto::ChunkReadResponse*) -> Awaitable<Status> {
          ctx.reply_file = FilePayload{nullptr, file_fd_, 0, req.block_count()};
          co_return Status::Ok();
        });
    EXPECT_TRUE(s->Start().ok());
    return s;
  }

  void TearDown() override {
    server_->Stop();
    plain_->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    if (file_fd_ >= 0) ::close(file_fd_);
  }

  template <class F>
  auto Run(F f) {
    return asio::co_spawn(io_, std::move(f), asio::use_future).get();
  }

  Result<std::shared_ptr<RpcConnection>> Connect(std::shared_ptr<const ClusterKey> key,
                                                 std::string address = "") {
    if (address.empty()) address = address_;
    return Run([&]() {
      return RpcConnection::Connect(io_.get_executor(), address, Millis(2000), {}, key);
    });
  }

  Result<Buffer> Ping(RpcConnection& c, size_t payload_bytes = 0) {
    auto payload = std::make_shared<Buffer>(payload_bytes);
    for (size_t i = 0; i < payload_bytes; ++i) payload->data()[i] = uint8_t(i * 7 + 3);
    return Run([&]() -> Awaitable<Result<Buffer>> {
      Buffer back;
      auto r = co_await Call<proto::PingResponse>(c, proto::PING, proto::PingRequest{},
                                                  Millis(2000), payload, &back);
      if (!r.ok()) co_return r.status();
      co_return back;
    });
  }

  Status Write(RpcConnection& c) {
    return Run([&]() -> Awaitable<Status> {
      auto r = co_await Call<proto::ChunkWriteResponse>(c, proto::CHUNK_WRITE,
                                                        proto::ChunkWriteRequest{}, Millis(2000));
      co_return r.status();
    });
  }

  void ExpectServerServes() {
    auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto r = Ping(**c, 10);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  int file_fd_ = -1;
  std::atomic<int> writes_{0};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<RpcServer> plain_;
  std::string address_;
};

TEST_F(AuthTest, CorrectKeyCarriesRequestsAndPayloads) {
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (size_t n : {size_t{0}, size_t{1}, size_t{100000}, size_t{3u << 20}}) {
    auto r = Ping(**c, n);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(r->data()[i], uint8_t(i * 7 + 3)) << i;
  }
  EXPECT_TRUE(Write(**c).ok());
  EXPECT_EQ(writes_, 1);
}

TEST_F(AuthTest, FilePayloadsAreTaggedToo) {
  char path[] = "/tmp/granary-authXXXXXX";
  file_fd_ = ::mkstemp(path);
  ASSERT_GE(file_fd_, 0);
  ::unlink(path);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 13);
  ASSERT_EQ(::write(file_fd_, data.data(), data.size()), ssize_t(data.size()));
  auto c = Connect(Key("reader", KeyRole::kReadOnly, '\xee'));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  proto::ChunkReadRequest req;
  req.set_block_count(static_cast<uint32_t>(data.size()));
  auto r = Run([&]() -> Awaitable<Result<Buffer>> {
    Buffer back;
    auto x = co_await Call<proto::ChunkReadResponse>(**c, proto::CHUNK_READ, req, Millis(2000),
                                                     nullptr, &back);
    if (!x.ok()) co_return x.status();
    co_return back;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(std::string_view(reinterpret_cast<const char*>(r->data()), r->size()), data);
}

TEST_F(AuthTest, WrongSecretIsRefusedAndTheServerGoesOn) {
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\x01'));
  ASSERT_EQ(c.status().code(), proto::PERMISSION_DENIED) << c.status().ToString();
  EXPECT_NE(c.status().message().find("wrong cluster key"), std::string::npos)
      << c.status().message();
  EXPECT_FALSE(c.status().retryable());
  ExpectServerServes();
}

TEST_F(AuthTest, UnknownKeyIdIsRefused) {
  auto c = Connect(Key("stranger", KeyRole::kCluster, '\xcc'));
  ASSERT_EQ(c.status().code(), proto::PERMISSION_DENIED) << c.status().ToString();
  EXPECT_NE(c.status().message().find("wrong cluster key: key id 'stranger' is unknown"),
            std::string::npos)
      << c.status().message();
  ExpectServerServes();
}

TEST_F(AuthTest, ClientWithoutKeyGetsAClearError) {
  auto c = Connect(nullptr);
  ASSERT_TRUE(c.ok()) << c.status().ToString();  // TCP only: the refusal comes on the first call
  auto r = Ping(**c);
  ASSERT_EQ(r.status().code(), proto::PERMISSION_DENIED) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cluster requires a key"), std::string::npos)
      << r.status().message();
  // A later call on the dead connection keeps saying why, not just "closed".
  ExpectServerServes();
}

TEST_F(AuthTest, KeyAgainstServerWithoutKeyGetsAClearError) {
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'),
                   "127.0.0.1:" + std::to_string(plain_->port()));
  ASSERT_EQ(c.status().code(), proto::PERMISSION_DENIED) << c.status().ToString();
  EXPECT_NE(c.status().message().find("no cluster key configured"), std::string::npos)
      << c.status().message();
  // And the keyless server still speaks the plain protocol.
  auto p = Connect(nullptr, "127.0.0.1:" + std::to_string(plain_->port()));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(Ping(**p, 1000).ok());
}

TEST_F(AuthTest, ReadOnlyKeyReadsButCannotWrite) {
  auto c = Connect(Key("reader", KeyRole::kReadOnly, '\xee'));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(Ping(**c, 100).ok());
  Status st = Write(**c);
  ASSERT_EQ(st.code(), proto::PERMISSION_DENIED) << st.ToString();
  EXPECT_NE(st.message().find("read-only key 'reader'"), std::string::npos) << st.message();
  EXPECT_EQ(writes_, 0);
  EXPECT_TRUE(Ping(**c, 100).ok());  // the connection stays usable
}

TEST_F(AuthTest, SilentPeerIsDroppedAfterTheHandshakeTimeout) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  auto start = Clock::now();
  char buf[64];
  asio::error_code ec;
  s.read_some(asio::buffer(buf), ec);  // blocks until the server hangs up
  EXPECT_TRUE(ec);
  EXPECT_LT(Clock::now() - start, Millis(3000));
  ExpectServerServes();
}

TEST_F(AuthTest, AlteredFrameIsRejected) {
  TamperProxy proxy(server_->port(), [](int index, std::string f) {
    if (index == 2) f[f.size() - kMacBytes - 10] ^= 1;  // a payload byte of the first request
    return f;
  });
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'), proxy.address());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = Ping(**c, 1000);
  EXPECT_FALSE(r.ok());  // the server closed the connection instead of serving it
  EXPECT_EQ(r.status().code(), proto::UNAVAILABLE) << r.status().ToString();
  ExpectServerServes();
}

TEST_F(AuthTest, ReplayedFrameIsRejected) {
  TamperProxy proxy(server_->port(), [](int index, std::string f) {
    return index == 2 ? f + f : f;  // the first request twice
  });
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'), proxy.address());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status first = Write(**c);
  // The original may or may not be answered before the replay closes the
  // connection; the replay is never served.
  std::this_thread::sleep_for(Millis(200));
  EXPECT_EQ(writes_, 1) << first.ToString();
  EXPECT_FALSE(Write(**c).ok());
  EXPECT_EQ(writes_, 1);
}

TEST_F(AuthTest, ReorderedFramesAreRejected) {
  std::string held;
  TamperProxy proxy(server_->port(), [&held](int index, std::string f) {
    if (index == 2) {  // hold the first request, send it after the second
      held = std::move(f);
      return std::string();
    }
    return index == 3 ? f + held : f;
  });
  auto c = Connect(Key("writer", KeyRole::kReadWrite, '\xdd'), proxy.address());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto run = [&] {
    return asio::co_spawn(io_, [&]() -> Awaitable<Status> {
      auto r = co_await Call<proto::ChunkWriteResponse>(**c, proto::CHUNK_WRITE,
                                                        proto::ChunkWriteRequest{}, Millis(2000));
      co_return r.status();
    }, asio::use_future);
  };
  auto a = run();
  std::this_thread::sleep_for(Millis(50));
  auto b = run();
  EXPECT_FALSE(a.get().ok());
  EXPECT_FALSE(b.get().ok());
  EXPECT_EQ(writes_, 0);
}

}  // namespace
}  // namespace granary::net
