#pragma once
// The cluster key handshake (docs/security.md): both sides prove they hold
// the same key without sending it, and derive the per-direction keys that
// tag every later frame.
//
//   client -> server  AUTH_HELLO  key id, client nonce (32 random bytes)
//   server -> client              server nonce (32 random bytes)
//   client -> server  AUTH_PROVE  HMAC(K, "client proof" || transcript)
//   server -> client              HMAC(K, "server proof" || transcript), role
//
// Both run on the connection's strand before its writer starts, within
// `timeout` (the connection is closed when it passes). Handshake frames are
// small: a peer announcing more than kMaxAuthMessageBytes, or a payload, is
// refused before anything is read or allocated.

#include <string>

#include "common/net/asio_types.h"
#include "common/net/cluster_key.h"
#include "common/net/frame_connection.h"
#include "common/net/frame_mac.h"
#include "common/status.h"

namespace granary::net {

inline constexpr uint32_t kAuthVersion = 1;
inline constexpr size_t kNonceBytes = 32;
inline constexpr uint32_t kMaxAuthMessageBytes = 512;

struct AuthSession {
  std::string key_id;
  KeyRole role = KeyRole::kReadOnly;
  SessionKeys keys;  // send/recv from this side's point of view
};

// Server side. Refusals are answered on the wire with PERMISSION_DENIED and a
// message for the client ("cluster requires a key", "wrong cluster key"),
// and returned for the caller to log. Errors: PERMISSION_DENIED, TIMEOUT,
// UNAVAILABLE (peer gone), PROTOCOL_ERROR.
Awaitable<Result<AuthSession>> ServerHandshake(FrameConnection& conn, const KeyRing& keys,
                                               Millis timeout);

// Client side, against the server at `address` (for messages). Errors:
// PERMISSION_DENIED (the server refused the key, the server has no key, or
// the server could not prove it holds ours), TIMEOUT, UNAVAILABLE.
Awaitable<Result<AuthSession>> ClientHandshake(FrameConnection& conn, const ClusterKey& key,
                                               const std::string& address, Millis timeout);

// What a server without a key file answers to AUTH_HELLO.
Status NoClusterKeyStatus();

}  // namespace granary::net
