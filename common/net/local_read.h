#pragma once
// Local reads: a client on the same host as a chunk server asks it for a
// read-only descriptor of a committed replica file over a Unix socket and
// then reads the file itself (pread), skipping TCP, the server's event loop
// and two copies. Replica files are immutable once committed and named by
// (chunk id, version), so a descriptor stays valid for that version even
// after the server deletes the file. The client verifies every block's
// checksum exactly as on the network path.
//
// The socket lives in the abstract namespace (no file to clean up) under a
// name derived from the server's advertised address: a client that can
// connect to it shares the host (and network namespace) of exactly that
// server. The server accepts peers running as root or as its own user.
//
// Wire format, little-endian, one request and one reply at a time:
//   request  (32 B): u32 magic "GLRQ", u32 format (1), u64 chunk_id,
//                    u64 version, u64 reserved (0)
//   reply    (16 B): u32 magic "GLRS", u32 status (proto::ErrorCode, 0 = ok),
//                    u64 file size; on success one descriptor rides along
//                    (SCM_RIGHTS).

#include <cstdint>
#include <string>

namespace granary::net {

inline constexpr uint32_t kLocalReadRequestMagic = 0x5152'4C47;  // "GLRQ"
inline constexpr uint32_t kLocalReadReplyMagic = 0x5352'4C47;    // "GLRS"
inline constexpr uint32_t kLocalReadFormat = 1;
inline constexpr size_t kLocalReadRequestSize = 32;
inline constexpr size_t kLocalReadReplySize = 16;

// The abstract socket name (leading NUL included) of the chunk server
// advertised as `address` ("host:port").
inline std::string LocalReadSocketName(const std::string& address) {
  return std::string(1, '\0') + "granary-chunkd/" + address;
}

}  // namespace granary::net
