#pragma once
// ClientContext: what a Client, its writers and readers share: the I/O
// threads, the encode pool, pooled connections to metad and chunk servers.
// Writers and readers hold a shared_ptr so they may outlive the Client.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/src/local_chunks.h"
#include "common/net/asio_types.h"
#include "common/net/rpc_client.h"
#include "granary/client.h"

namespace granary::client {

class ClientContext {
 public:
  // `key`: the cluster key of every connection (null: none).
  ClientContext(ClientOptions options, std::shared_ptr<const net::ClusterKey> key);
  ~ClientContext();

  const ClientOptions& options() const { return options_; }
  asio::io_context& io() { return io_; }
  asio::thread_pool& encode_pool() { return encode_pool_; }
  net::ConnectionPool& chunk_servers() { return chunk_pool_; }
  // Replicas on this host read from their files; null when local reads are
  // off. Its calls block: run them on local_read_executor().
  LocalChunks* local_chunks() const { return local_chunks_.get(); }
  net::Executor local_read_executor() { return local_read_pool_.get_executor(); }
  net::Millis timeout() const { return options_.rpc_timeout; }

  // One metadata call with the client's deadline. Only connecting is tried
  // twice (metad may be restarting): a request that was sent is never sent
  // again, because metad may have applied it before the connection broke.
  template <class Resp, class Req>
  net::Awaitable<Result<Resp>> Meta(proto::Method method, const Req& req) {
    auto conn = co_await meta_pool_.Get(options_.meta_address);
    if (!conn.ok()) conn = co_await meta_pool_.Get(options_.meta_address);
    if (!conn.ok()) co_return conn.status();
    co_return co_await net::Call<Resp>(**conn, method, req, timeout());
  }

  // Creates a context whose last owner may be any thread, its own I/O and
  // encode threads included (a completion handler can hold the last
  // reference): destruction then moves to a new thread, which can join them.
  static std::shared_ptr<ClientContext> Create(ClientOptions options,
                                               std::shared_ptr<const net::ClusterKey> key);

  // True on one of this context's I/O or encode threads.
  bool OnOwnThread() {
    return io_.get_executor().running_in_this_thread() ||
           encode_pool_.get_executor().running_in_this_thread();
  }

  // Runs a coroutine on the I/O threads and blocks the caller until it ends.
  // Must not be called from an I/O thread.
  template <class T>
  T RunSync(net::Awaitable<T> a) {
    return asio::co_spawn(io_, std::move(a), asio::use_future).get();
  }

 private:
  ClientOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool encode_pool_;
  net::ConnectionPool meta_pool_;
  net::ConnectionPool chunk_pool_;
  asio::thread_pool local_read_pool_;
  std::unique_ptr<LocalChunks> local_chunks_;
  std::vector<std::thread> threads_;

  // ClientOptions::local_reads, unless GRANARY_LOCAL_READS says otherwise.
  static bool LocalReadsOn(const ClientOptions& o);
};

}  // namespace granary::client
