#pragma once
// ServiceFixture: three chunk servers (store + ChunkService + RpcServer on
// 127.0.0.1, port 0) sharing one io_context run by two threads, and a client
// connection pool with helpers that speak the wire protocol like libgranary.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"
#include "storage/service/chunk_service.h"
#include "storage/store/chunk_store.h"
#include "tests/storage/test_chunks.h"

namespace granary::storage::testing {

struct ReadReply {
  proto::ChunkReadResponse resp;
  std::vector<uint8_t> payload;
};

class ServiceFixture : public ::testing::Test {
 protected:
  static constexpr int kNodes = 3;
  static constexpr net::Millis kTimeout{5000};

  struct Node {
    TempDir dir;
    std::unique_ptr<store::ChunkStore> store;
    std::unique_ptr<net::ConnectionPool> peers;
    std::unique_ptr<service::ChunkService> service;
    std::unique_ptr<net::RpcServer> server;
    std::string address;
  };

  void SetUp() override {
    for (int i = 0; i < kNodes; ++i) {
      auto n = std::make_unique<Node>();
      store::StoreOptions so;
      so.data_dirs = {n->dir.Sub("data")};
      so.min_free_bytes = 0;
      auto s = store::ChunkStore::Open(so);
      ASSERT_OK(s);
      n->store = std::move(s).value();
      n->peers = std::make_unique<net::ConnectionPool>(io_.get_executor(), kTimeout);
      n->service =
          std::make_unique<service::ChunkService>(*n->store, disk_.get_executor(), *n->peers);
      n->server = std::make_unique<net::RpcServer>(io_.get_executor(), net::ServerOptions{});
      n->service->Register(*n->server);
      ASSERT_OK(n->server->Start());
      n->address = "127.0.0.1:" + std::to_string(n->server->port());
      nodes_.push_back(std::move(n));
    }
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    for (auto& n : nodes_) {
      n->server->Stop();
      n->peers->CloseAll();
    }
    client_.CloseAll();
    io_.stop();
    for (auto& t : threads_) t.join();
    disk_.join();
    nodes_.clear();
  }

  // Waits for a call with a hard bound, so a hang fails the test instead of CI.
  template <class T>
  T Wait(std::future<T>& f) {
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      std::fprintf(stderr, "call did not complete in 20 s\n");
      std::abort();
    }
    return f.get();
  }
  template <class F>
  auto Run(F f) {
    auto fut = asio::co_spawn(io_, std::move(f), asio::use_future);
    return Wait(fut);
  }

  // ChunkInfo whose replica chain is the given nodes, in order.
  proto::ChunkInfo Info(uint64_t id, uint64_t version, const TestChunk& c, std::vector<int> chain) {
    proto::ChunkInfo info;
    info.set_chunk_id(id);
    info.set_version(version);
    info.set_length(c.total_raw());
    info.set_stored_length(c.total_stored());
    info.set_block_count(c.block_count());
    for (int i : chain) {
      proto::NodeAddress* a = info.add_replicas();
      a->set_node_id(NodeId(i));
      a->set_address(nodes_[i]->address);
    }
    return info;
  }

  static proto::ChunkWriteRequest HeadRequest(const proto::ChunkInfo& info) {
    proto::ChunkWriteRequest req;
    req.set_chunk_id(info.chunk_id());
    req.set_version(info.version());
    for (int i = 1; i < info.replicas_size(); ++i) *req.add_chain() = info.replicas(i);
    return req;
  }

  Status SendPieceBytes(const proto::ChunkInfo& info, ByteSpan bytes, uint64_t offset,
                        uint32_t first, uint32_t count, bool commit = false) {
    proto::ChunkWriteRequest req = HeadRequest(info);
    req.set_offset(offset);
    req.set_first_block(first);
    req.set_block_count(count);
    req.set_commit(commit);
    auto payload = std::make_shared<const Buffer>(Buffer::CopyOf(bytes));
    return Call<proto::ChunkWriteResponse>(info.replicas(0).address(), proto::CHUNK_WRITE, req,
                                           payload)
        .status();
  }

  std::future<Status> SendPieceAsync(const proto::ChunkInfo& info, const TestChunk& c,
                                     uint32_t first, uint32_t count) {
    proto::ChunkWriteRequest req = HeadRequest(info);
    req.set_offset(c.offsets[first]);
    req.set_first_block(first);
    req.set_block_count(count);
    auto payload = std::make_shared<const Buffer>(Buffer::CopyOf(c.Piece(first, count)));
    std::string head = info.replicas(0).address();
    return asio::co_spawn(
        io_,
        [this, req, payload, head]() -> net::Awaitable<Status> {
          auto r = co_await client_.Call<proto::ChunkWriteResponse>(head, proto::CHUNK_WRITE, req,
                                                                    kTimeout, payload);
          co_return r.status();
        },
        asio::use_future);
  }

  Status SendPiece(const proto::ChunkInfo& info, const TestChunk& c, uint32_t first,
                   uint32_t count) {
    auto f = SendPieceAsync(info, c, first, count);
    return Wait(f);
  }

  Status Commit(const proto::ChunkInfo& info, const TestChunk& c, bool fsync) {
    proto::ChunkWriteRequest req = HeadRequest(info);
    req.set_commit(true);
    req.set_total_blocks(c.block_count());
    req.set_total_stored(c.total_stored());
    req.set_total_raw(c.total_raw());
    req.set_fsync(fsync);
    return Call<proto::ChunkWriteResponse>(info.replicas(0).address(), proto::CHUNK_WRITE, req)
        .status();
  }

  Result<ReadReply> ReadBlocks(int node, const proto::ChunkInfo& info, uint32_t first,
                               uint32_t count) {
    proto::ChunkReadRequest req;
    req.set_chunk_id(info.chunk_id());
    req.set_version(info.version());
    req.set_first_block(first);
    req.set_block_count(count);
    Buffer payload;
    auto r = Call<proto::ChunkReadResponse>(nodes_[node]->address, proto::CHUNK_READ, req, nullptr,
                                            &payload);
    if (!r.ok()) return r.status();
    return ReadReply{*r, std::vector<uint8_t>(payload.data(), payload.data() + payload.size())};
  }

  Result<proto::ChunkStatResponse> StatChunk(int node, uint64_t id, uint64_t version) {
    proto::ChunkStatRequest req;
    req.set_chunk_id(id);
    req.set_version(version);
    return Call<proto::ChunkStatResponse>(nodes_[node]->address, proto::CHUNK_STAT, req);
  }

  Result<proto::ChunkListResponse> ListChunks(int node) {
    return Call<proto::ChunkListResponse>(nodes_[node]->address, proto::CHUNK_LIST,
                                          proto::ChunkListRequest{});
  }

  Result<uint32_t> DeleteChunks(int node, std::vector<std::pair<uint64_t, uint64_t>> keys) {
    proto::ChunkDeleteRequest req;
    for (auto [id, v] : keys) {
      proto::ChunkRef* ref = req.add_chunks();
      ref->set_chunk_id(id);
      ref->set_version(v);
    }
    auto r = Call<proto::ChunkDeleteResponse>(nodes_[node]->address, proto::CHUNK_DELETE, req);
    if (!r.ok()) return r.status();
    return r->deleted();
  }

  Result<std::string> Ping(int node) {
    auto r = Call<proto::PingResponse>(nodes_[node]->address, proto::PING, proto::PingRequest{});
    if (!r.ok()) return r.status();
    return r->server();
  }

  template <class Resp, class Req>
  Result<Resp> Call(const std::string& address, proto::Method method, const Req& req,
                    net::SharedBuffer payload = nullptr, Buffer* reply_payload = nullptr) {
    return Run([&]() -> net::Awaitable<Result<Resp>> {
      co_return co_await client_.Call<Resp>(address, method, req, kTimeout, payload, reply_payload);
    });
  }

  const std::string& NodeId(int node) const { return nodes_[node]->store->node_id(); }
  size_t Pending(int node) const { return nodes_[node]->store->Usage()->pending_writes; }

  // An address nothing listens on: bound once to learn a free port, then closed.
  std::string DeadAddress() {
    asio::ip::tcp::acceptor a(io_, {asio::ip::make_address("127.0.0.1"), 0});
    std::string addr = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
    a.close();
    return addr;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool disk_{2};
  std::vector<std::thread> threads_;
  net::ConnectionPool client_{io_.get_executor(), kTimeout};
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace granary::storage::testing
