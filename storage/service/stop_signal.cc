#include "storage/service/stop_signal.h"

namespace granary::storage::service {

net::Awaitable<bool> StopSignal::SleepFor(net::Millis d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  {
    std::lock_guard lock(mu_);
    if (stopped_) co_return false;
    timer_ = &timer;
  }
  co_await timer.async_wait(net::kUseTuple);
  std::lock_guard lock(mu_);
  timer_ = nullptr;
  co_return !stopped_;
}

void StopSignal::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (timer_ == nullptr) return;
  // Cancelling from this thread would race the sleeper; the timer's executor
  // (the sleeper's strand) runs the cancel between the sleeper's steps. The
  // timer is still alive if timer_ still points at it when the cancel runs.
  asio::steady_timer* t = timer_;
  asio::post(t->get_executor(), [this, t] {
    std::lock_guard lock(mu_);
    if (timer_ == t) t->cancel();
  });
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

}  // namespace granary::storage::service
