#pragma once
// StopSignal: an interruptible sleep for the server's background loops
// (heartbeats, janitor). Stop() from any thread wakes the sleeper at once.
//
// The sleeping coroutine must run on a strand (or a single-threaded
// executor): Stop() cancels the timer through that executor, which
// serialises the cancel with the coroutine. One sleeper at a time. The
// StopSignal must outlive the executor's pending handlers.

#include <mutex>

#include "common/net/asio_types.h"

namespace granary::storage::service {

class StopSignal {
 public:
  // Sleeps for `d`; returns false when stopped (before or during the sleep).
  net::Awaitable<bool> SleepFor(net::Millis d);
  // Thread-safe and idempotent.
  void Stop();
  bool stopped() const;

 private:
  mutable std::mutex mu_;
  bool stopped_ = false;
  asio::steady_timer* timer_ = nullptr;  // the sleeper's timer, while it sleeps
};

}  // namespace granary::storage::service
