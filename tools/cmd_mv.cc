// granary mv SRC DST: rename atomically; into DST when it is a folder.
#include "tools/command.h"

namespace granary::tools {
namespace {

struct MvFlags {
  std::string src;
  std::string dst;
  bool no_clobber = false;
};

Status RunMv(const GlobalOptions& global, const MvFlags& f) {
  ASSIGN_OR_RETURN(std::string src, NormalizePath(f.src));
  ASSIGN_OR_RETURN(std::string dst, NormalizePath(f.dst));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  auto info = client->Stat(dst);
  if (info.ok() && info->type == FileType::kDirectory) dst = JoinPath(dst, RemoteBasename(src));
  if (src == dst) return Status::InvalidArgument(src + " and " + dst + " are the same path");
  return client->Rename(src, dst, f.no_clobber);
}

}  // namespace

void RegisterMv(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<MvFlags>();
  CLI::App* cmd = app.add_subcommand(
      "mv", "rename a file or folder (atomic); into DST when DST is a folder, like mv");
  cmd->add_option("SRC", flags->src, "cluster path")->required();
  cmd->add_option("DST", flags->dst, "cluster path")->required();
  cmd->add_flag("-n,--no-clobber", flags->no_clobber, "fail instead of replacing a file");
  cmd->callback(
      [&ctx, flags] { ctx.Select("mv", [&ctx, flags] { return RunMv(ctx.global(), *flags); }); });
}

}  // namespace granary::tools
