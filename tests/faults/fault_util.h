#pragma once
// What the fault-injection tests share: fast failure-detection settings,
// incompressible test data, and the "every chunk back at three live
// replicas" wait.
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "granary/client.h"
#include "tests/tools/cli_test_util.h"

namespace granary::testutil {

using FaultClock = std::chrono::steady_clock;
inline constexpr size_t kMiB = 1 << 20;

// A DOWN node within a second, its replicas replaced half a second later.
inline constexpr const char* kFastMetad =
    "[metad]\n"
    "node_timeout_ms = 1000\n"
    "heartbeat_interval_ms = 200\n"
    "repair_delay_ms = 500\n"
    "repair_interval_ms = 200\n";

inline std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t x = rng();
    std::memcpy(v.data() + i, &x, std::min<size_t>(8, n - i));
  }
  return v;
}

// True when every chunk of every path has `want` replicas, all on UP servers.
inline Result<bool> FullyReplicated(Client& c, const std::vector<std::string>& paths,
                                    size_t want = 3) {
  ASSIGN_OR_RETURN(auto nodes, c.ListNodes());
  for (const std::string& p : paths) {
    ASSIGN_OR_RETURN(auto layout, c.GetLayout(p));
    for (const ChunkLocation& chunk : layout) {
      if (chunk.replicas.size() != want) return false;
      for (const ReplicaInfo& r : chunk.replicas) {
        bool up = false;
        for (const NodeStatus& n : nodes) up = up || (n.node_id == r.node_id && n.up);
        if (!up) return false;
      }
    }
  }
  return true;
}

// The first chunk that is not at `want` live replicas, for failure messages.
inline std::string Describe(Client& c, const std::vector<std::string>& paths, size_t want) {
  auto nodes = c.ListNodes();
  if (!nodes.ok()) return nodes.status().ToString();
  for (const std::string& p : paths) {
    auto layout = c.GetLayout(p);
    if (!layout.ok()) return p + ": " + layout.status().ToString();
    for (const ChunkLocation& chunk : *layout) {
      std::string replicas;
      size_t live = 0;
      for (const ReplicaInfo& r : chunk.replicas) {
        bool up = false;
        for (const NodeStatus& n : *nodes) up = up || (n.node_id == r.node_id && n.up);
        live += up ? 1 : 0;
        replicas += " " + r.node_id + (up ? "(up)" : "(down)");
      }
      if (live != want || chunk.replicas.size() != want) {
        return p + " chunk " + std::to_string(chunk.chunk_index) + " v" +
               std::to_string(chunk.version) + ":" + replicas;
      }
    }
  }
  return "all fine now";
}

// Polls FullyReplicated until true; returns the seconds it took.
inline Result<double> WaitFullyReplicated(Client& c, const std::vector<std::string>& paths,
                                          std::chrono::seconds limit, size_t want = 3) {
  const auto t0 = FaultClock::now();
  for (;;) {
    Result<bool> done = FullyReplicated(c, paths, want);
    if (done.ok() && *done) return std::chrono::duration<double>(FaultClock::now() - t0).count();
    if (FaultClock::now() - t0 > limit) {
      return Status::Timeout("not back at " + std::to_string(want) + " live replicas in " +
                             std::to_string(limit.count()) + " s: " + Describe(c, paths, want));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// `granary fsck` over the whole namespace, replica check included: every
// file's chunks on their full replica count, on live servers that hold them.
#define EXPECT_FSCK_CLEAN(cluster)                                                        \
  do {                                                                                    \
    CommandResult fsck_ = RunGranary({"--meta", (cluster).meta_address(), "fsck"});       \
    EXPECT_EQ(fsck_.exit_code, 0) << "granary fsck:\n" << fsck_.out << fsck_.err;        \
  } while (0)

}  // namespace granary::testutil
