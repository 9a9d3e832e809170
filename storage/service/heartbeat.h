#pragma once
// Heartbeater: keeps metad informed of this chunk server.
//
// Run() registers (META_REGISTER_NODE) with exponential backoff until metad
// answers, since metad may start after us; then sends META_HEARTBEAT every
// heartbeat_interval_ms (from the registration reply; 1000 when 0) with the
// node's current usage. A heartbeat reply may list replicas to delete (done
// on the disk pool) or ask for re-registration (metad restarted and forgot
// us). A metad that stops answering is logged once when it goes away and once
// when it comes back, never per attempt.
//
// Thread safety: Stop() from any thread. Run() must be spawned on a strand.
// Lifetime: store and pool must outlive Run().

#include <atomic>
#include <string>

#include "common/net/asio_types.h"
#include "common/net/rpc_client.h"
#include "common/proto/granary.pb.h"
#include "storage/service/stop_signal.h"
#include "storage/store/chunk_store.h"

namespace granary::storage::service {

struct HeartbeatOptions {
  std::string meta_address;       // metad "host:port"
  std::string advertise_address;  // how clients and peers reach this server
  std::string failure_domain;     // placement label (rack, host, zone)
  net::Millis rpc_timeout{3000};
  net::Millis initial_backoff{100};  // first retry of a failed registration
  net::Millis max_backoff{5000};
};

class Heartbeater {
 public:
  Heartbeater(store::ChunkStore& store, net::Executor disk, net::ConnectionPool& meta,
              HeartbeatOptions options);

  net::Awaitable<void> Run();
  void Stop() { stop_.Stop(); }

  // For tests and status pages.
  bool registered() const { return registered_; }
  uint64_t heartbeats_sent() const { return heartbeats_; }

 private:
  net::Awaitable<Result<proto::NodeInfo>> Describe();
  net::Awaitable<Result<net::Millis>> Register();
  net::Awaitable<Result<bool>> Beat();  // true: metad wants a re-registration
  // `asked_at`: the store's Stamp() before the heartbeat request was sent.
  net::Awaitable<void> DeleteReplicas(const proto::HeartbeatResponse& resp, uint64_t asked_at);
  void NoteFailure(const Status& st);
  void NoteSuccess();

  store::ChunkStore& store_;
  net::Executor disk_;
  net::ConnectionPool& meta_;
  const HeartbeatOptions options_;
  StopSignal stop_;
  std::atomic<bool> registered_{false};
  std::atomic<uint64_t> heartbeats_{0};
  bool meta_down_ = false;  // only touched by Run's strand
};

}  // namespace granary::storage::service
