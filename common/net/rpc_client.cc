#include "common/net/rpc_client.h"

#include <charconv>

#include "common/log.h"
#include "common/net/auth_handshake.h"
#include "common/net/frame_connection.h"
#include "common/net/method_access.h"

namespace granary::net {
namespace {

// One outstanding call. Everything about it happens on the connection's
// strand: the caller sleeps on `timer` until its deadline; the reader puts
// the reply in `result` and cancels the timer. (Asio 1.22's awaitable
// operators raced here: a reply completing on another I/O thread could fire
// cancellation at the deadline timer while it was still being set up.)
struct Pending {
  explicit Pending(Strand& strand) : timer(strand) {}
  asio::steady_timer timer;
  std::optional<Result<RawReply>> result;
};

// A socket being connected, shared with the deadline's handler.
struct Connecting {
  explicit Connecting(Strand& strand) : socket(strand), timer(strand) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

// The client side of the key handshake; runs on the connection's strand.
// (A free function: GCC 12 mishandles lambda coroutines with captures.)
Awaitable<Result<AuthSession>> Authenticate(std::shared_ptr<FrameConnection> conn,
                                            std::shared_ptr<const ClusterKey> key,
                                            std::string address, Millis timeout) {
  auto s = co_await ClientHandshake(*conn, *key, address, timeout);
  if (s.ok()) conn->EnableAuth(s->keys);
  co_return s;
}

}  // namespace

struct RpcConnection::Impl : std::enable_shared_from_this<RpcConnection::Impl> {
  std::shared_ptr<FrameConnection> conn;
  std::string address;
  uint64_t next_id = 1;  // strand only
  std::unordered_map<uint64_t, std::shared_ptr<Pending>> pending;  // strand only
  std::atomic<bool> failed{false};
  // A refusal of the whole connection (PERMISSION_DENIED with request id 0:
  // "cluster requires a key"), given to every call still waiting when the
  // server then hangs up. Strand only.
  std::optional<Status> refused;

  Awaitable<void> ReadLoop();
  Awaitable<Result<RawReply>> CallOnStrand(proto::Method method, std::string message,
                                           SharedBuffer payload, Millis timeout, TraceId trace);
  void FailAll(const Status& st);
};

Awaitable<void> RpcConnection::Impl::ReadLoop() {
  auto self = shared_from_this();
  while (true) {
    auto frame = co_await conn->ReadFrame();
    if (!frame.ok()) {
      FailAll(frame.status());
      break;
    }
    if (frame->header.kind != FrameKind::kResponse) {
      FailAll(Status::Protocol("server " + address + " sent a request frame"));
      break;
    }
    auto it = pending.find(frame->header.request_id);
    if (it == pending.end()) {
      // A request id of 0 is a connection-level error from the server.
      if (frame->header.request_id == 0 && frame->header.status == proto::PERMISSION_DENIED) {
        refused = Status::PermissionDenied("server " + address + ": " + frame->message);
      } else if (frame->header.request_id == 0 && frame->header.status != 0) {
        LOG_WARN("server {} closed the connection: {}", address, frame->message);
      }
      continue;  // the call already timed out
    }
    std::shared_ptr<Pending> p = std::move(it->second);
    pending.erase(it);
    if (frame->header.status != 0) {
      p->result = Status::FromCode(static_cast<ErrorCode>(frame->header.status),
                                   std::move(frame->message));
    } else {
      p->result = RawReply{std::move(frame->message), std::move(frame->payload)};
    }
    p->timer.cancel();
  }
  conn->Close();
}

void RpcConnection::Impl::FailAll(const Status& st) {
  Status err = refused                            ? *refused
               : st.code() == proto::PROTOCOL_ERROR ? st
               : st.code() == proto::PERMISSION_DENIED
                   ? st
                   : Status::Unavailable("connection to " + address + " lost (" + st.message() + ")");
  failed = true;
  for (auto& [id, p] : pending) {
    p->result = err;
    p->timer.cancel();
  }
  pending.clear();
}

Awaitable<Result<RawReply>> RpcConnection::Impl::CallOnStrand(proto::Method method,
                                                              std::string message,
                                                              SharedBuffer payload,
                                                              Millis timeout, TraceId trace) {
  auto self = shared_from_this();
  if (failed || conn->closed()) {
    co_return Status::Unavailable("connection to " + address + " is closed");
  }
  auto p = std::make_shared<Pending>(conn->strand());
  const uint64_t id = next_id++;
  pending.emplace(id, p);
  OutFrame out;
  out.header.kind = FrameKind::kRequest;
  out.header.method = static_cast<uint16_t>(method);
  out.header.request_id = id;
  out.header.trace = trace;
  out.message = std::move(message);
  out.payload = std::move(payload);
  conn->Send(std::move(out));

  p->timer.expires_after(timeout);
  co_await p->timer.async_wait(kUseTuple);
  if (!p->result) {
    pending.erase(id);
    co_return Status::Timeout("no reply from " + address + " to " + MethodLabel(static_cast<uint16_t>(method)) +
                              " within " + std::to_string(timeout.count()) + " ms (trace " +
                              TraceHex(trace) + ")");
  }
  co_return std::move(*p->result);
}

RpcConnection::RpcConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RpcConnection::~RpcConnection() { Close(); }

Awaitable<Result<std::shared_ptr<RpcConnection>>> RpcConnection::Connect(
    Executor executor, std::string address, Millis timeout, FrameLimits limits,
    std::shared_ptr<const ClusterKey> key) {
  auto hp = SplitHostPort(address);
  if (!hp.ok()) co_return hp.status();
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(hp->first, std::to_string(hp->second), kUseTuple);
  if (rec) co_return Status::Unavailable("cannot resolve " + address + ": " + rec.message());

  // Connect on the new connection's strand; the deadline closes the socket.
  auto strand = asio::make_strand(executor);
  auto connecting = std::make_shared<Connecting>(strand);
  auto connect = [connecting, endpoints]() -> Awaitable<asio::error_code> {
    auto [ec, ep] = co_await asio::async_connect(connecting->socket, endpoints, kUseTuple);
    connecting->timer.cancel();
    co_return ec;
  };
  connecting->timer.expires_after(timeout);
  connecting->timer.async_wait([connecting](const asio::error_code& ec) {
    if (ec) return;  // cancelled: connected in time
    connecting->timed_out = true;
    asio::error_code ignored;
    connecting->socket.close(ignored);
  });
  asio::error_code cec = co_await asio::co_spawn(strand, connect(), asio::use_awaitable);
  if (connecting->timed_out) {
    co_return Status::Timeout("connect to " + address + " timed out after " +
                              std::to_string(timeout.count()) + " ms");
  }
  if (cec) co_return Status::Unavailable("cannot connect to " + address + ": " + cec.message());

  auto impl = std::make_shared<Impl>();
  impl->address = address;
  impl->conn = std::make_shared<FrameConnection>(strand, std::move(connecting->socket), limits);
  if (key) {
    // The handshake runs on the strand, before the writer and reader start.
    auto session = co_await asio::co_spawn(
        strand, Authenticate(impl->conn, std::move(key), address, timeout), asio::use_awaitable);
    if (!session.ok()) {
      impl->conn->Close();
      co_return session.status();
    }
  }
  impl->conn->StartWriter();
  asio::co_spawn(strand, [impl] { return impl->ReadLoop(); }, asio::detached);
  co_return std::make_shared<RpcConnection>(impl);
}

Awaitable<Result<RawReply>> RpcConnection::CallRaw(proto::Method method, std::string message,
                                                   SharedBuffer payload, Millis timeout,
                                                   TraceId trace) {
  // The whole call runs on the connection's strand (see Pending).
  auto impl = impl_;
  co_return co_await asio::co_spawn(
      impl->conn->strand(),
      impl->CallOnStrand(method, std::move(message), std::move(payload), timeout, trace),
      asio::use_awaitable);
}

bool RpcConnection::healthy() const { return !impl_->failed && !impl_->conn->closed(); }

const std::string& RpcConnection::address() const { return impl_->address; }

void RpcConnection::Close() {
  if (impl_ && impl_->conn) impl_->conn->Close();
}

ConnectionPool::ConnectionPool(Executor executor, Millis connect_timeout, size_t per_address,
                               FrameLimits limits, std::shared_ptr<const ClusterKey> key)
    : executor_(std::move(executor)),
      connect_timeout_(connect_timeout),
      per_address_(per_address ? per_address : 1),
      limits_(limits),
      key_(std::move(key)) {}

Awaitable<Result<std::shared_ptr<RpcConnection>>> ConnectionPool::Get(const std::string& address) {
  size_t index;
  {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[address];
    if (slot.conns.size() < per_address_) slot.conns.resize(per_address_);
    index = slot.next++ % per_address_;
    auto& c = slot.conns[index];
    if (c && c->healthy()) co_return c;
  }
  // Connect outside the lock; a concurrent caller may connect the same slot,
  // in which case the later connection simply replaces the earlier one.
  auto conn = co_await RpcConnection::Connect(executor_, address, connect_timeout_, limits_, key_);
  if (!conn.ok()) co_return conn.status();
  std::lock_guard lock(mu_);
  auto& c = slots_[address].conns[index];
  if (c && c->healthy()) {
    (*conn)->Close();
    co_return c;
  }
  c = *conn;
  co_return c;
}

void ConnectionPool::CloseAll() {
  std::lock_guard lock(mu_);
  for (auto& [addr, slot] : slots_) {
    for (auto& c : slot.conns) {
      if (c) c->Close();
    }
  }
  slots_.clear();
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("address '" + std::string(address) + "' is not HOST:PORT");
  }
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return Status::InvalidArgument("bad port in address '" + std::string(address) + "'");
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(value));
}

}  // namespace granary::net
