// granary ls [-l] [PATH]: list a folder (or show one file).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "tools/command.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

struct LsFlags {
  std::string path = "/";
  bool long_format = false;
  bool bytes = false;
};

Status RunLs(const GlobalOptions& global, const LsFlags& f) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(f.path));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FileInfo self, client->Stat(path));
  std::vector<DirEntryInfo> entries;
  if (self.type == FileType::kDirectory) {
    ASSIGN_OR_RETURN(entries, client->ReadDir(path));
    std::sort(entries.begin(), entries.end(),
              [](const DirEntryInfo& a, const DirEntryInfo& b) { return a.name < b.name; });
  } else {
    entries.push_back({RemoteBasename(path), self});
  }
  if (!f.long_format) {
    for (const DirEntryInfo& e : entries) {
      std::printf("%s%s\n", e.name.c_str(), e.info.type == FileType::kDirectory ? "/" : "");
    }
    return Status::Ok();
  }
  Table t({"MODE", "R", "SIZE", "MODIFIED", "NAME"}, {false, true, true, false, false});
  for (const DirEntryInfo& e : entries) {
    const FileInfo& i = e.info;
    bool dir = i.type == FileType::kDirectory;
    std::string name = e.name + (dir ? "/" : "");
    if (i.type == FileType::kSymlink) name += " -> " + i.symlink_target;
    t.AddRow({FormatMode(i.type, i.mode), dir ? "-" : std::to_string(i.replicas),
              f.bytes ? std::to_string(i.size) : FormatBytes(i.size), FormatTime(i.mtime_sec),
              name});
  }
  std::string out = t.Render();
  // The header line only helps when there is something under it.
  std::fputs(entries.empty() ? "" : out.c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterLs(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* cmd = app.add_subcommand("ls", "list a folder; folders end in '/'");
  cmd->add_option("PATH", flags->path, "cluster path")->capture_default_str();
  cmd->add_flag("-l,--long", flags->long_format, "mode, replicas, size, mtime, name");
  cmd->add_flag("--bytes", flags->bytes, "exact sizes in bytes with -l");
  cmd->callback(
      [&ctx, flags] { ctx.Select("ls", [&ctx, flags] { return RunLs(ctx.global(), *flags); }); });
}

}  // namespace granary::tools
