#include "common/net/frame_mac.h"

#include "common/endian.h"

namespace granary::net {

MacTag FrameMac::Compute(const uint8_t header[kFrameHeaderSize], std::string_view message,
                         std::span<const uint8_t> payload) {
  uint8_t seq[8];
  PutU64(seq, seq_);
  mac_.Reset();
  mac_.Update(std::span<const uint8_t>(seq, sizeof seq));
  mac_.Update(std::span<const uint8_t>(header, kFrameHeaderSize));
  mac_.Update(message);
  mac_.Update(payload);
  return mac_.Final();
}

MacTag FrameMac::Sign(const uint8_t header[kFrameHeaderSize], std::string_view message,
                      std::span<const uint8_t> payload) {
  MacTag tag = Compute(header, message, payload);
  ++seq_;
  return tag;
}

Status FrameMac::Verify(const uint8_t header[kFrameHeaderSize], std::string_view message,
                        std::span<const uint8_t> payload, std::span<const uint8_t> tag) {
  MacTag want = Compute(header, message, payload);
  if (!TagsEqual(want, tag)) {
    return Status::PermissionDenied("frame " + std::to_string(seq_) +
                                    " fails its MAC (altered, replayed or reordered in transit)");
  }
  ++seq_;
  return Status::Ok();
}

}  // namespace granary::net
