#pragma once
// FrameMac: the tag that follows every frame on an authenticated connection
// (docs/security.md, "Frame MAC").
//
//   tag = HMAC-SHA256(direction key, u64 LE sequence || header (32 bytes)
//                                    || message || payload)
//
// The sequence number is not sent: each side counts the frames it has sent
// and received in that direction since the handshake, starting at 0. A
// replayed, dropped, reordered or altered frame therefore fails the check,
// and the connection is closed. Not thread-safe: one FrameMac per direction,
// used by that direction's single reader or writer.

#include <cstdint>
#include <span>
#include <string_view>

#include "common/net/frame.h"
#include "common/net/hmac.h"
#include "common/status.h"

namespace granary::net {

// The two per-direction keys a handshake derives (kMacBytes each).
struct SessionKeys {
  std::string send;
  std::string recv;
};

class FrameMac {
 public:
  explicit FrameMac(std::string_view key) : mac_(key) {}

  // The tag of the next frame in this direction; advances the sequence.
  MacTag Sign(const uint8_t header[kFrameHeaderSize], std::string_view message,
              std::span<const uint8_t> payload);

  // Checks `tag` against the next frame in this direction; advances the
  // sequence when it matches. Errors: PERMISSION_DENIED.
  Status Verify(const uint8_t header[kFrameHeaderSize], std::string_view message,
                std::span<const uint8_t> payload, std::span<const uint8_t> tag);

  uint64_t sequence() const { return seq_; }

 private:
  MacTag Compute(const uint8_t header[kFrameHeaderSize], std::string_view message,
                 std::span<const uint8_t> payload);

  HmacSha256 mac_;
  uint64_t seq_ = 0;
};

}  // namespace granary::net
