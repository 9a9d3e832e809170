#pragma once
// FrameConnection: one TCP socket carrying Granary frames, shared by the
// server and client sides of the RPC layer.
//
// The socket lives on a strand. Reading: one coroutine (spawned on strand())
// calls ReadFrame() in a loop; small frames are parsed out of a 64 KiB read
// buffer, large payloads are read straight into their destination Buffer.
// Writing: Send() may be called from any thread; frames are queued and one
// writer coroutine gathers queued frames into a single vectored write.
// Close() may be called from any thread and is idempotent; queued frames are
// dropped and pending reads fail.
//
// Authenticated connections (docs/security.md): the handshake runs first,
// with ReadHeader/ReadBody and WriteFrameNow, before StartWriter. Then
// EnableAuth makes every frame in both directions carry a MAC tag after its
// payload; a frame whose tag does not verify fails ReadFrame with
// PERMISSION_DENIED. File payloads are then read into memory to be tagged, so
// they lose sendfile's zero copy.

#include <deque>
#include <optional>
#include <memory>
#include <string>

#include "common/buffer.h"
#include "common/net/asio_types.h"
#include "common/net/file_payload.h"
#include "common/net/frame.h"
#include "common/net/frame_mac.h"
#include "common/status.h"

namespace granary::net {

using Strand = asio::strand<asio::any_io_executor>;
using SharedBuffer = std::shared_ptr<const Buffer>;

struct InFrame {
  FrameHeader header;
  std::string message;
  Buffer payload;
};

struct OutFrame {
  FrameHeader header;  // lengths are filled in by Send()
  std::string message;
  SharedBuffer payload;  // may be null
  std::optional<FilePayload> file;  // instead of `payload`: bytes sent from a file
};

class FrameConnection : public std::enable_shared_from_this<FrameConnection> {
 public:
  // `socket` must already be bound to `strand`.
  FrameConnection(Strand strand, asio::ip::tcp::socket socket, FrameLimits limits);
  ~FrameConnection();

  // Spawns the writer coroutine. Call once, after construction.
  void StartWriter();

  // Reads one whole frame. Must run on strand(). Errors: UNAVAILABLE when the
  // peer closed or the socket failed; PROTOCOL_ERROR for a malformed header;
  // PERMISSION_DENIED for a frame failing its MAC (after EnableAuth).
  Awaitable<Result<InFrame>> ReadFrame();
  // The two halves of ReadFrame, for the handshake, which decides from the
  // header alone whether to read the rest. ReadBody checks the MAC tag.
  Awaitable<Result<FrameHeader>> ReadHeader();
  Awaitable<Result<InFrame>> ReadBody(const FrameHeader& header);

  // Writes one frame at once, bypassing the queue; only before StartWriter
  // (the handshake). Must run on strand().
  Awaitable<Status> WriteFrameNow(OutFrame frame);

  // Tags every later frame with `keys.send` and requires tags made with
  // `keys.recv`. Call on strand(), after the handshake, before StartWriter.
  void EnableAuth(const SessionKeys& keys);

  // Queues a frame for sending; thread-safe. Dropped if the connection closed.
  void Send(OutFrame frame);

  // Sends nothing more after the queued frames and then closes. Used to
  // deliver a final PROTOCOL_ERROR before hanging up.
  void CloseAfterFlush();

  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  Strand& strand() { return strand_; }
  const std::string& peer() const { return peer_; }

 private:
  Awaitable<void> WriteLoop();
  Awaitable<Status> ReadExact(uint8_t* dst, size_t n);
  Awaitable<Status> SendFile(FilePayload file);
  void CloseOnStrand();
  // Replaces a file payload by its bytes (to tag them). Errors: IO_ERROR.
  static Status LoadFilePayload(OutFrame& frame);

  // Header bytes as last read, kept for the MAC check of the body.
  uint8_t last_header_[kFrameHeaderSize];
  // Set by EnableAuth; the writer uses send_mac_, the reader recv_mac_.
  std::unique_ptr<FrameMac> send_mac_;
  std::unique_ptr<FrameMac> recv_mac_;

  Strand strand_;
  asio::ip::tcp::socket socket_;
  FrameLimits limits_;
  std::string peer_;
  std::atomic<bool> closed_{false};

  // Read buffer: [rpos_, rend_) holds unread bytes.
  std::unique_ptr<uint8_t[]> rbuf_;
  size_t rpos_ = 0;
  size_t rend_ = 0;

  // Writer state, touched only on the strand.
  std::deque<OutFrame> queue_;
  asio::steady_timer wake_;
  bool close_after_flush_ = false;
  // While a file payload is being sent the socket is only shut down by
  // Close(), never closed, so its descriptor cannot be reused under sendfile.
  bool sending_file_ = false;
};

}  // namespace granary::net
