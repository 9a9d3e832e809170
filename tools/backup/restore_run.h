#pragma once
// RunRestore: one `granary restore` run (docs/backup.md). Recreates a backup's
// tree on a cluster through the normal client calls (data through the
// writer: new chunk ids and placements), then reads every file back and
// compares its XXH3-128 with the manifest.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "granary/client.h"

namespace granary::tools::backup {

struct RestoreOptions {
  std::string src;      // the backup destination folder (DEST of granary backup)
  std::string backup;   // run name under SRC/backups; empty = the latest
  std::string path;     // where the tree goes; empty = where it was backed up from
  bool force = false;   // restore over existing paths
  size_t jobs = 4;      // files written (and verified) at once
};

struct RestoreReport {
  std::string backup;     // the run restored
  std::string path;       // where
  uint64_t files = 0, folders = 0, symlinks = 0, bytes = 0;
  uint64_t verified = 0;  // files whose read-back checksum matched
  double write_seconds = 0, verify_seconds = 0;
  uint32_t replicas_capped_to = 0;  // nonzero: fewer UP servers than a file's R
  std::vector<std::string> failures;  // "path: reason", one per failed file
};

// An error Status when nothing could be done (no backup, destination in
// use without --force, cluster unreachable). Per-file failures (a corrupt
// object, a checksum mismatch) are collected in the report; the caller
// exits non-zero when it has any.
Result<RestoreReport> RunRestore(Client& client, const RestoreOptions& options);

}  // namespace granary::tools::backup
