// granary backup DEST [--path SUBTREE] [--metadata-only]: a point-in-time
// backup of the cluster (or a subtree) to a local folder, incremental over
// the chunk objects already there. The work is in tools/backup/.
#include <cstdio>

#include "tools/backup/backup_run.h"
#include "tools/command.h"

namespace granary::tools {
namespace {

Status RunBackupCommand(const GlobalOptions& global, const backup::BackupOptions& options) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(backup::Manifest m, backup::RunBackup(*client, options));
  const backup::ManifestSummary& s = m.summary;
  std::printf("backup %s of %s: %llu files, %llu folders, %llu symlinks, %s\n", m.name.c_str(),
              m.source_path.c_str(), static_cast<unsigned long long>(s.files),
              static_cast<unsigned long long>(s.folders),
              static_cast<unsigned long long>(s.symlinks), FormatBytes(s.bytes).c_str());
  std::printf("chunk objects: %llu copied (%s read, %s written), %llu already in the pool\n",
              static_cast<unsigned long long>(s.objects_copied), FormatBytes(s.bytes_copied).c_str(),
              FormatBytes(s.object_bytes_written).c_str(),
              static_cast<unsigned long long>(s.objects_reused));
  std::printf("metadata checkpoint: %llu pairs, %s\n",
              static_cast<unsigned long long>(s.metadata_pairs),
              FormatBytes(s.metadata_bytes).c_str());
  std::printf("took %s (%s)\n", FormatDuration(s.seconds).c_str(),
              FormatRate(s.bytes_copied, s.seconds).c_str());
  return Status::Ok();
}

}  // namespace

void RegisterBackup(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<backup::BackupOptions>();
  CLI::App* cmd = app.add_subcommand(
      "backup", "point-in-time backup to a local folder (incremental over its chunk pool)");
  cmd->add_option("DEST", options->dest, "local backup folder")->required();
  cmd->add_option("--path", options->path, "cluster subtree to back up")->capture_default_str();
  cmd->add_flag("--metadata-only", options->metadata_only,
                "store the manifest and the metadata checkpoint, no file data");
  cmd->add_option("-j,--jobs", options->jobs, "chunks copied at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->callback([&ctx, options] {
    ctx.Select("backup", [&ctx, options] { return RunBackupCommand(ctx.global(), *options); });
  });
}

}  // namespace granary::tools
