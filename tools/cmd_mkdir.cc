// granary mkdir [-p] PATH...: create folders.
#include "tools/command.h"

namespace granary::tools {
namespace {

struct MkdirFlags {
  std::vector<std::string> paths;
  bool parents = false;
  std::string mode = "755";
};

Status RunMkdir(const GlobalOptions& global, const MkdirFlags& f) {
  uint32_t mode = 0;
  for (char c : f.mode) {
    if (c < '0' || c > '7' || f.mode.size() > 4) {
      return Status::InvalidArgument("--mode must be octal, e.g. 755; got '" + f.mode + "'");
    }
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  for (const std::string& arg : f.paths) {
    ASSIGN_OR_RETURN(std::string path, NormalizePath(arg));
    auto made = client->Mkdir(path, mode, f.parents);
    if (made.ok()) continue;
    // -p: an existing folder is success, as with mkdir -p.
    if (f.parents && made.status().code() == proto::ALREADY_EXISTS) {
      ASSIGN_OR_RETURN(FileInfo info, client->Stat(path));
      if (info.type == FileType::kDirectory) continue;
    }
    return made.status();
  }
  return Status::Ok();
}

}  // namespace

void RegisterMkdir(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<MkdirFlags>();
  CLI::App* cmd = app.add_subcommand("mkdir", "create folders");
  cmd->add_option("PATH", flags->paths, "cluster paths")->required();
  cmd->add_flag("-p,--parents", flags->parents, "create missing parents; existing is no error");
  cmd->add_option("-m,--mode", flags->mode, "permission bits, octal")->capture_default_str();
  cmd->callback([&ctx, flags] {
    ctx.Select("mkdir", [&ctx, flags] { return RunMkdir(ctx.global(), *flags); });
  });
}

}  // namespace granary::tools
