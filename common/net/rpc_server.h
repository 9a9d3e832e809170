#pragma once
// RpcServer: accepts TCP connections and serves framed requests.
//
// Each connection has one reader coroutine and one writer coroutine on a
// strand. Every request runs as its own coroutine on the server's executor, so
// many requests per connection are in flight at once (bounded by
// max_inflight_per_connection; the reader stops reading until one finishes).
// A malformed or oversized frame gets a PROTOCOL_ERROR response when it can be
// attributed, then that connection alone is closed. Handler exceptions become
// INTERNAL errors; they never escape into the process.
//
// Thread safety: Add* before Start(); Start/Stop from any one thread.

#include <atomic>
#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "common/buffer.h"
#include "common/net/asio_types.h"
#include "common/net/cluster_key.h"
#include "common/net/file_payload.h"
#include "common/net/frame.h"
#include "common/net/rpc_observer.h"
#include "common/net/trace.h"
#include "common/status.h"

namespace granary::net {

struct ServerOptions {
  std::string name = "granary";  // reported by PING
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = pick a free port; see RpcServer::port()
  FrameLimits limits;
  uint32_t max_inflight_per_connection = 64;
  uint32_t max_connections = 4096;
  // A connection that sends nothing for this long is closed.
  Millis idle_timeout{10 * 60 * 1000};
  // Told about every call served (metrics); null = nobody is told.
  std::shared_ptr<RpcObserver> observer;
  // Cluster keys (docs/security.md). When set, every connection must pass
  // the key handshake within handshake_timeout before its first request, and
  // each request is checked against its key's role (method_access.h); peers
  // without a key or with a wrong one are refused and logged. Null (the
  // default): no handshake, and the frames carry no MAC.
  std::shared_ptr<const KeyRing> keys;
  Millis handshake_timeout{10 * 1000};
  // A call that takes longer than this is logged as slow (warn, with its
  // trace id); every call is logged at debug level.
  Millis slow_call{2000};
};

// What a handler sees of one call besides its message.
struct CallContext {
  std::string peer;     // "ip:port" of the caller
  // The request's trace id (net/trace.h; 0: the caller sent none). Handlers
  // pass it on to the calls they make for this request.
  TraceId trace = 0;
  // The role of the caller's cluster key; kCluster when the server has no
  // keys (everyone may do anything). For handlers whose decision depends on
  // the request's content, beyond the per-method check made before dispatch.
  KeyRole role = KeyRole::kCluster;
  Buffer payload;       // the request's raw payload (may be empty); handlers may move it out
  std::shared_ptr<const Buffer> reply_payload;  // set by the handler for bulk replies
  // Alternative to reply_payload: bulk reply bytes sent straight from a file.
  std::optional<FilePayload> reply_file;
};

// Raw handler: parses `message` itself and fills `reply` with a serialized
// message. Returning a non-OK Status sends that error to the caller.
using RawHandler =
    std::function<Awaitable<Status>(CallContext& ctx, std::string_view message, std::string* reply)>;

class RpcServer {
 public:
  RpcServer(Executor executor, ServerOptions options);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  void AddRaw(proto::Method method, RawHandler handler);

  // Typed handler: f(CallContext&, const Req&, Resp*) -> Awaitable<Status>.
  template <class Req, class Resp, class F>
  void Add(proto::Method method, F f) {
    AddRaw(method, [f = std::move(f)](CallContext& ctx, std::string_view msg,
                                      std::string* reply) -> Awaitable<Status> {
      Req req;
      if (!req.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) {
        co_return Status::Protocol(std::string("cannot parse ") + Req::descriptor()->name());
      }
      Resp resp;
      Status st = co_await f(ctx, req, &resp);
      if (st.ok() && !resp.SerializeToString(reply)) {
        co_return Status::Internal("cannot serialize response");
      }
      co_return st;
    });
  }

  // Binds, listens and starts accepting. Errors name the address.
  Status Start();
  // Stops accepting and closes every connection. Idempotent.
  void Stop();

  uint16_t port() const;
  const ServerOptions& options() const;
  // Connections open right now (takes the connection table's lock).
  size_t connection_count() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace granary::net
