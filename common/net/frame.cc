#include "common/net/frame.h"

#include <cstring>
#include <string>

#include "common/checksum/xxh3.h"
#include "common/endian.h"

namespace granary::net {
namespace {

constexpr size_t kChecksummedBytes = 28;

}  // namespace

void EncodeFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]) {
  PutU32(out + 0, kFrameMagic);
  out[4] = kFrameVersion;
  out[5] = static_cast<uint8_t>(h.kind);
  PutU16(out + 6, h.method);
  PutU64(out + 8, h.request_id);
  PutU32(out + 16, h.kind == FrameKind::kRequest ? h.trace : h.status);
  PutU32(out + 20, h.message_len);
  PutU32(out + 24, h.payload_len);
  PutU32(out + 28, checksum::Xxh32(out, kChecksummedBytes));
}

Result<FrameHeader> DecodeFrameHeader(const uint8_t in[kFrameHeaderSize],
                                      const FrameLimits& limits) {
  if (GetU32(in) != kFrameMagic) return Status::Protocol("bad frame magic (not a Granary peer?)");
  if (GetU32(in + 28) != checksum::Xxh32(in, kChecksummedBytes)) {
    return Status::Protocol("frame header checksum mismatch");
  }
  if (in[4] != kFrameVersion) {
    return Status::Protocol("unsupported frame version " + std::to_string(in[4]));
  }
  FrameHeader h;
  if (in[5] != static_cast<uint8_t>(FrameKind::kRequest) &&
      in[5] != static_cast<uint8_t>(FrameKind::kResponse)) {
    return Status::Protocol("bad frame kind " + std::to_string(in[5]));
  }
  h.kind = static_cast<FrameKind>(in[5]);
  h.method = GetU16(in + 6);
  h.request_id = GetU64(in + 8);
  if (h.kind == FrameKind::kRequest) {
    h.trace = GetU32(in + 16);
  } else {
    h.status = GetU32(in + 16);
  }
  h.message_len = GetU32(in + 20);
  h.payload_len = GetU32(in + 24);
  if (h.message_len > limits.max_message_bytes) {
    return Status::Protocol("frame message of " + std::to_string(h.message_len) +
                            " bytes exceeds the limit of " +
                            std::to_string(limits.max_message_bytes));
  }
  if (h.payload_len > limits.max_payload_bytes) {
    return Status::Protocol("frame payload of " + std::to_string(h.payload_len) +
                            " bytes exceeds the limit of " +
                            std::to_string(limits.max_payload_bytes));
  }
  return h;
}

}  // namespace granary::net
