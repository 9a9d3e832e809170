#pragma once
// RestoreMetadata: `granary restore SRC --metadata-to DIR` (docs/backup.md,
// "Restoring metad from a checkpoint"). Loads a backup run's metadata
// checkpoint into a new, empty metad data folder, offline: for when metad's
// disk is lost and the chunk servers still hold the data. Any run has the
// checkpoint, --metadata-only runs included.
//
// The loaded store is the namespace as of the backup. Its id counters are
// moved kIdGap past the checkpoint's, so ids the lost metad handed out after
// the backup (chunk versions still on the chunk servers) are never handed
// out again.

#include <cstdint>
#include <string>

#include "common/status.h"

namespace granary::tools::backup {

// Ids skipped past the checkpoint's counters: more than any metad hands out
// between two backups (a million creates a second for over an hour).
inline constexpr uint64_t kIdGap = uint64_t{1} << 32;

struct MetadataRestoreOptions {
  std::string src;       // the backup destination folder
  std::string backup;    // run name under SRC/backups; empty = the latest
  std::string data_dir;  // metad's --data-dir; its meta.db must not exist yet
};

struct MetadataRestoreReport {
  std::string backup;   // the run loaded
  std::string db_path;  // DATA_DIR/meta.db
  uint64_t records = 0;
  uint64_t bytes = 0;   // keys and values
  uint64_t next_inode = 0, next_chunk = 0;  // counters after the gap (0: absent)
};

Result<MetadataRestoreReport> RestoreMetadata(const MetadataRestoreOptions& options);

}  // namespace granary::tools::backup
