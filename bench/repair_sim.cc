// Placement and repair at cluster scale, without processes: the placement
// code metad runs (ChooseReplicas) places every chunk of a simulated cluster,
// then one node is lost and the repair planner (PlanChunk, SortByUrgency)
// plus placement decide every copy. Reports the spread of usage after
// placement and after repair, and how the copy work spreads over the
// survivors (reads per source, writes per target).
//
//   repair_sim [--nodes 1000] [--chunks 10000000] [--domains 50] [--seed 1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "metadata/placement/placement.h"
#include "metadata/repair/repair_plan.h"

using namespace granary;
using namespace granary::metadata;

namespace {

constexpr uint64_t kChunkBytes = 64ull << 20;

struct Spread {
  double min = 0, max = 0, mean = 0, stddev = 0;
};

Spread Of(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  double var = 0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(var / v.size());
  return s;
}

void Print(const char* what, const Spread& s) {
  std::printf("| %s | %.0f | %.0f | %.0f | %.2f%% | %.3f |\n", what, s.min, s.mean, s.max,
              s.mean > 0 ? 100.0 * s.stddev / s.mean : 0.0, s.mean > 0 ? s.max / s.mean : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  size_t nodes = 1000, chunks = 10'000'000, domains = 50;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--nodes")) nodes = v;
    else if (!std::strcmp(argv[i], "--chunks")) chunks = v;
    else if (!std::strcmp(argv[i], "--domains")) domains = v;
    else if (!std::strcmp(argv[i], "--seed")) seed = v;
    else {
      std::fprintf(stderr, "repair_sim: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  // Equal disks, sized so the cluster ends about 60% full.
  const uint64_t capacity = static_cast<uint64_t>(chunks * 3 * kChunkBytes / nodes / 0.6);
  std::vector<PlacementCandidate> cand(nodes);
  for (size_t i = 0; i < nodes; ++i) {
    cand[i] = {"n" + std::to_string(i), "d" + std::to_string(i % domains), capacity, capacity};
  }
  PlacementOptions popts;
  PlacementRng rng(seed);
  std::vector<uint32_t> replicas(chunks * 3);  // node index per replica
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t c = 0; c < chunks; ++c) {
    Result<std::vector<size_t>> picks = ChooseReplicas(cand, 3, {}, popts, rng);
    if (!picks.ok()) {
      std::fprintf(stderr, "placement failed at chunk %zu: %s\n", c,
                   picks.status().ToString().c_str());
      return 1;
    }
    for (int r = 0; r < 3; ++r) {
      replicas[c * 3 + r] = static_cast<uint32_t>((*picks)[r]);
      cand[(*picks)[r]].free_bytes -= kChunkBytes;
    }
  }
  const double place_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> used(nodes);
  for (size_t i = 0; i < nodes; ++i) used[i] = double(capacity - cand[i].free_bytes) / kChunkBytes;

  std::printf("%zu nodes in %zu failure domains, %zu chunks x 3 replicas, placed in %.1f s "
              "(%.1f us per chunk)\n\n",
              nodes, domains, chunks, place_s, place_s * 1e6 / chunks);
  std::printf("| replicas per node | min | mean | max | stddev/mean | max/mean |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  Print("after placement", Of(used));

  // Node 0 fails: plan every affected chunk, most endangered first, then
  // place each copy the way the repair loop does.
  const uint32_t lost = 0;
  const std::string lost_id = cand[lost].node_id;
  cand[lost].free_bytes = 0;  // never a target
  std::vector<RepairTask> tasks;
  for (size_t c = 0; c < chunks; ++c) {
    bool hit = false;
    for (int r = 0; r < 3; ++r) hit = hit || replicas[c * 3 + r] == lost;
    if (!hit) continue;
    proto::ChunkInfo info;
    info.set_chunk_index(c);
    info.set_chunk_id(c + 1);
    for (int r = 0; r < 3; ++r) info.add_replicas()->set_node_id(cand[replicas[c * 3 + r]].node_id);
    bool unrecoverable = false;
    auto t = PlanChunk(
        c, info, 3,
        [&](const std::string& n) {
          return n == lost_id ? ReplicaHealth::kGone : ReplicaHealth::kGood;
        },
        &unrecoverable);
    if (t) tasks.push_back(std::move(*t));
  }
  SortByUrgency(tasks);
  std::vector<double> reads(nodes, 0), writes(nodes, 0);
  for (size_t k = 0; k < tasks.size(); ++k) {
    const RepairTask& t = tasks[k];
    std::vector<std::string> exclude;
    for (const auto& r : t.chunk.replicas()) exclude.push_back(r.node_id());
    auto picks = ChooseReplicas(cand, 1, exclude, popts, rng);
    if (!picks.ok()) {
      std::fprintf(stderr, "repair placement failed: %s\n", picks.status().ToString().c_str());
      return 1;
    }
    const size_t target = (*picks)[0];
    cand[target].free_bytes -= kChunkBytes;
    writes[target] += 1;
    // The target pulls from the first source (PlanChunk rotates them).
    const auto& src = t.sources[0].node_id();
    reads[std::stoul(src.substr(1))] += 1;
    used[target] += 1;
  }
  used[lost] = 0;
  std::vector<double> survivors_used, survivors_reads, survivors_writes;
  for (size_t i = 1; i < nodes; ++i) {
    survivors_used.push_back(used[i]);
    survivors_reads.push_back(reads[i]);
    survivors_writes.push_back(writes[i]);
  }
  Print("survivors after repair", Of(survivors_used));
  std::printf("\nnode n0 lost: %zu chunks to copy (%.1f GiB)\n\n", tasks.size(),
              tasks.size() * double(kChunkBytes) / (1ull << 30));
  std::printf("| repair work per survivor | min | mean | max | stddev/mean | max/mean |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  Print("copies read (source)", Of(survivors_reads));
  Print("copies written (target)", Of(survivors_writes));
  return 0;
}
