#pragma once
// LocalReadServer: hands read-only descriptors of committed replica files to
// clients on this host (protocol: common/net/local_read.h), so their reads
// skip TCP and this server entirely. Only peers running as root or as this
// process's user are served (SO_PEERCRED); others get PERMISSION_DENIED.

#include <atomic>
#include <memory>
#include <string>

#include "common/net/asio_types.h"
#include "common/status.h"
#include "storage/store/chunk_store.h"

namespace granary::storage::service {

class LocalReadServer {
 public:
  // `advertise` is the address clients know this server by; the socket name
  // is derived from it. Opening files runs on `disk`.
  LocalReadServer(net::Executor io, net::Executor disk, store::ChunkStore& store,
                  std::string advertise);

  // Binds the abstract socket and starts accepting. An error (the name taken
  // by another process) only disables local reads: callers log and go on.
  Status Start();
  // Thread-safe: stops accepting; open connections end at their next request.
  void Stop();

  // Descriptors handed to clients, and requests answered with an error
  // (unknown replica, refused peer, bad request). Relaxed counters.
  uint64_t descriptors_sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t requests_failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  net::Awaitable<void> Accept();
  net::Awaitable<void> Serve(asio::local::stream_protocol::socket sock);

  net::Executor io_;
  net::Executor disk_;
  store::ChunkStore& store_;
  const std::string advertise_;
  std::unique_ptr<asio::local::stream_protocol::acceptor> acceptor_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace granary::storage::service
