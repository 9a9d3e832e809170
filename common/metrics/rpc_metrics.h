#pragma once
// RpcMetrics: the granary_rpc_* metrics of one RpcServer, fed by the
// server's RpcObserver hook (common/net/rpc_observer.h).
//
//   granary_rpc_requests_total{method,code}          counter
//   granary_rpc_errors_total{method}                 counter (code != OK)
//   granary_rpc_request_duration_seconds{method}     histogram
//   granary_rpc_request_bytes_total{method}          counter (message + payload)
//   granary_rpc_response_bytes_total{method}         counter (message + payload)
//   granary_rpc_protocol_errors_total                counter (malformed frames)
//   granary_rpc_connections                          gauge   (AddConnectionGauge)
//
// Label values are the proto enum names (method="CHUNK_READ", code="OK").
// A method number not in proto::Method is counted as method="unknown" and a
// code not in proto::ErrorCode as code="unknown", so numbers from the wire
// cannot grow the number of series.
//
// OnCall costs a few relaxed atomic adds: the series of a method (and of a
// method and code) are created on first use under a lock and published
// through an atomic pointer that later calls read without locking.
//
// Lifetime: the registry must outlive this object. Thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "common/metrics/registry.h"
#include "common/net/rpc_observer.h"
#include "common/net/rpc_server.h"

namespace granary::metrics {

class RpcMetrics : public net::RpcObserver {
 public:
  explicit RpcMetrics(Registry& registry);
  ~RpcMetrics() override;

  void OnCall(const net::RpcCallStats& call) override;
  void OnProtocolError() override;

 private:
  struct MethodSeries;
  MethodSeries& Series(uint16_t method);
  Counter& CodeCounter(MethodSeries& m, proto::ErrorCode code);

  Family<Counter>& requests_;
  Family<Counter>& errors_;
  Family<Histogram>& latency_;
  Family<Counter>& request_bytes_;
  Family<Counter>& response_bytes_;
  Counter& protocol_errors_;

  // Slot per method number up to the largest in proto::Method; the last
  // slot is "unknown". Filled on first use under mu_.
  std::vector<std::atomic<MethodSeries*>> methods_;
  std::vector<std::unique_ptr<MethodSeries>> owned_;  // guarded by mu_
  std::mutex mu_;
};

// granary_rpc_connections: connections `server` has open, read at scrape
// time. `server` must outlive the registry's last Render().
void AddConnectionGauge(Registry& registry, const net::RpcServer& server);

}  // namespace granary::metrics
