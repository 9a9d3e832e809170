#pragma once
// Histogram: counts observations into fixed buckets, Prometheus style.
//
// Bucket bounds are upper bounds, ascending, fixed at construction; an
// observation lands in the first bucket whose bound is >= it, or in the
// implicit +Inf bucket. Counts are kept per bucket (not cumulative) so an
// observation touches one bucket counter and the sum: two relaxed atomic
// adds and no lock. Read() makes them cumulative for the text format; the
// count is the buckets' total, so the rendered histogram is always
// consistent. A scrape racing with Observe may see the sum one observation
// ahead of the buckets; Prometheus tolerates that.
//
// Thread safety: Observe and Snapshot may run concurrently from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace granary::metrics {

// Bounds for RPC latencies in seconds: 100 us to 10 s.
std::vector<double> LatencyBuckets();

class Histogram {
 public:
  // `bounds` must be ascending and finite; +Inf is added implicitly.
  explicit Histogram(std::span<const double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;        // without +Inf
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries, the last is +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

}  // namespace granary::metrics
