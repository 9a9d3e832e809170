// MetaService over real loopback RPC: typed handlers, error codes and
// messages on the wire, and concurrent requests through the worker pool.

#include "metadata/service/meta_service.h"

#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <set>
#include <thread>

#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"
#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

constexpr net::Millis kTimeout{10000};

class MetaServiceTest : public testing::MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    service_ = std::make_unique<MetaService>(*state_, MetaServiceOptions{.worker_threads = 3});
    server_ = std::make_unique<net::RpcServer>(io_.get_executor(), net::ServerOptions{});
    service_->RegisterHandlers(*server_);
    ASSERT_OK(server_->Start());
    service_->Start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    auto conn = Run(net::RpcConnection::Connect(
        io_.get_executor(), "127.0.0.1:" + std::to_string(server_->port()), kTimeout));
    ASSERT_OK(conn);
    conn_ = *conn;
  }
  void TearDown() override {
    if (conn_) conn_->Close();
    server_->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    ASSERT_OK(service_->Stop());
  }
  template <class T>
  T Run(net::Awaitable<T> a) {
    return asio::co_spawn(io_, std::move(a), asio::use_future).get();
  }
  template <class Resp, class Req>
  Result<Resp> Call(proto::Method m, const Req& req) {
    return Run(net::Call<Resp>(*conn_, m, req, kTimeout));
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  std::unique_ptr<MetaService> service_;
  std::unique_ptr<net::RpcServer> server_;
  std::shared_ptr<net::RpcConnection> conn_;
};

TEST_F(MetaServiceTest, NamespaceOverTheWire) {
  proto::MkdirRequest mk;
  mk.set_parent(kRootInode);
  mk.set_name("data");
  mk.set_mode(0700);
  ASSERT_OK_AND_ASSIGN(auto made, (Call<proto::MkdirResponse>(proto::META_MKDIR, mk)));
  EXPECT_EQ(made.inode().mode(), 0700u);

  // An error keeps its code and message across the wire.
  auto again = Call<proto::MkdirResponse>(proto::META_MKDIR, mk);
  ASSERT_ERROR(again, proto::ALREADY_EXISTS);
  EXPECT_NE(again.status().message().find("'data'"), std::string::npos) << again.status().message();

  proto::ResolveRequest res;
  res.set_path("/data");
  ASSERT_OK_AND_ASSIGN(auto found, (Call<proto::ResolveResponse>(proto::META_RESOLVE, res)));
  EXPECT_EQ(found.inode().id(), made.inode().id());

  proto::GetAttrRequest ga;
  ga.set_inode(made.inode().id());
  ASSERT_OK_AND_ASSIGN(auto attr, (Call<proto::GetAttrResponse>(proto::META_GETATTR, ga)));
  EXPECT_EQ(attr.inode().type(), proto::INODE_DIR);

  proto::StatFsResponse fs;
  ASSERT_OK_AND_ASSIGN(fs, (Call<proto::StatFsResponse>(proto::META_STATFS, proto::StatFsRequest{})));
  EXPECT_EQ(fs.files(), 2u);
}

TEST_F(MetaServiceTest, ManyConcurrentCreatesInOneFolder) {
  ASSERT_OK_AND_ASSIGN(proto::Inode d, Mkdir(kRootInode, "busy"));
  constexpr int kCalls = 64;
  // net::Call holds its request by reference: keep them alive until the end.
  std::vector<proto::CreateRequest> reqs(kCalls);
  std::vector<std::future<Result<proto::CreateResponse>>> calls;
  for (int i = 0; i < kCalls; ++i) {
    reqs[i].set_parent(d.id());
    reqs[i].set_name("f" + std::to_string(i));
    reqs[i].set_exclusive(true);
    calls.push_back(asio::co_spawn(
        io_, net::Call<proto::CreateResponse>(*conn_, proto::META_CREATE, reqs[i], kTimeout),
        asio::use_future));
  }
  std::set<uint64_t> ids;
  for (auto& f : calls) {
    Result<proto::CreateResponse> r = f.get();
    ASSERT_OK(r);
    ids.insert(r->inode().id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCalls));
  ASSERT_OK_AND_ASSIGN(auto names, ListNames(d.id()));
  EXPECT_EQ(names.size(), static_cast<size_t>(kCalls));
}

TEST_F(MetaServiceTest, EveryMetadataMethodIsServed) {
  // An empty request is a client mistake for most methods: each must answer
  // with an error value (or OK), never UNKNOWN_METHOD and never a crash.
  for (proto::Method m :
       {proto::META_RESOLVE, proto::META_LOOKUP, proto::META_GETATTR, proto::META_MKDIR,
        proto::META_CREATE, proto::META_UNLINK, proto::META_RMDIR, proto::META_RENAME,
        proto::META_READDIR, proto::META_SETATTR, proto::META_OPEN, proto::META_ALLOCATE_CHUNK,
        proto::META_COMMIT_CHUNK, proto::META_CLOSE, proto::META_GET_LAYOUT, proto::META_STATFS,
        proto::META_REGISTER_NODE, proto::META_HEARTBEAT, proto::META_LIST_NODES}) {
    auto raw = Run(conn_->CallRaw(m, "", nullptr, kTimeout));
    if (!raw.ok()) {
      EXPECT_NE(raw.status().code(), proto::UNKNOWN_METHOD) << proto::Method_Name(m);
      EXPECT_NE(raw.status().code(), proto::INTERNAL) << proto::Method_Name(m);
      EXPECT_NE(raw.status().code(), proto::UNAVAILABLE) << proto::Method_Name(m);
    }
  }
  // A garbage message is a protocol error for that call only.
  auto garbage = Run(conn_->CallRaw(proto::META_MKDIR, "\xff\xff\xff", nullptr, kTimeout));
  EXPECT_ERROR(garbage, proto::PROTOCOL_ERROR);
  EXPECT_OK((Call<proto::StatFsResponse>(proto::META_STATFS, proto::StatFsRequest{})));
}

}  // namespace
}  // namespace granary::metadata
