#pragma once
// What `granary mount` (and granary-fuse) accept.
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace granary::fuse {

struct MountOptions {
  std::string meta_address;    // host:port of granary-metad
  std::string key_file;        // cluster key file; empty = no key
  std::string mountpoint;
  bool foreground = false;     // -f: stay attached, log to stderr
  bool read_only = false;      // -o ro
  bool allow_other = true;     // -o allow_other (default when root) / -o noallow_other
  double attr_timeout = 1.0;   // -o attr_timeout=SECONDS: kernel caches attributes
  double entry_timeout = 1.0;  // -o entry_timeout=SECONDS: kernel caches names
  double negative_timeout = 1.0;  // -o negative_timeout=SECONDS: cached "no such name"
  uint32_t max_threads = 16;   // -o max_threads=N: FUSE worker threads
  std::string log_file;        // -o log=PATH (detached mode); default /tmp/granary-mount-<pid>.log
  std::string log_level = "info";
  std::string fsname = "granary";
  bool debug = false;
  uint32_t read_ahead_kb = 4096;  // -o read_ahead_kb=N: kernel read-ahead window (0 = leave)          // -o debug: libfuse request tracing
};

// Applies one comma-separated -o list to `opts`; names an unknown option.
Status ParseMountOptions(const std::string& list, MountOptions* opts);

}  // namespace granary::fuse
