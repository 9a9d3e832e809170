#include "common/net/frame.h"

#include <bit>
#include <cstring>
#include <string>

#include "common/checksum/xxh3.h"

namespace granary::net {
namespace {

void Put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void Put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void Put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint16_t Get16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
uint32_t Get32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t Get64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

static_assert(std::endian::native == std::endian::little, "frame codec assumes little-endian");

constexpr size_t kChecksummedBytes = 28;

}  // namespace

void EncodeFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]) {
  Put32(out + 0, kFrameMagic);
  out[4] = kFrameVersion;
  out[5] = static_cast<uint8_t>(h.kind);
  Put16(out + 6, h.method);
  Put64(out + 8, h.request_id);
  Put32(out + 16, h.status);
  Put32(out + 20, h.message_len);
  Put32(out + 24, h.payload_len);
  Put32(out + 28, checksum::Xxh32(out, kChecksummedBytes));
}

Result<FrameHeader> DecodeFrameHeader(const uint8_t in[kFrameHeaderSize],
                                      const FrameLimits& limits) {
  if (Get32(in) != kFrameMagic) return Status::Protocol("bad frame magic (not a Granary peer?)");
  if (Get32(in + 28) != checksum::Xxh32(in, kChecksummedBytes)) {
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
  h.method = Get16(in + 6);
  h.request_id = Get64(in + 8);
  h.status = Get32(in + 16);
  h.message_len = Get32(in + 20);
  h.payload_len = Get32(in + 24);
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
