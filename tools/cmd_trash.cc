// granary trash ls|restore|purge: files removed while metad keeps a trash
// ([metad] trash_ms > 0).
#include <cstdio>

#include "tools/command.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

Status RunTrashLs(const GlobalOptions& global) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(auto items, client->TrashList());
  Table t({"INODE", "FOLDER", "NAME", "SIZE", "REMOVED", "FREED AFTER"},
          {true, true, false, true, false, false});
  for (const TrashItem& e : items) {
    t.AddRow({std::to_string(e.inode), std::to_string(e.parent), e.name, FormatBytes(e.size),
              FormatTime(e.deleted_ms / 1000), FormatTime(e.expires_ms / 1000)});
  }
  std::fputs(t.Render().c_str(), stdout);
  std::printf("%zu files in the trash\n", items.size());
  return Status::Ok();
}

Status RunTrashRestore(const GlobalOptions& global, uint64_t inode, const std::string& to) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FileInfo info, client->TrashRestore(inode, to));
  std::printf("restored inode %llu (%s)%s%s\n", static_cast<unsigned long long>(info.inode),
              FormatBytes(info.size).c_str(), to.empty() ? "" : " as ", to.c_str());
  return Status::Ok();
}

Status RunTrashPurge(const GlobalOptions& global, uint64_t inode, bool all) {
  if (!all && inode == 0) return Status::InvalidArgument("give an INODE or --all");
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(uint64_t n, client->TrashPurge(inode, all));
  std::printf("freed %llu files\n", static_cast<unsigned long long>(n));
  return Status::Ok();
}

}  // namespace

void RegisterTrash(CLI::App& app, CommandContext& ctx) {
  CLI::App* cmd = app.add_subcommand("trash", "removed files kept for a while ([metad] trash_ms)");
  cmd->require_subcommand(1);
  CLI::App* ls = cmd->add_subcommand("ls", "list the trash");
  ls->callback([&ctx] { ctx.Select("trash ls", [&ctx] { return RunTrashLs(ctx.global()); }); });

  static uint64_t inode = 0;
  static std::string to;
  static bool all = false;
  CLI::App* restore = cmd->add_subcommand("restore", "give a removed file its name back");
  restore->add_option("INODE", inode, "inode number (granary trash ls)")->required();
  restore->add_option("--to", to, "restore to this path instead of the old one");
  restore->callback([&ctx] {
    ctx.Select("trash restore", [&ctx] { return RunTrashRestore(ctx.global(), inode, to); });
  });
  CLI::App* purge = cmd->add_subcommand("purge", "free removed files now");
  purge->add_option("INODE", inode, "inode number (granary trash ls)");
  purge->add_flag("--all", all, "empty the whole trash");
  purge->callback([&ctx] {
    ctx.Select("trash purge", [&ctx] { return RunTrashPurge(ctx.global(), inode, all); });
  });
}

}  // namespace granary::tools
