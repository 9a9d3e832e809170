#pragma once
// MetricsHttpServer: serves a Registry at GET /metrics over HTTP/1.1
// (cpp-httplib), on threads of its own, so a scrape never waits for, or
// delays, the daemon's RPC I/O threads; callbacks that stat file systems
// run here too.
//
// Anything but GET (or HEAD) /metrics is answered 404; a request httplib
// cannot parse gets 400; request lines and headers are capped at 8 KiB
// each and bodies at 4 KiB by the server; a client that stalls is dropped
// after kIoTimeout. Two worker threads serve connections: a scraper or two
// at a time is what the endpoint is for. A connection beyond that waits in
// the queue until a worker is free (at most kIoTimeout per stalled client).
//
// Thread safety: Start and Stop from one thread. The registry must outlive
// Stop() (the destructor stops).

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/metrics/registry.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace granary::metrics {

class MetricsHttpServer {
 public:
  explicit MetricsHttpServer(const Registry& registry);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds host:port (port 0 = any free port; see port()) and starts serving.
  // IO_ERROR names the address when it cannot bind.
  Status Start(const std::string& host, uint16_t port);
  // Stops accepting and joins the threads. Idempotent.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  const Registry& registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

// Fetches http://address/metrics ("host:port") and returns the body. Bounded
// by `timeout` per connect/read/write and by kMaxTextBytes (text_format.h).
// UNAVAILABLE when the endpoint cannot be reached or answers other than 200.
Result<std::string> Scrape(const std::string& address, std::chrono::milliseconds timeout);

}  // namespace granary::metrics
