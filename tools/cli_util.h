#pragma once
// Helpers shared by the `granary` subcommands: finding the cluster, formatting
// sizes, rates and times, parsing size arguments, and remote path handling.
// All functions are thread-safe (they touch no shared state).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "granary/client.h"

namespace granary::tools {

// Options every subcommand sees (set on the root command line).
struct GlobalOptions {
  std::string meta;                // --meta HOST:PORT; empty = discover
  std::string key_file;            // --key-file PATH; empty = discover
  std::string log_level = "warn";  // client library log level
  bool json = false;               // --json: machine-readable output where supported
};

// The dev cluster state folder that discovery looks in, relative to the
// current working directory.
inline constexpr std::string_view kDefaultDevDir = "granary-dev";

// Finds the metadata server address: --meta, else $GRANARY_META, else the dev
// cluster state file ./granary-dev/cluster.toml. NOT_FOUND (with advice on
// what to do) when none applies; UNAVAILABLE when the dev cluster recorded
// there is not running.
Result<std::string> ResolveMetaAddress(const GlobalOptions& global);

// The cluster key file: --key-file, else $GRANARY_KEY_FILE, else the
// `key_file` of the dev cluster state file when the cluster was found there
// (neither --meta nor $GRANARY_META given). Empty: connect without a key.
std::string ResolveKeyFile(const GlobalOptions& global);

// ResolveMetaAddress and ResolveKeyFile, then Client::Connect.
Result<std::unique_ptr<Client>> ConnectCluster(const GlobalOptions& global);

// 1536 -> "1.5 KiB"; values below 1 KiB print as "512 B".
std::string FormatBytes(uint64_t bytes);
// Decimal megabytes per second, as dd and iperf3 print: "412.7 MB/s".
std::string FormatRate(uint64_t bytes, double seconds);
// 75 -> "1m15s"; 3 -> "3s".
std::string FormatDuration(double seconds);
// "2024-05-01 12:00:03" in local time.
std::string FormatTime(int64_t unix_seconds);
// "drwxr-xr-x" from a type and permission bits.
std::string FormatMode(FileType type, uint32_t mode);
std::string_view FileTypeName(FileType type);

// "67108864", "64M", "64MiB", "1G", "512k" -> bytes (binary multiples).
Result<uint64_t> ParseSize(std::string_view text);

// Remote (cluster) path helpers; inputs are normalized paths.
// Last component: "/a/b" -> "b"; "/" -> "".
std::string RemoteBasename(std::string_view path);

// Seconds since `start` on the steady clock.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace granary::tools
