#include "storage/service/scrubber.h"

#include <algorithm>

#include "common/log.h"
#include "common/net/run_blocking.h"

namespace granary::storage::service {

Scrubber::Scrubber(store::ChunkStore& store, net::Executor disk, ScrubOptions options)
    : store_(store), disk_(std::move(disk)), options_(options) {}

net::Awaitable<void> Scrubber::Run() {
  if (options_.bytes_per_sec == 0) co_return;
  if (!co_await stop_.SleepFor(options_.initial_delay)) co_return;
  for (;;) {
    const auto pass_start = net::Clock::now();
    uint64_t pass_bytes = 0;
    uint64_t pass_corrupt = 0;
    for (const store::ChunkKey& key : store_.List()) {
      const auto t0 = net::Clock::now();
      Result<uint64_t> r = co_await net::RunBlocking(disk_, [&] { return store_.Verify(key); });
      if (r.ok() || r.status().code() == proto::CORRUPTION) ++checked_;
      if (r.ok()) {
        pass_bytes += *r;
        bytes_ += *r;
        // Pace: this replica's bytes at the configured rate, less the time
        // reading it took.
        const auto budget = net::Millis(*r * 1000 / options_.bytes_per_sec);
        const auto spent = std::chrono::duration_cast<net::Millis>(net::Clock::now() - t0);
        if (budget > spent && !co_await stop_.SleepFor(budget - spent)) co_return;
      } else if (r.status().code() == proto::CORRUPTION) {
        ++pass_corrupt;
        ++corrupt_;
        LOG_ERROR("scrub: {}", r.status().ToString());
      } else if (r.status().code() != proto::CHUNK_NOT_FOUND) {
        LOG_WARN("scrub: {}", r.status().ToString());  // deleted meanwhile: not an error
      }
      if (stop_.stopped()) co_return;
    }
    ++passes_;
    LOG_INFO("scrub pass done: {} bytes verified, {} corrupt replicas", pass_bytes, pass_corrupt);
    const auto next = pass_start + options_.pass_interval;
    const auto wait = std::max(net::Millis(0), std::chrono::duration_cast<net::Millis>(
                                                   next - net::Clock::now()));
    if (!co_await stop_.SleepFor(wait)) co_return;
  }
}

}  // namespace granary::storage::service
