#pragma once
// A local development cluster: one granary-metad and N granary-chunkd on
// 127.0.0.1, each in its own folder under DIR, started detached so they
// outlive the `granary` command that started them.
//
//   DIR/cluster.toml                  state file (cluster_state.h)
//   DIR/metad/{data/,log,port,stdio}  data folder, log, port file, stdout+stderr
//   DIR/chunkd-K/{data/,log,port,stdio}
//
// Data stays across `down`/`up` unless wiped; node ids are kept in the chunk
// servers' data folders, so a restarted cluster has the same nodes.

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "common/metrics/text_format.h"
#include "common/status.h"
#include "granary/client.h"
#include "tools/dev/cluster_state.h"

namespace granary::dev {

struct DevUpOptions {
  std::string dir = "granary-dev";
  int chunkservers = 3;
  // Give every chunk server its own failure domain ("domain-K") instead of
  // one shared "local" domain.
  bool failure_domains = false;
  std::string log_level = "info";
  // Serve Prometheus metrics from every daemon on a free 127.0.0.1 port
  // (recorded in the state file as metrics_address).
  bool metrics = true;
  std::string metad_config{};   // passed as --config when not empty
  std::string chunkd_config{};  // passed as --config when not empty
  // Cluster key file given to every daemon (--cluster-key-file) and recorded
  // in the state file, where commands find it. Empty: no key.
  std::string key_file{};
  // Bound on waiting for the daemons to listen and the nodes to be up.
  std::chrono::milliseconds timeout{20000};
};

struct DevUpResult {
  ClusterState state;
  int started = 0;               // daemons started by this call
  bool already_running = false;  // everything asked for was already up
};

// Starts whatever of the cluster is not running (idempotent). Waits until
// metad listens and every chunk server shows up in Client::ListNodes. A daemon
// that exits early fails the call with the tail of its log; then the daemons
// started by this call are stopped again. Progress lines go to `out`.
Result<DevUpResult> DevUp(const DevUpOptions& options, std::ostream& out);

// Stops the recorded daemons (SIGTERM, bounded wait, then SIGKILL; chunk
// servers first). `wipe` also removes their folders and the state file, and
// DIR itself when nothing else is left in it. OK when nothing is running.
Status DevDown(const std::string& dir, bool wipe, std::ostream& out);

struct DaemonStatus {
  DaemonRecord record;
  bool alive = false;
  // Scraped from record.metrics_address when the daemon is alive and has
  // one; `metrics_error` says why not otherwise (NOT_FOUND: metrics off).
  std::vector<metrics::Sample> metrics;
  Status metrics_error;
};

struct DevStatusResult {
  ClusterState state;
  std::vector<DaemonStatus> daemons;  // metad first
  // From metad when it answers; `nodes_error` says why not otherwise.
  std::vector<NodeStatus> nodes;
  Status nodes_error;
};

// NOT_FOUND when no cluster state is recorded under `dir`.
Result<DevStatusResult> DevStatus(const std::string& dir);

// Polls ListNodes every 50 ms until every address in `chunk_addresses` is
// listed as up, or, when none of them is listed at all, until at least that
// many nodes are up. TIMEOUT (with the last node table seen) at `deadline`.
// `check` runs on every poll; a non-OK result ends the wait with it.
Status WaitForNodesUp(Client& client, const std::vector<std::string>& chunk_addresses,
                      std::chrono::steady_clock::time_point deadline,
                      const std::function<Status()>& check);

}  // namespace granary::dev
