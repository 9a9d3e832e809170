#pragma once
// RunBackup: one `granary backup` run (docs/backup.md).
//
// DEST/pool/ holds chunk objects shared by every run; DEST/backups/<UTC time>/
// holds one run: manifest.json, summary.json and metadata.ckpt. The run folder
// is built as backups/.<name>.tmp and renamed into place only after every
// object it names is durable in the pool, so a run cut short leaves no
// manifest pointing at missing objects, and the next run copies what is
// still missing.

#include <cstdint>
#include <string>

#include "common/status.h"
#include "granary/client.h"
#include "tools/backup/manifest.h"

namespace granary::tools::backup {

struct BackupOptions {
  std::string dest;          // local folder; created when missing
  std::string path = "/";    // subtree of the cluster to back up
  bool metadata_only = false;  // manifest and checkpoint, no chunk objects
  size_t jobs = 4;           // chunks copied at once
  uint64_t lease_ms = 60000; // backup session lease, renewed every third of it
};

// Returns the manifest written (its summary filled). The session is ended on
// every path out; on error no run folder is published.
Result<Manifest> RunBackup(Client& client, const BackupOptions& options);

// Names of the published runs under DEST/backups, oldest first.
Result<std::vector<std::string>> ListRuns(const std::string& dest);

// A published run and its manifest: `name`, or the latest when empty.
// NOT_FOUND when there is none; INVALID_ARGUMENT for a name with a '/'.
struct RunRef {
  std::string name;
  std::string dir;  // DEST/backups/NAME
  Manifest manifest;
};
Result<RunRef> OpenRun(const std::string& dest, const std::string& name);

}  // namespace granary::tools::backup
