#pragma once
// RpcObserver: what an RpcServer reports about the calls it serves, for
// metrics (common/metrics/rpc_metrics.h). The server calls it at one point
// per request, after the response is queued, so every method is covered
// without touching handlers.
//
// Thread safety: called concurrently from the server's I/O threads; an
// implementation must not block (no locks held across I/O, no syscalls).

#include <cstdint>

#include "common/net/asio_types.h"
#include "common/proto/granary.pb.h"

namespace granary::net {

struct RpcCallStats {
  uint16_t method = 0;                      // as on the wire; may be unknown
  proto::ErrorCode code = proto::OK;        // what the caller was told
  uint64_t request_bytes = 0;               // message + payload
  uint64_t response_bytes = 0;              // message + payload (or file bytes)
  Clock::duration latency{};                // frame read to response queued
};

class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void OnCall(const RpcCallStats& call) = 0;
  // A connection sent a malformed frame and was closed.
  virtual void OnProtocolError() = 0;
};

}  // namespace granary::net
