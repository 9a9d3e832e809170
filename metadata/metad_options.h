#pragma once
// granary-metad's configuration: command-line flags over a TOML file over the
// defaults below. Parsed once in main() and passed down (nothing reads it
// globally). None of the fields is hot-reloadable: a change needs a restart.
//
// TOML: table [metad], keys named like the flags with '_' for '-':
//   [metad]
//   listen = "0.0.0.0:7000"
//   data_dir = "/var/lib/granary/meta"
//   default_replicas = 3
//   metrics_address = "0.0.0.0:9100"   # Prometheus metrics (docs/metrics.md)

#include <cstdint>
#include <optional>
#include <string>

#include "metadata/state/meta_state.h"
#include "metadata/service/meta_service.h"

namespace granary::metadata {

struct MetadOptions {
  // TOML file read before the flags are applied (--config). Default none.
  std::string config_file;
  // Address to listen on, host:port; port 0 picks a free port. Default 127.0.0.1:7000.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 7000;
  // Data folder (required); the RocksDB database lives in <data_dir>/meta.db.
  std::string data_dir;
  // trace, debug, info, warn, error or off. Default info.
  std::string log_level = "info";
  // Log file; empty = stderr.
  std::string log_file;
  // After listening, "host:port\n" is written here (temp file + rename) so
  // launchers learn the port without racing. Default none.
  std::string port_file;
  // Cluster key file (docs/security.md): when set, every connection must
  // authenticate with one of its keys, and metad's own calls to chunk
  // servers (repair copies, replica lists) use its first key with role
  // `cluster`. Default none: no authentication. Not reloadable.
  std::string cluster_key_file;
  // Network I/O threads, default 1. Reads and lazy commits run on them (see
  // MetaServiceOptions::inline_fast_ops); with one, a request is read,
  // served and answered without a thread hop: a metadata round trip measured
  // 69-88 us against 112-148 us with two on the 2-core development VM.
  int io_threads = 1;
  // host:port serving Prometheus metrics at GET /metrics (docs/metrics.md);
  // port 0 = any free port, reported in the port file as a second line
  // "metrics host:port". Default empty: off.
  std::string metrics_address;

  // Namespace and cluster behaviour (see MetaOptions): default_replicas,
  // default_chunk_size, node_timeout_ms, heartbeat_interval_ms, lease_ms,
  // wal_sync_interval_ms, orphan_ttl_ms, placement.min_free_bytes,
  // placement.min_free_percent.
  MetaOptions meta;
  // Worker threads running operations (kv_threads). Default 16.
  MetaServiceOptions service;
};

// What main() should do after parsing: run with `options`, or print `message`
// (to stdout for exit code 0, e.g. --help; stderr otherwise) and exit.
struct MetadArgs {
  std::optional<MetadOptions> options;
  int exit_code = 0;  // 2 for a bad flag or configuration value
  std::string message;
};

MetadArgs ParseMetadArgs(int argc, const char* const* argv);

// Checks the cross-field rules and ranges. The message names the key at fault.
Status ValidateMetadOptions(const MetadOptions& options);

// metrics_address split into an IP host and a port; INVALID_ARGUMENT names it.
Result<std::pair<std::string, uint16_t>> ParseMetricsAddress(const MetadOptions& options);

}  // namespace granary::metadata
