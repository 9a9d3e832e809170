#pragma once
// Which key roles may call which RPC method: the one table that classifies
// every proto::Method (method_access.cc; a unit test checks that none is
// missing). The server checks it for every request on an authenticated
// connection before the request is dispatched.
//
//   kRead     reads data or state                  ro, rw, cluster
//   kWrite    changes files, folders or chunks     rw, cluster
//   kCluster  daemon-to-daemon and administration  cluster
//   kHandshake  only valid before authentication   (nobody after it)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net/cluster_key.h"
#include "common/status.h"

namespace granary::net {

enum class MethodAccess : uint8_t { kRead, kWrite, kCluster, kHandshake };

// The name of a method number for messages and logs ("CHUNK_WRITE",
// "AUTH_HELLO"; "method 999" for a number neither enum knows).
std::string MethodLabel(uint16_t method);

// The class of `method`; nullopt for a number the table does not know (the
// server refuses it like a kCluster method, then answers UNKNOWN_METHOD).
std::optional<MethodAccess> AccessOf(uint16_t method);

// OK when a connection authenticated with `role` may call `method`.
// Errors: PERMISSION_DENIED ("read-only key 'ID' ..." for a mutating method
// called with an ro key; "key 'ID' (role rw) ..." for a cluster method).
Status Authorize(KeyRole role, std::string_view key_id, uint16_t method);

}  // namespace granary::net
