#pragma once
// Configuration of granary-chunkd: built-in defaults, overridden by the TOML
// file given with --config (table [chunkd]), overridden by command-line flags.
// Nothing is hot-reloadable: a change needs a restart.
//
//   [chunkd]
//   listen = "127.0.0.1:7100"      # host:port to bind; port 0 = any free port
//   advertise = "10.0.0.5:7100"    # what metad, clients and peers dial;
//                                  # default: the listen host + the bound port
//   meta = "127.0.0.1:7000"        # granary-metad
//   data_dirs = ["/disk1/granary"] # one per disk; at least one
//   failure_domain = "rack-1"      # placement keeps replicas apart across these
//   log_level = "info"             # trace, debug, info, warn, error, off
//   log_file = ""                  # empty = stderr
//   port_file = ""                 # written with "host:port\n" once listening
//   io_threads = 2                 # threads serving the network
//   disk_threads = 8               # threads doing file I/O and checksums
//   scrub_mbps = 16                # MB/s re-read and verified by the scrub; 0 = off
//   scrub_pass_interval_s = 86400  # a scrub pass starts at most this often
//   scrub_start_delay_s = 60       # first pass this long after startup
//   local_reads = true             # clients on this host may read replica
//                                  # files directly (common/net/local_read.h)
//   min_free_bytes = 67108864      # a data folder with less free takes no new
//                                  # chunks; with none left, writes get NO_SPACE
//   metrics_address = ""           # host:port serving Prometheus metrics at
//                                  # GET /metrics (docs/metrics.md); empty =
//                                  # off; port 0 = any free port, written to
//                                  # the port file as "metrics host:port"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace granary::storage {

struct ChunkdOptions {
  std::string listen = "127.0.0.1:7100";
  std::string advertise;
  std::string meta = "127.0.0.1:7000";
  std::vector<std::string> data_dirs;
  std::string failure_domain;
  std::string log_level = "info";
  std::string log_file;
  std::string port_file;
  std::string metrics_address;
  // Cluster key file (docs/security.md): when set, every connection to this
  // server must authenticate with one of its keys, and this server's own
  // calls (registration, heartbeats, chain forwarding) use its first key
  // with role `cluster`. Default none: no authentication. Not reloadable.
  std::string cluster_key_file;
  int io_threads = 2;
  int disk_threads = 8;
  bool local_reads = true;
  int scrub_mbps = 16;
  int scrub_pass_interval_s = 86400;
  int scrub_start_delay_s = 60;
  uint64_t min_free_bytes = 64ull << 20;
};

// Applies the [chunkd] table of a TOML document to `opts`. `source` names the
// file in messages. Unknown keys and wrong types are INVALID_ARGUMENT naming
// the key, so a typo cannot silently fall back to a default.
Status ApplyToml(std::string_view toml_text, std::string_view source, ChunkdOptions* opts);

// Checks the final options: addresses parse, a data folder is given, counts
// are in range, the log level is known. INVALID_ARGUMENT naming the option.
Status ValidateOptions(const ChunkdOptions& opts);

// "host:port" where port may be 0 (listen only). INVALID_ARGUMENT otherwise.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view address);

// Parses argv (reading --config if given). Returns the options to run with,
// or nullopt after printing help (*exit_code = 0) or an error naming the
// flag or key (*exit_code = 2).
std::optional<ChunkdOptions> ParseChunkdFlags(int argc, char** argv, int* exit_code);

}  // namespace granary::storage
