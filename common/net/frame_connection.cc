#include "common/net/frame_connection.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/buffer_pool.h"
#include "common/log.h"

namespace granary::net {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
// Frames gathered into one vectored write: bounds the iovec count.
constexpr size_t kMaxFramesPerWrite = 32;

std::string PeerOf(const asio::ip::tcp::socket& s) {
  asio::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

FrameConnection::FrameConnection(Strand strand, asio::ip::tcp::socket socket, FrameLimits limits)
    : strand_(std::move(strand)),
      socket_(std::move(socket)),
      limits_(limits),
      peer_(PeerOf(socket_)),
      rbuf_(std::make_unique_for_overwrite<uint8_t[]>(kReadBufferSize)),
      wake_(strand_, Clock::time_point::max()) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

FrameConnection::~FrameConnection() = default;

void FrameConnection::StartWriter() {
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->WriteLoop(); },
                 asio::detached);
}

Awaitable<Status> FrameConnection::ReadExact(uint8_t* dst, size_t n) {
  // Serve from the read buffer first.
  size_t have = rend_ - rpos_;
  size_t take = have < n ? have : n;
  if (take) {
    std::memcpy(dst, rbuf_.get() + rpos_, take);
    rpos_ += take;
    dst += take;
    n -= take;
  }
  if (n == 0) co_return Status::Ok();
  // Large remainders go straight to the destination (bulk payloads).
  if (n >= kReadBufferSize / 2) {
    auto [ec, got] = co_await asio::async_read(socket_, asio::buffer(dst, n), kUseTuple);
    if (ec) co_return Status::Unavailable("connection to " + peer_ + " lost: " + ec.message());
    co_return Status::Ok();
  }
  // Refill the buffer with at least n bytes.
  rpos_ = rend_ = 0;
  while (rend_ < n) {
    auto [ec, got] = co_await socket_.async_read_some(
        asio::buffer(rbuf_.get() + rend_, kReadBufferSize - rend_), kUseTuple);
    if (ec) co_return Status::Unavailable("connection to " + peer_ + " lost: " + ec.message());
    rend_ += got;
  }
  std::memcpy(dst, rbuf_.get(), n);
  rpos_ = n;
  co_return Status::Ok();
}

Awaitable<Result<FrameHeader>> FrameConnection::ReadHeader() {
  CO_RETURN_IF_ERROR(co_await ReadExact(last_header_, sizeof last_header_));
  auto header = DecodeFrameHeader(last_header_, limits_);
  if (!header.ok()) co_return header.status().WithContext("frame from " + peer_);
  co_return *header;
}

Awaitable<Result<InFrame>> FrameConnection::ReadBody(const FrameHeader& header) {
  InFrame f;
  f.header = header;
  f.message.resize(f.header.message_len);
  CO_RETURN_IF_ERROR(
      co_await ReadExact(reinterpret_cast<uint8_t*>(f.message.data()), f.header.message_len));
  if (f.header.payload_len) {
    f.payload = PooledBuffer(f.header.payload_len);
    CO_RETURN_IF_ERROR(co_await ReadExact(f.payload.data(), f.header.payload_len));
  }
  if (recv_mac_) {
    MacTag tag;
    CO_RETURN_IF_ERROR(co_await ReadExact(tag.data(), tag.size()));
    Status st = recv_mac_->Verify(last_header_, f.message, f.payload.span(), tag);
    if (!st.ok()) {
      // Either an attack or a broken peer: worth a line in the log either way.
      LOG_WARN("connection with {}: {}", peer_, st.message());
      co_return st.WithContext("connection with " + peer_);
    }
  }
  co_return f;
}

Awaitable<Result<InFrame>> FrameConnection::ReadFrame() {
  auto header = co_await ReadHeader();
  if (!header.ok()) co_return header.status();
  co_return co_await ReadBody(*header);
}

Awaitable<Status> FrameConnection::WriteFrameNow(OutFrame frame) {
  frame.header.message_len = static_cast<uint32_t>(frame.message.size());
  frame.header.payload_len = frame.payload ? static_cast<uint32_t>(frame.payload->size()) : 0;
  uint8_t header[kFrameHeaderSize];
  EncodeFrameHeader(frame.header, header);
  std::vector<asio::const_buffer> iov{asio::buffer(header), asio::buffer(frame.message)};
  if (frame.payload) iov.emplace_back(frame.payload->data(), frame.payload->size());
  auto [ec, written] = co_await asio::async_write(socket_, iov, kUseTuple);
  if (ec) co_return Status::Unavailable("connection to " + peer_ + " lost: " + ec.message());
  co_return Status::Ok();
}

void FrameConnection::EnableAuth(const SessionKeys& keys) {
  send_mac_ = std::make_unique<FrameMac>(keys.send);
  recv_mac_ = std::make_unique<FrameMac>(keys.recv);
}

Status FrameConnection::LoadFilePayload(OutFrame& frame) {
  const FilePayload& f = *frame.file;
  auto buf = std::make_shared<Buffer>(f.length);
  uint64_t done = 0;
  while (done < f.length) {
    ssize_t n = ::pread(f.fd, buf->data() + done, f.length - done,
                        static_cast<off_t>(f.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(std::string("reading file payload: ") + std::strerror(errno));
    if (n == 0) return Status::IoError("file payload ended " + std::to_string(f.length - done) +
                                       " bytes early");
    done += static_cast<uint64_t>(n);
  }
  frame.payload = std::move(buf);
  frame.file.reset();
  return Status::Ok();
}

void FrameConnection::Send(OutFrame frame) {
  if (closed()) return;
  frame.header.message_len = static_cast<uint32_t>(frame.message.size());
  frame.header.payload_len = frame.file      ? static_cast<uint32_t>(frame.file->length)
                             : frame.payload ? static_cast<uint32_t>(frame.payload->size())
                                             : 0;
  asio::post(strand_, [self = shared_from_this(), f = std::move(frame)]() mutable {
    if (self->closed()) return;
    self->queue_.push_back(std::move(f));
    self->wake_.cancel_one();
  });
}

Awaitable<void> FrameConnection::WriteLoop() {
  auto self = shared_from_this();  // keeps the connection alive while writing
  std::vector<asio::const_buffer> iov;
  std::vector<std::array<uint8_t, kFrameHeaderSize>> headers;
  std::vector<MacTag> tags;
  while (!closed()) {
    if (queue_.empty()) {
      if (close_after_flush_) break;
      wake_.expires_at(Clock::time_point::max());
      co_await wake_.async_wait(kUseTuple);
      continue;
    }
    // Gather up to kMaxFramesPerWrite frames into one write, ending the
    // batch at a frame whose payload comes from a file.
    std::vector<OutFrame> batch;
    Status loaded;
    while (!queue_.empty() && batch.size() < kMaxFramesPerWrite) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      // A tagged file payload must pass through memory; it then travels
      // like any other payload.
      if (send_mac_ && batch.back().file) loaded = LoadFilePayload(batch.back());
      if (!loaded.ok() || batch.back().file) break;
    }
    if (!loaded.ok()) {
      LOG_WARN("reply to {} dropped, closing: {}", peer_, loaded.ToString());
      break;
    }
    const size_t n = batch.size();
    headers.resize(n);
    tags.resize(n);
    iov.clear();
    for (size_t i = 0; i < n; ++i) {
      EncodeFrameHeader(batch[i].header, headers[i].data());
      iov.emplace_back(headers[i].data(), kFrameHeaderSize);
      if (!batch[i].message.empty()) iov.emplace_back(asio::buffer(batch[i].message));
      if (batch[i].payload && !batch[i].payload->empty()) {
        iov.emplace_back(batch[i].payload->data(), batch[i].payload->size());
      }
      if (send_mac_) {
        tags[i] = send_mac_->Sign(headers[i].data(), batch[i].message,
                                  batch[i].payload ? batch[i].payload->span()
                                                   : std::span<const uint8_t>());
        iov.emplace_back(tags[i].data(), tags[i].size());
      }
    }
    auto [ec, written] = co_await asio::async_write(socket_, iov, kUseTuple);
    if (ec) {
      LOG_DEBUG("write to {} failed: {}", peer_, ec.message());
      break;
    }
    if (batch.back().file && batch.back().file->length > 0) {
      // The connection may have been closed while the write completed.
      if (closed()) break;
      sending_file_ = true;
      Status st = co_await SendFile(std::move(*batch.back().file));
      sending_file_ = false;
      if (!st.ok()) {
        // A peer hanging up mid-reply is routine; anything else is worth a warning.
        if (st.code() == proto::UNAVAILABLE || closed()) {
          LOG_DEBUG("sending file payload to {} stopped: {}", peer_, st.ToString());
        } else {
          LOG_WARN("sending file payload to {} failed: {}", peer_, st.ToString());
        }
        break;
      }
    }
  }
  CloseOnStrand();
}

void FrameConnection::CloseAfterFlush() {
  asio::post(strand_, [self = shared_from_this()] {
    self->close_after_flush_ = true;
    self->wake_.cancel_one();
  });
}

void FrameConnection::Close() {
  asio::post(strand_, [self = shared_from_this()] { self->CloseOnStrand(); });
}

void FrameConnection::CloseOnStrand() {
  asio::error_code ec;
  if (!closed_.exchange(true, std::memory_order_acq_rel)) {
    // Shutdown wakes a sendfile blocked on this socket in another thread.
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    queue_.clear();
    wake_.cancel();
  }
  if (!sending_file_) socket_.close(ec);
}

Awaitable<Status> FrameConnection::SendFile(FilePayload f) {
  // Non-blocking sendfile on the I/O thread: when the socket is full, wait
  // for room like any other async write. Pages not in the page cache are read
  // inside sendfile; servers start that reading early (POSIX_FADV_WILLNEED)
  // on their disk threads.
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);
  const int sock = socket_.native_handle();
  off_t off = static_cast<off_t>(f.offset);
  uint64_t left = f.length;
  while (left > 0) {
    ssize_t n = ::sendfile(sock, f.fd, &off, left);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) co_return Status::IoError("file ended " + std::to_string(left) + " bytes early");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      co_return Status::Unavailable(std::string("sendfile: ") + std::strerror(errno));
    }
    auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_write, kUseTuple);
    if (ec) co_return Status::Unavailable("waiting to send: " + ec.message());
  }
  co_return Status::Ok();
}

}  // namespace granary::net
