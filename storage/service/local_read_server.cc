#include "storage/service/local_read_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/endian.h"
#include "common/log.h"
#include "common/net/local_read.h"
#include "common/net/run_blocking.h"
#include "storage/store/file_util.h"

namespace granary::storage::service {
namespace {

using Local = asio::local::stream_protocol;

// The peer may use our files if it runs as root or as our user: the same
// principals that can read the data folders directly.
bool PeerAllowed(int fd, uint32_t* uid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  *uid = cred.uid;
  return cred.uid == 0 || cred.uid == ::geteuid();
}

// One reply, with `fd` attached when >= 0. The reply is 16 bytes on a socket
// nobody else writes to, so a short write means the peer is gone.
bool SendReply(int sock, proto::ErrorCode code, uint64_t size, int fd) {
  uint8_t buf[net::kLocalReadReplySize] = {};
  PutU32(buf, net::kLocalReadReplyMagic);
  PutU32(buf + 4, static_cast<uint32_t>(code));
  PutU64(buf + 8, size);
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof buf);
}

struct Opened {
  store::UniqueFd fd;
  uint64_t size = 0;
};

}  // namespace

LocalReadServer::LocalReadServer(net::Executor io, net::Executor disk, store::ChunkStore& store,
                                 std::string advertise)
    : io_(std::move(io)), disk_(std::move(disk)), store_(store), advertise_(std::move(advertise)) {}

Status LocalReadServer::Start() {
  const std::string name = net::LocalReadSocketName(advertise_);
  acceptor_ = std::make_unique<Local::acceptor>(io_);
  asio::error_code ec;
  (void)acceptor_->open(Local(), ec);
  if (!ec) (void)acceptor_->bind(Local::endpoint(name), ec);
  if (!ec) (void)acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.reset();
    return Status::Unavailable("local reads off: cannot listen on the local socket for " +
                               advertise_ + ": " + ec.message());
  }
  asio::co_spawn(io_, Accept(), asio::detached);
  return Status::Ok();
}

void LocalReadServer::Stop() {
  stopped_->store(true);
  if (acceptor_) {
    asio::post(io_, [this] {
      asio::error_code ec;
      if (acceptor_) (void)acceptor_->close(ec);
    });
  }
}

net::Awaitable<void> LocalReadServer::Accept() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_->async_accept(net::kUseTuple);
    if (stopped_->load()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      LOG_WARN("local reads: accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(io_, Serve(std::move(sock)), asio::detached);
  }
}

net::Awaitable<void> LocalReadServer::Serve(Local::socket sock) {
  uint32_t uid = 0;
  if (!PeerAllowed(sock.native_handle(), &uid)) {
    LOG_WARN("local reads: refused a client running as uid {}", uid);
    failed_.fetch_add(1, std::memory_order_relaxed);
    SendReply(sock.native_handle(), proto::PERMISSION_DENIED, 0, -1);
    co_return;
  }
  uint8_t req[net::kLocalReadRequestSize];
  while (!stopped_->load()) {
    auto [ec, n] = co_await asio::async_read(sock, asio::buffer(req), net::kUseTuple);
    if (ec) co_return;  // the client closed its end
    if (GetU32(req) != net::kLocalReadRequestMagic || GetU32(req + 4) != net::kLocalReadFormat) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      SendReply(sock.native_handle(), proto::PROTOCOL_ERROR, 0, -1);
      co_return;
    }
    const store::ChunkKey key{GetU64(req + 8), GetU64(req + 16)};
    Result<Opened> opened = co_await net::RunBlocking(disk_, [&]() -> Result<Opened> {
      // Only committed replicas are in the index; a file deleted between the
      // lookup and the open is simply not found.
      ASSIGN_OR_RETURN(store::ChunkMeta meta, store_.Stat(key));
      int fd = ::open(meta.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Status::ChunkNotFound(key.ToString() + ": " + std::strerror(errno));
      Opened o{store::UniqueFd(fd), meta.file_size};
      return o;
    });
    const bool sent = opened.ok()
                          ? SendReply(sock.native_handle(), proto::OK, opened->size,
                                      opened->fd.get())
                          : SendReply(sock.native_handle(), opened.status().code(), 0, -1);
    (opened.ok() && sent ? sent_ : failed_).fetch_add(1, std::memory_order_relaxed);
    if (!sent) co_return;
  }
}

}  // namespace granary::storage::service
