// granary rm [-r] [-f] PATH...: delete files, and with -r whole trees.
#include "tools/command.h"

namespace granary::tools {
namespace {

struct RmFlags {
  std::vector<std::string> paths;
  bool recursive = false;
  bool force = false;
};

// Depth first: a folder's entries, then the folder itself.
Status RemoveTree(Client& client, const std::string& path) {
  ASSIGN_OR_RETURN(auto entries, client.ReadDir(path));
  for (const DirEntryInfo& e : entries) {
    std::string child = JoinPath(path, e.name);
    if (e.info.type == FileType::kDirectory) {
      RETURN_IF_ERROR(RemoveTree(client, child));
    } else {
      RETURN_IF_ERROR(client.Unlink(child).WithContext(child));
    }
  }
  return client.Rmdir(path).WithContext(path);
}

Status RemoveOne(Client& client, const RmFlags& f, const std::string& arg) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(arg));
  if (path == "/") return Status::InvalidArgument("refusing to remove /");
  auto info = client.Stat(path);
  if (!info.ok()) {
    if (f.force && info.status().code() == proto::NOT_FOUND) return Status::Ok();
    return info.status();
  }
  if (info->type != FileType::kDirectory) return client.Unlink(path).WithContext(path);
  if (!f.recursive) return Status::IsDirectory(path + " is a folder; use rm -r");
  return RemoveTree(client, path);
}

Status RunRm(const GlobalOptions& global, const RmFlags& f) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  for (const std::string& p : f.paths) RETURN_IF_ERROR(RemoveOne(*client, f, p));
  return Status::Ok();
}

}  // namespace

void RegisterRm(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<RmFlags>();
  CLI::App* cmd = app.add_subcommand("rm", "delete files; -r deletes folders with their contents");
  cmd->add_option("PATH", flags->paths, "cluster paths")->required();
  cmd->add_flag("-r,-R,--recursive", flags->recursive, "delete folders and everything under them");
  cmd->add_flag("-f,--force", flags->force, "a missing path is no error");
  cmd->callback(
      [&ctx, flags] { ctx.Select("rm", [&ctx, flags] { return RunRm(ctx.global(), *flags); }); });
}

}  // namespace granary::tools
