#pragma once
// Clock: metad's source of time, injectable so that tests can move time
// (lease expiry, node timeouts) without sleeping.
//
// Wall time stamps inodes and heartbeats (it is shown to users). Steady time
// decides expiry (a wall-clock jump must not expire every lease at once).
// Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/proto/granary.pb.h"

namespace granary::metadata {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in nanoseconds.
  virtual int64_t WallNanos() = 0;
  // Monotonic milliseconds, arbitrary origin.
  virtual int64_t SteadyMs() = 0;

  int64_t WallMs() { return WallNanos() / 1'000'000; }
  proto::Timespec WallTimespec() {
    int64_t ns = WallNanos();
    proto::Timespec ts;
    ts.set_sec(ns / 1'000'000'000);
    ts.set_nsec(static_cast<uint32_t>(ns % 1'000'000'000));
    return ts;
  }
};

class SystemClock final : public Clock {
 public:
  int64_t WallNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t SteadyMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Both times advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000) : wall_ns_(wall_ms * 1'000'000) {}
  int64_t WallNanos() override { return wall_ns_.load(); }
  int64_t SteadyMs() override { return steady_ms_.load(); }
  void AdvanceMs(int64_t ms) {
    wall_ns_ += ms * 1'000'000;
    steady_ms_ += ms;
  }

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> steady_ms_{1'000'000};
};

}  // namespace granary::metadata
