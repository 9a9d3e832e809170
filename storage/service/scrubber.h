#pragma once
// Scrubber: re-reads every committed replica on this server and verifies
// every block (header against the block table, stored checksum), at a bounded
// rate so it never competes with clients for the disk. A replica that fails
// is quarantined by the store and reported to metad with the next heartbeat,
// which re-replicates the chunk from a good copy.
//
// One pass walks the index in chunk id order; the next pass starts
// `pass_interval` after the previous one began (at once if it took longer).

#include <atomic>
#include <cstdint>

#include "common/net/asio_types.h"
#include "storage/service/stop_signal.h"
#include "storage/store/chunk_store.h"

namespace granary::storage::service {

struct ScrubOptions {
  // Bytes per second read by the scrub; 0 disables it.
  uint64_t bytes_per_sec = 16ull << 20;
  net::Millis pass_interval{24ll * 3600 * 1000};
  // First pass starts this long after startup (let the server settle).
  net::Millis initial_delay{60'000};
};

class Scrubber {
 public:
  Scrubber(store::ChunkStore& store, net::Executor disk, ScrubOptions options);

  // Root coroutine; spawn on a strand (StopSignal). Returns at once when
  // scrubbing is disabled.
  net::Awaitable<void> Run();
  void Stop() { stop_.Stop(); }

  uint64_t passes() const { return passes_; }
  uint64_t bytes_verified() const { return bytes_; }
  uint64_t corrupt_found() const { return corrupt_; }
  // Replicas verified or found corrupt (not those deleted meanwhile).
  uint64_t replicas_checked() const { return checked_; }

 private:
  store::ChunkStore& store_;
  net::Executor disk_;
  const ScrubOptions options_;
  StopSignal stop_;
  std::atomic<uint64_t> passes_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> corrupt_{0};
  std::atomic<uint64_t> checked_{0};
};

}  // namespace granary::storage::service
