#pragma once
// Counter and Gauge: one time series each, updated lock-free.
//
// Updates are relaxed atomic operations: a scrape may see one series a few
// updates ahead of another, which Prometheus tolerates, and the hot path
// pays one uncontended atomic add instead of a fence or a lock. Find a
// series once (Family::With takes a lock) and keep the reference; series
// live as long as their Registry.
//
// Thread safety: every method may be called from any thread.

#include <atomic>
#include <cstdint>

namespace granary::metrics {

// A value that only goes up (requests, bytes). Resets only with the process.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (connections open, writes pending).
class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace granary::metrics
