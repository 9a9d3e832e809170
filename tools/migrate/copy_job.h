#pragma once
// Copies one file or symlink of a migrate plan, verified:
//
// 1. Skip when the destination already holds it: same size and mtime, or
//    with `checksum`, same size and the same XXH3-128 of the contents.
// 2. Stream the source into a temporary name beside the destination
//    (TempName), hashing every byte read and paying the rate limiter.
// 3. Close (durable when the tree fsyncs), set mode, mtime and owner.
// 4. Read the temporary file back from the destination and compare its hash
//    with the source's: CORRUPTION naming the file when they differ.
// 5. Rename it into place. Only then does the destination name hold the new
//    file, with the source's size and mtime, so an interrupted run never
//    leaves a partial file that a rerun would take for a complete one.
//
// Memory: one buffer of kTransferBufferBytes per job, plus what the cluster
// writer keeps (the encoded blocks of one chunk). Thread-safe: one CopyJob
// serves every worker.

#include <cstdint>

#include "common/status.h"
#include "tools/content_hash.h"
#include "tools/migrate/plan.h"
#include "tools/migrate/rate_limiter.h"
#include "tools/migrate/tree.h"
#include "tools/transfer.h"

namespace granary::tools::migrate {

struct CopyOptions {
  bool checksum = false;   // skip on equal content, not on equal size and mtime
  bool dry_run = false;    // decide only; change nothing
  bool set_owner = false;  // carry uid/gid over (running as root)
};

enum class Outcome { kCopied, kSkipped };

class CopyJob {
 public:
  CopyJob(Tree& src, Tree& dst, RateLimiter& limiter, TransferProgress& progress,
          CopyOptions options)
      : src_(src), dst_(dst), limiter_(limiter), progress_(progress), options_(options) {}

  // kCopied in a dry run means "would be copied".
  Result<Outcome> Copy(const FileItem& item);

  // Mode and mtime (and owner) of a folder, once its contents are in place.
  Status FinishDir(const DirItem& dir);

  // Size and mtime match: what a rerun without --checksum skips.
  static bool LooksComplete(const FileItem& item);

 private:
  Result<Outcome> CopyFile(const FileItem& item);
  Result<Outcome> CopySymlink(const FileItem& item);
  Status StreamToTemp(const FileItem& item, const std::string& tmp);
  // XXH3-128 of a whole file; `limited` pays the rate limiter (source reads).
  Result<ContentHash> HashFile(Tree& tree, const std::string& path, bool limited);
  Attrs AttrsOf(const Entry& e) const;

  Tree& src_;
  Tree& dst_;
  RateLimiter& limiter_;
  TransferProgress& progress_;
  const CopyOptions options_;
};

}  // namespace granary::tools::migrate
