#pragma once
// Frame format of Granary's RPC (full spec: docs/wire_format.md).
//
//   header (32 bytes, little-endian)
//     u32 magic "GRNY"   u8 version   u8 kind   u16 method
//     u64 request_id     u32 status (responses) or trace (requests)
//     u32 message_len    u32 payload_len
//     u32 header_checksum (XXH32 of the 28 bytes before it)
//   message_len bytes: one Protobuf message (or, for a failed response, the
//                      UTF-8 error message)
//   payload_len bytes: raw bulk data (chunk pieces, read results)
//
// Both lengths are checked against FrameLimits before anything is allocated.

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace granary::net {

inline constexpr uint32_t kFrameMagic = 0x594E5247;  // bytes "GRNY"
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 32;

enum class FrameKind : uint8_t { kRequest = 1, kResponse = 2 };

struct FrameLimits {
  // Largest Protobuf message accepted (readdir pages, chunk maps).
  uint32_t max_message_bytes = 8u << 20;
  // Largest raw payload accepted: 16 encoded 1 MiB blocks with headers and slack.
  uint32_t max_payload_bytes = 20u << 20;
};

struct FrameHeader {
  FrameKind kind = FrameKind::kRequest;
  uint16_t method = 0;
  uint64_t request_id = 0;
  // Bytes 16..19 hold the status in a response and the trace in a request.
  uint32_t status = 0;  // proto::ErrorCode of a response; 0 in requests
  // Trace id of a request: chosen by whoever started the operation (a client
  // writing a file, metad repairing a chunk) and passed on by every daemon
  // that makes calls on its behalf, so one grep of the logs finds every step.
  // 0 = none. Always 0 in responses: the caller knows its own trace.
  uint32_t trace = 0;
  uint32_t message_len = 0;
  uint32_t payload_len = 0;
};

// Writes the 32-byte header, checksum included.
void EncodeFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]);

// Parses and validates a header: magic, version, kind, checksum and both
// lengths against `limits`. Errors are PROTOCOL_ERROR with the reason.
Result<FrameHeader> DecodeFrameHeader(const uint8_t in[kFrameHeaderSize],
                                      const FrameLimits& limits);

}  // namespace granary::net
