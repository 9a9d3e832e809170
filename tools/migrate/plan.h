#pragma once
// The walk of `granary migrate`: what the source tree holds and what stands
// at each destination path, one List per folder on each side (a Stat per
// file would cost a round trip per file on a cluster).

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/migrate/tree.h"

namespace granary::tools::migrate {

// A file or symlink to copy (or skip).
struct FileItem {
  std::string rel;  // path below the roots, for messages ("" for a single file)
  std::string src;  // in the source tree
  std::string dst;  // in the destination tree
  Entry source;
  std::optional<Entry> existing;  // what the destination holds now, if anything
};

// A folder whose mode and mtime are set once everything under it is copied.
struct DirItem {
  std::string rel;
  std::string dst;
  Entry source;
};

struct Plan {
  std::vector<FileItem> files;
  std::vector<DirItem> dirs;  // parents before children
  // Temporary files of an earlier, interrupted run (see IsTempName).
  std::vector<std::string> stale_temps;
  // With `extraneous`: what the destination holds that the source does not,
  // each a file, symlink or whole folder (removed by --delete).
  struct Extra {
    std::string rel;
    std::string dst;
    EntryType type;
  };
  std::vector<Extra> extraneous;
  // Parts of the tree that cannot be copied (a file where a folder is
  // needed, an unreadable source folder); each names the path.
  std::vector<Status> errors;
};

// Walks `src_root` (a folder or a file, already Stat'ed as `root`) and
// matches it against `dst_root`. Creates destination folders on the way
// unless dry_run. `extraneous`: also list what only the destination holds.
// Fails only when the destination root itself is unusable.
Result<Plan> PlanTree(Tree& src, const std::string& src_root, const Entry& root, Tree& dst,
                      const std::string& dst_root, bool dry_run, bool extraneous = false);

// Removes a file, symlink or folder tree (for --delete).
Status RemoveTree(Tree& tree, const std::string& path, EntryType type);

// Name of the temporary file a copy of `name` is written to before it is
// verified and renamed into place: ".NAME.granary-migrate.PID.SEQ", unique per
// process and call, so that a rerun never collides with the lease of a killed
// writer's temporary file. Thread-safe.
std::string TempName(const std::string& name);
bool IsTempName(const std::string& name);

}  // namespace granary::tools::migrate
