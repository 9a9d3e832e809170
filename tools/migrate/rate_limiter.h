#pragma once
// A token bucket shared by every copy job of one `granary migrate` run, so
// --bwlimit caps the sum of their rates. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace granary::tools::migrate {

class RateLimiter {
 public:
  // bytes_per_second 0: unlimited (Acquire returns at once). The bucket holds
  // at most a quarter second of tokens, so an idle pause buys little burst.
  explicit RateLimiter(uint64_t bytes_per_second);

  // Takes n tokens, sleeping until they are there. Callers take at most
  // PieceBytes() at a time so that jobs share the rate evenly.
  void Acquire(uint64_t n);

  // How many bytes a job should move per Acquire: about 1/8 s of the rate,
  // between 16 KiB and `max_bytes`.
  uint64_t PieceBytes(uint64_t max_bytes) const;

  bool limited() const { return rate_ > 0; }

 private:
  const uint64_t rate_;
  std::mutex mu_;
  // May go negative: a debt that later callers wait out, in arrival order.
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace granary::tools::migrate
