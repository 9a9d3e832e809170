// metrics_bench: what the RPC instrumentation costs per request, measured
// where it runs: RpcMetrics::OnCall (the one call RpcServer makes per
// response: a code counter, the error counter when not OK, two byte
// counters and a latency histogram), on 1 and N threads updating the same
// method's series at once (the worst case: every thread hits the same
// cache lines), plus its parts and a scrape (Render) of a busy registry.
//
//   build/bin/metrics_bench [--calls N] [--threads N]
//
// Prints one markdown table (ns per call); docs/metrics.md holds results.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/rpc_metrics.h"

namespace {

using Clock = std::chrono::steady_clock;
using granary::metrics::Registry;
using granary::metrics::RpcMetrics;

double NsPerCall(Clock::duration d, uint64_t calls) {
  return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(calls);
}

// Runs `body(thread_index)` on `threads` threads at once; returns the wall time.
template <class F>
Clock::duration OnThreads(int threads, F body) {
  std::vector<std::thread> ts;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { body(t); });
  for (auto& t : ts) t.join();
  return Clock::now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t calls = 10'000'000;
  int threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--calls") == 0) calls = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  Registry reg;
  RpcMetrics rpc(reg);
  granary::net::RpcCallStats ok{static_cast<uint16_t>(granary::proto::CHUNK_READ),
                                granary::proto::OK, 120, 4 << 20,
                                std::chrono::microseconds(350)};
  rpc.OnCall(ok);  // creates the series: the steady state is what is measured

  std::printf("| what | threads | ns per call |\n|---|---:|---:|\n");
  auto row = [](const char* what, int t, double ns) {
    std::printf("| %s | %d | %.1f |\n", what, t, ns);
  };

  auto d = OnThreads(1, [&](int) {
    for (uint64_t i = 0; i < calls; ++i) rpc.OnCall(ok);
  });
  row("RpcMetrics::OnCall", 1, NsPerCall(d, calls));
  d = OnThreads(threads, [&](int) {
    for (uint64_t i = 0; i < calls / threads; ++i) rpc.OnCall(ok);
  });
  // Wall time per call of each thread: what one request pays under contention.
  row("RpcMetrics::OnCall, same method", threads, NsPerCall(d, calls / threads));

  granary::metrics::Counter& c = reg.AddCounter("granary_bench_total", "c").With({});
  d = OnThreads(1, [&](int) {
    for (uint64_t i = 0; i < calls; ++i) c.Inc();
  });
  row("Counter::Inc", 1, NsPerCall(d, calls));
  granary::metrics::Histogram& h =
      reg.AddHistogram("granary_bench_seconds", "h", {}, granary::metrics::LatencyBuckets())
          .With({});
  d = OnThreads(1, [&](int) {
    for (uint64_t i = 0; i < calls; ++i) h.Observe(0.00035);
  });
  row("Histogram::Observe", 1, NsPerCall(d, calls));
  const auto n0 = Clock::now();
  for (uint64_t i = 0; i < calls; ++i) {
    // What the server adds around OnCall: two clock reads.
    volatile auto t = Clock::now();
    (void)t;
  }
  row("steady_clock::now (the server adds 2 per request)", 1, NsPerCall(Clock::now() - n0, calls));

  constexpr int kRenders = 200;
  size_t bytes = 0;
  const auto r0 = Clock::now();
  for (int i = 0; i < kRenders; ++i) bytes = reg.Render().size();
  std::printf("\nRender of this registry: %.1f us, %zu bytes\n",
              NsPerCall(Clock::now() - r0, kRenders) / 1000, bytes);
  return 0;
}
