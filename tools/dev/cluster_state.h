#pragma once
// The dev cluster's state file, DIR/cluster.toml: which daemons `granary dev
// up` started, with their pids, addresses and folders. `granary dev down`
// stops exactly these pids, and every other command finds the cluster's
// metadata address here when neither --meta nor $GRANARY_META is given.
//
//   meta_address = "127.0.0.1:40123"
//   [metad]
//   name = "metad"  pid = 4242  binary = "/.../granary-metad"  dir = "/.../metad" ...
//   [[chunkd]]
//   name = "chunkd-1"  ...  failure_domain = "local"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace granary::dev {

// One daemon started by `dev up`. Its files live under `dir`.
struct DaemonRecord {
  std::string name;    // "metad", "chunkd-1", ...
  std::string binary;  // absolute path; argv[0] of the process
  pid_t pid = 0;
  std::string address;         // "host:port" it listens on; empty until known
  std::string metrics_address;  // "host:port" of GET /metrics; empty = off or unknown
  std::string dir;             // DIR/metad or DIR/chunkd-K
  std::string failure_domain;  // chunk servers only

  std::string data_dir() const { return dir + "/data"; }
  std::string log_file() const { return dir + "/log"; }
  std::string port_file() const { return dir + "/port"; }
  // stdout and stderr of the process (crash messages land here).
  std::string stdio_file() const { return dir + "/stdio"; }
};

struct ClusterState {
  std::string meta_address;
  // Cluster key file the daemons were started with (`dev up --key-file`);
  // commands use it unless told otherwise. Empty: no key.
  std::string key_file;
  int64_t started_at = 0;  // unix seconds
  DaemonRecord metad;
  std::vector<DaemonRecord> chunkds;
};

// DIR/cluster.toml
std::string ClusterStatePath(const std::string& dir);

// NOT_FOUND when the file does not exist; CORRUPTION when it does not parse.
Result<ClusterState> ReadClusterState(const std::string& path);

// Writes atomically (temporary file, then rename).
Status WriteClusterState(const std::string& path, const ClusterState& state);

}  // namespace granary::dev
