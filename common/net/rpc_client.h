#pragma once
// RpcConnection: one multiplexed TCP connection to a Granary daemon.
//
// Many calls may be in flight on one connection; responses are matched by
// request id. Every call has a deadline: when it passes, the call returns
// TIMEOUT (retryable) and a late response is dropped. When the connection
// breaks, every pending call returns UNAVAILABLE (retryable).
//
// Thread safety: all methods may be called from any thread or coroutine.
//
// ConnectionPool keeps a few connections per address, reconnecting broken ones.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/buffer.h"
#include "common/net/asio_types.h"
#include "common/net/cluster_key.h"
#include "common/net/frame.h"
#include "common/net/trace.h"
#include "common/status.h"

namespace granary::net {

using SharedBuffer = std::shared_ptr<const Buffer>;

struct RawReply {
  std::string message;  // serialized response message
  Buffer payload;       // raw bulk data, may be empty
};

class RpcConnection {
 public:
  // Connects to "host:port" within `timeout`. With `key`, the cluster key
  // handshake (docs/security.md) runs within the same timeout and every
  // frame is then tagged; a refused key is PERMISSION_DENIED ("wrong cluster
  // key"). A client without a key gets "cluster requires a key" on its
  // first call instead, from a server that wants one.
  static Awaitable<Result<std::shared_ptr<RpcConnection>>> Connect(
      Executor executor, std::string address, Millis timeout, FrameLimits limits = {},
      std::shared_ptr<const ClusterKey> key = nullptr);
  ~RpcConnection();

  // Sends one request and waits for its response or the deadline. `payload`
  // is kept alive by the connection until it is written. `trace` goes in the
  // request's header (net/trace.h; 0: none).
  Awaitable<Result<RawReply>> CallRaw(proto::Method method, std::string message,
                                      SharedBuffer payload, Millis timeout, TraceId trace = 0);

  bool healthy() const;
  const std::string& address() const;
  void Close();

  struct Impl;
  explicit RpcConnection(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

// Typed call: serializes `req`, parses the reply into Resp. The reply's raw
// payload is moved into *reply_payload when given.
template <class Resp, class Req>
Awaitable<Result<Resp>> Call(RpcConnection& conn, proto::Method method, const Req& req,
                             Millis timeout, SharedBuffer payload = nullptr,
                             Buffer* reply_payload = nullptr, TraceId trace = 0) {
  std::string msg;
  if (!req.SerializeToString(&msg)) co_return Status::Internal("cannot serialize request");
  Result<RawReply> raw =
      co_await conn.CallRaw(method, std::move(msg), std::move(payload), timeout, trace);
  if (!raw.ok()) co_return raw.status();
  Resp resp;
  if (!resp.ParseFromString(raw->message)) {
    co_return Status::Protocol(std::string("cannot parse ") + Resp::descriptor()->name() +
                               " from " + conn.address());
  }
  if (reply_payload) *reply_payload = std::move(raw->payload);
  co_return resp;
}

class ConnectionPool {
 public:
  // `per_address` connections are opened lazily and used round-robin, so
  // bulk transfers to one server spread over several TCP streams.
  // `key`: the cluster key every connection authenticates with (null: none).
  ConnectionPool(Executor executor, Millis connect_timeout, size_t per_address = 2,
                 FrameLimits limits = {}, std::shared_ptr<const ClusterKey> key = nullptr);

  Awaitable<Result<std::shared_ptr<RpcConnection>>> Get(const std::string& address);

  // Typed call through a pooled connection.
  template <class Resp, class Req>
  Awaitable<Result<Resp>> Call(const std::string& address, proto::Method method, const Req& req,
                               Millis timeout, SharedBuffer payload = nullptr,
                               Buffer* reply_payload = nullptr, TraceId trace = 0) {
    auto conn = co_await Get(address);
    if (!conn.ok()) co_return conn.status();
    co_return co_await net::Call<Resp>(**conn, method, req, timeout, std::move(payload),
                                       reply_payload, trace);
  }

  void CloseAll();
  Executor executor() const { return executor_; }

 private:
  struct Slot {
    std::vector<std::shared_ptr<RpcConnection>> conns;
    size_t next = 0;
  };
  Executor executor_;
  Millis connect_timeout_;
  size_t per_address_;
  FrameLimits limits_;
  std::shared_ptr<const ClusterKey> key_;
  std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
};

// Splits "host:port"; the port must be 1-65535.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view address);

}  // namespace granary::net
