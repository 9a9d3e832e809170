#include "common/net/rpc_server.h"

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "common/net/auth_handshake.h"
#include "common/net/frame_connection.h"
#include "common/net/method_access.h"
#include "common/proto/auth.pb.h"

namespace granary::net {

// One accepted connection: a reader loop that spawns a coroutine per request,
// bounded by max_inflight_per_connection, and an idle watchdog.
class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(std::shared_ptr<RpcServer::Impl> server, std::shared_ptr<FrameConnection> conn)
      : server_(std::move(server)),
        conn_(std::move(conn)),
        slot_free_(conn_->strand(), Clock::time_point::max()),
        watchdog_(conn_->strand()) {}

  void Start();
  void Close() { conn_->Close(); }
  bool closed() const { return conn_->closed(); }

 private:
  Awaitable<void> ReadLoop();
  Awaitable<bool> Authenticate();
  Awaitable<void> Watchdog();
  Awaitable<void> Serve(InFrame frame);
  void SendError(uint16_t method, uint64_t request_id, const Status& st);

  std::shared_ptr<RpcServer::Impl> server_;
  std::shared_ptr<FrameConnection> conn_;
  // Touched on the strand only.
  uint32_t inflight_ = 0;
  asio::steady_timer slot_free_;
  asio::steady_timer watchdog_;
  Clock::time_point last_frame_ = Clock::now();
  // Who the peer proved to be; without cluster keys everyone may do anything.
  KeyRole role_ = KeyRole::kCluster;
  std::string key_id_;
};

struct RpcServer::Impl : std::enable_shared_from_this<RpcServer::Impl> {
  Executor executor;
  ServerOptions options;
  std::unordered_map<uint16_t, RawHandler> handlers;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  uint16_t port = 0;
  std::atomic<bool> stopped{false};

  std::mutex mu;
  std::unordered_set<std::shared_ptr<ServerConnection>> connections;

  Awaitable<void> AcceptLoop();
  void Forget(const std::shared_ptr<ServerConnection>& c) {
    std::lock_guard lock(mu);
    connections.erase(c);
  }
};

void ServerConnection::Start() {
  // With cluster keys the writer starts after the handshake (ReadLoop).
  if (!server_->options.keys) conn_->StartWriter();
  auto self = shared_from_this();
  asio::co_spawn(conn_->strand(), [self] { return self->ReadLoop(); }, asio::detached);
  asio::co_spawn(conn_->strand(), [self] { return self->Watchdog(); }, asio::detached);
}

void ServerConnection::SendError(uint16_t method, uint64_t request_id, const Status& st) {
  OutFrame out;
  out.header.kind = FrameKind::kResponse;
  out.header.method = method;
  out.header.request_id = request_id;
  out.header.status = static_cast<uint32_t>(st.code());
  out.message = st.message();
  conn_->Send(std::move(out));
}

Awaitable<bool> ServerConnection::Authenticate() {
  const auto& opts = server_->options;
  auto session = co_await ServerHandshake(*conn_, *opts.keys, opts.handshake_timeout);
  if (!session.ok()) {
    // The peer has been told why (when it could be); this connection alone ends.
    LOG_WARN("refused connection from {}: {}", conn_->peer(), session.status().ToString());
    conn_->Close();
    co_return false;
  }
  role_ = session->role;
  key_id_ = session->key_id;
  conn_->EnableAuth(session->keys);
  conn_->StartWriter();
  LOG_DEBUG("connection from {} authenticated with key '{}' ({})", conn_->peer(), key_id_,
            KeyRoleName(role_));
  co_return true;
}

Awaitable<void> ServerConnection::ReadLoop() {
  auto self = shared_from_this();
  const auto& opts = server_->options;
  if (opts.keys && !co_await Authenticate()) {
    server_->Forget(self);
    co_return;
  }
  while (!conn_->closed()) {
    auto frame = co_await conn_->ReadFrame();
    if (!frame.ok()) {
      if (frame.status().code() == proto::PROTOCOL_ERROR) {
        // Tell the peer why before hanging up; only this connection closes.
        LOG_WARN("closing connection from {}: {}", conn_->peer(), frame.status().ToString());
        if (opts.observer) opts.observer->OnProtocolError();
        SendError(0, 0, frame.status());
        conn_->CloseAfterFlush();
      } else {
        conn_->Close();
      }
      break;
    }
    last_frame_ = Clock::now();
    if (frame->header.kind != FrameKind::kRequest) {
      Status st = Status::Protocol("expected a request frame from " + conn_->peer());
      LOG_WARN("{}", st.ToString());
      SendError(frame->header.method, frame->header.request_id, st);
      conn_->CloseAfterFlush();
      break;
    }
    if (opts.keys) {
      // Checked before dispatch, so no handler runs for a call its key may not make.
      if (Status st = Authorize(role_, key_id_, frame->header.method); !st.ok()) {
        SendError(frame->header.method, frame->header.request_id, st);
        continue;
      }
    }
    // Backpressure: stop reading while too many requests are being served.
    while (inflight_ >= opts.max_inflight_per_connection && !conn_->closed()) {
      slot_free_.expires_at(Clock::time_point::max());
      co_await slot_free_.async_wait(kUseTuple);
    }
    ++inflight_;
    asio::co_spawn(server_->executor, Serve(std::move(*frame)), asio::detached);
  }
  server_->Forget(self);
}

Awaitable<void> ServerConnection::Serve(InFrame frame) {
  auto self = shared_from_this();
  const uint16_t method = frame.header.method;
  const auto start = Clock::now();
  const uint64_t request_bytes = frame.message.size() + frame.payload.size();
  uint64_t response_bytes = 0;
  Status st;
  std::string reply;
  CallContext ctx;
  ctx.peer = conn_->peer();
  ctx.trace = frame.header.trace;
  ctx.role = role_;
  ctx.payload = std::move(frame.payload);
  auto it = server_->handlers.find(method);
  if (it == server_->handlers.end()) {
    st = Status(proto::UNKNOWN_METHOD, "unknown method " + std::to_string(method));
  } else {
    try {
      st = co_await it->second(ctx, frame.message, &reply);
    } catch (const std::exception& e) {
      // A handler bug must not take the process down: report and go on.
      st = Status::Internal(std::string("handler for method ") + std::to_string(method) +
                            " threw: " + e.what());
      LOG_ERROR("{}", st.ToString());
    }
  }
  if (!st.ok()) {
    response_bytes = st.message().size();
    SendError(method, frame.header.request_id, st);
  } else {
    response_bytes = reply.size() + (ctx.reply_payload ? ctx.reply_payload->size() : 0) +
                     (ctx.reply_file ? ctx.reply_file->length : 0);
    OutFrame out;
    out.header.kind = FrameKind::kResponse;
    out.header.method = method;
    out.header.request_id = frame.header.request_id;
    out.message = std::move(reply);
    out.payload = std::move(ctx.reply_payload);
    out.file = std::move(ctx.reply_file);
    conn_->Send(std::move(out));
  }
  const auto latency = Clock::now() - start;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  // key=value fields, so the logs of every daemon can be grepped and parsed
  // alike; `trace=` joins the steps of one operation across processes.
  if (!st.ok() && !IsExpectedAnswer(st.code())) {
    LOG_WARN("rpc {} trace={} peer={} failed after {} us: {}", MethodLabel(method),
             TraceHex(ctx.trace), ctx.peer, micros, st.ToString());
  } else if (latency > server_->options.slow_call) {
    LOG_WARN("rpc {} trace={} peer={} slow: {} us, {} bytes in, {} bytes out",
             MethodLabel(method), TraceHex(ctx.trace), ctx.peer, micros, request_bytes,
             response_bytes);
  } else if (spdlog::should_log(spdlog::level::debug)) {
    LOG_DEBUG("rpc {} trace={} peer={} code={} us={} in={} out={}", MethodLabel(method),
              TraceHex(ctx.trace), ctx.peer, proto::ErrorCode_Name(st.code()), micros,
              request_bytes, response_bytes);
  }
  if (const auto& observer = server_->options.observer) {
    observer->OnCall({method, st.code(), request_bytes, response_bytes, latency});
  }
  asio::post(conn_->strand(), [self] {
    --self->inflight_;
    self->slot_free_.cancel_one();
  });
}

Awaitable<void> ServerConnection::Watchdog() {
  auto self = shared_from_this();
  const auto idle = server_->options.idle_timeout;
  while (!conn_->closed()) {
    watchdog_.expires_after(idle / 4 + Millis(1));
    co_await watchdog_.async_wait(kUseTuple);
    if (inflight_ == 0 && Clock::now() - last_frame_ > idle) {
      LOG_DEBUG("closing idle connection from {}", conn_->peer());
      conn_->Close();
    }
  }
  slot_free_.cancel();
}

Awaitable<void> RpcServer::Impl::AcceptLoop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto strand = asio::make_strand(executor);
    auto [ec, socket] = co_await acceptor->async_accept(strand, kUseTuple);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      // EMFILE and friends: log, back off briefly, keep serving.
      LOG_WARN("accept failed: {}", ec.message());
      asio::steady_timer t(executor, Millis(50));
      co_await t.async_wait(kUseTuple);
      continue;
    }
    {
      std::lock_guard lock(mu);
      if (connections.size() >= options.max_connections) {
        LOG_WARN("refusing connection: {} connections open", connections.size());
        continue;  // the socket closes when it goes out of scope
      }
    }
    auto fc = std::make_shared<FrameConnection>(strand, std::move(socket), options.limits);
    auto sc = std::make_shared<ServerConnection>(self, fc);
    {
      std::lock_guard lock(mu);
      connections.insert(sc);
    }
    sc->Start();
  }
}

RpcServer::RpcServer(Executor executor, ServerOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->options = std::move(options);
  // Every server answers PING (liveness probes); a service may replace it.
  Add<proto::PingRequest, proto::PingResponse>(
      proto::PING, [name = impl_->options.name](CallContext&, const proto::PingRequest&,
                                                proto::PingResponse* resp) -> Awaitable<Status> {
        resp->set_server(name);
        co_return Status::Ok();
      });
  // A client with a key talking to a server without one gets a clear refusal.
  // With keys the handshake consumes AUTH_HELLO before any dispatch.
  AddRaw(static_cast<proto::Method>(proto::AUTH_HELLO),
         [](CallContext&, std::string_view, std::string*) -> Awaitable<Status> {
           co_return NoClusterKeyStatus();
         });
}

RpcServer::~RpcServer() { Stop(); }

void RpcServer::AddRaw(proto::Method method, RawHandler handler) {
  impl_->handlers[static_cast<uint16_t>(method)] = std::move(handler);
}

Status RpcServer::Start() {
  const auto& o = impl_->options;
  asio::error_code ec;
  auto addr = asio::ip::make_address(o.host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + o.host + "': " + ec.message());
  asio::ip::tcp::endpoint ep(addr, o.port);
  auto acc = std::make_unique<asio::ip::tcp::acceptor>(impl_->executor);
  std::string where = o.host + ":" + std::to_string(o.port);
  acc->open(ep.protocol(), ec);
  if (ec) return Status::IoError("socket for " + where + ": " + ec.message());
  acc->set_option(asio::socket_base::reuse_address(true), ec);
  acc->bind(ep, ec);
  if (ec) return Status::IoError("cannot bind " + where + ": " + ec.message());
  acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + where + ": " + ec.message());
  impl_->port = acc->local_endpoint().port();
  impl_->acceptor = std::move(acc);
  asio::co_spawn(impl_->executor, [impl = impl_] { return impl->AcceptLoop(); }, asio::detached);
  return Status::Ok();
}

void RpcServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  if (impl_->acceptor) {
    // Close on the acceptor's executor: acceptors are not thread-safe.
    asio::post(impl_->executor, [impl = impl_] {
      asio::error_code ec;
      impl->acceptor->close(ec);
    });
  }
  std::unordered_set<std::shared_ptr<ServerConnection>> conns;
  {
    std::lock_guard lock(impl_->mu);
    conns.swap(impl_->connections);
  }
  for (auto& c : conns) c->Close();
}

uint16_t RpcServer::port() const { return impl_->port; }
const ServerOptions& RpcServer::options() const { return impl_->options; }
size_t RpcServer::connection_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace granary::net
