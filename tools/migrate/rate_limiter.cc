#include "tools/migrate/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace granary::tools::migrate {

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(bytes_per_second), tokens_(0), last_(std::chrono::steady_clock::now()) {}

void RateLimiter::Acquire(uint64_t n) {
  if (rate_ == 0) return;
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    double rate = static_cast<double>(rate_);
    tokens_ = std::min(rate / 4, tokens_ + rate * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    // Taking the tokens before sleeping reserves this caller's slot: the next
    // caller sees the debt and sleeps longer, so the total stays at the rate.
    tokens_ -= static_cast<double>(n);
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / rate);
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

uint64_t RateLimiter::PieceBytes(uint64_t max_bytes) const {
  if (rate_ == 0) return max_bytes;
  return std::clamp<uint64_t>(rate_ / 8, 16u << 10, max_bytes);
}

}  // namespace granary::tools::migrate
