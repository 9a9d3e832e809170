// granary restore SRC [--backup NAME] [--path DEST_PATH] [--force]: brings a
// backup made by `granary backup` up on a cluster and verifies every file
// against the manifest. Exit status 1 on any failure or mismatch.
// granary restore SRC --metadata-to DIR: loads the run's metadata
// checkpoint into a new metad data folder instead (no cluster involved).
#include <cstdio>

#include "tools/backup/metadata_restore.h"
#include "tools/backup/restore_run.h"
#include "tools/command.h"

namespace granary::tools {
namespace {

Status RunMetadataRestore(const backup::MetadataRestoreOptions& options) {
  ASSIGN_OR_RETURN(backup::MetadataRestoreReport r, backup::RestoreMetadata(options));
  std::printf("loaded the metadata of backup %s into %s: %llu records, %s\n", r.backup.c_str(),
              r.db_path.c_str(), static_cast<unsigned long long>(r.records),
              FormatBytes(r.bytes).c_str());
  std::printf("ids continue at inode %llu, chunk %llu (past anything handed out since)\n",
              static_cast<unsigned long long>(r.next_inode),
              static_cast<unsigned long long>(r.next_chunk));
  std::printf("start granary-metad with --data-dir %s; chunk servers keep their data. Files "
              "changed after the backup are as they were then; run granary fsck once the "
              "chunk servers are up\n",
              options.data_dir.c_str());
  return Status::Ok();
}

Status RunRestoreCommand(const GlobalOptions& global, const backup::RestoreOptions& options) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(backup::RestoreReport r, backup::RunRestore(*client, options));
  std::printf("restored backup %s to %s: %llu files, %llu folders, %llu symlinks, %s in %s (%s)\n",
              r.backup.c_str(), r.path.c_str(), static_cast<unsigned long long>(r.files),
              static_cast<unsigned long long>(r.folders),
              static_cast<unsigned long long>(r.symlinks), FormatBytes(r.bytes).c_str(),
              FormatDuration(r.write_seconds).c_str(),
              FormatRate(r.bytes, r.write_seconds).c_str());
  std::printf("verified %llu files against the manifest in %s\n",
              static_cast<unsigned long long>(r.verified), FormatDuration(r.verify_seconds).c_str());
  if (r.replicas_capped_to > 0) {
    std::printf("note: replication factors above %u were capped to the %u servers up\n",
                r.replicas_capped_to, r.replicas_capped_to);
  }
  for (const std::string& f : r.failures) std::fprintf(stderr, "FAILED %s\n", f.c_str());
  if (!r.failures.empty()) {
    return Status::Corruption(std::to_string(r.failures.size()) +
                              " entries failed to restore or verify; the first: " +
                              r.failures.front());
  }
  return Status::Ok();
}

}  // namespace

void RegisterRestore(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<backup::RestoreOptions>();
  CLI::App* cmd = app.add_subcommand("restore", "restore a backup made by granary backup");
  cmd->add_option("SRC", options->src, "local backup folder (DEST of granary backup)")->required();
  cmd->add_option("--backup", options->backup, "run name under SRC/backups (default: the latest)");
  cmd->add_option("--path", options->path,
                  "cluster path to restore to (default: where it was backed up from)");
  cmd->add_flag("--force", options->force, "restore over existing paths");
  cmd->add_option("-j,--jobs", options->jobs, "files written at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  auto metadata_to = std::make_shared<std::string>();
  cmd->add_option("--metadata-to", *metadata_to,
                  "instead: load the run's metadata checkpoint into this new metad data folder "
                  "(offline; for a metad whose disk was lost)")
      ->excludes("--path")
      ->excludes("--force");
  cmd->callback([&ctx, options, metadata_to] {
    if (!metadata_to->empty()) {
      ctx.Select("restore", [options, metadata_to] {
        return RunMetadataRestore(
            {.src = options->src, .backup = options->backup, .data_dir = *metadata_to});
      });
      return;
    }
    ctx.Select("restore", [&ctx, options] { return RunRestoreCommand(ctx.global(), *options); });
  });
}

}  // namespace granary::tools
