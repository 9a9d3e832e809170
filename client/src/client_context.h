#pragma once
// ClientContext: what a Client, its writers and readers share: the I/O
// threads, the encode pool, pooled connections to metad and chunk servers.
// Writers and readers hold a shared_ptr so they may outlive the Client.

#include <atomic>
#include <chrono>
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

  // One metadata call with the client's deadline. Once this client has
  // reached metad, a metad that restarts is waited for (up to
  // ClientOptions::metad_restart_wait): connecting is retried with backoff,
  // and so is a request whose connection broke after it was sent, but only
  // when sending it again is harmless (ResendSafe): metad may have applied
  // it before the connection broke. A client that never reached metad fails
  // at once, so a wrong address is reported without delay.
  //
  // `trace`: the operation's trace id (net/trace.h); 0 starts a new one for
  // this call. A failure that is not an ordinary answer names the trace, so
  // the user can hand it to whoever reads the daemons' logs.
  template <class Resp, class Req>
  net::Awaitable<Result<Resp>> Meta(proto::Method method, const Req& req,
                                    net::TraceId trace = 0) {
    if (trace == 0) trace = net::NewTraceId();
    const auto give_up = std::chrono::steady_clock::now() + options_.metad_restart_wait;
    net::Millis backoff{20};
    for (;;) {
      // Plain statements only around co_await: GCC 12 mishandles the
      // temporaries of a co_await inside a conditional expression.
      auto conn = co_await meta_pool_.Get(options_.meta_address);
      const bool sent = conn.ok();
      Status failed;
      if (sent) {
        Result<Resp> r =
            co_await net::Call<Resp>(**conn, method, req, timeout(), nullptr, nullptr, trace);
        if (r.ok()) {
          metad_reached_.store(true, std::memory_order_relaxed);
          co_return r;
        }
        failed = r.status();
      } else {
        failed = conn.status();
      }
      const bool retry = failed.code() == proto::UNAVAILABLE &&
                         metad_reached_.load(std::memory_order_relaxed) &&
                         (!sent || ResendSafe(method)) &&
                         std::chrono::steady_clock::now() + backoff < give_up;
      if (!retry) co_return net::WithTrace(std::move(failed), trace);
      asio::steady_timer timer(co_await asio::this_coro::executor, backoff);
      co_await timer.async_wait(asio::use_awaitable);
      backoff = std::min(backoff * 2, net::Millis(1000));
    }
  }
  // Reads, and the writes metad applies idempotently (a commit of what is
  // committed succeeds; a second allocation replaces the first).
  static bool ResendSafe(proto::Method method);

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
  std::atomic<bool> metad_reached_{false};

  // ClientOptions::local_reads, unless GRANARY_LOCAL_READS says otherwise.
  static bool LocalReadsOn(const ClientOptions& o);
};

}  // namespace granary::client
