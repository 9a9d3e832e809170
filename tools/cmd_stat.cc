// granary stat PATH: every FileInfo field, and a file's chunk layout.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tools/command.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

std::string Replicas(const ChunkLocation& c) {
  std::string out;
  for (const ReplicaInfo& r : c.replicas) {
    if (!out.empty()) out += ", ";
    out += r.node_id + "@" + r.address;
  }
  return out.empty() ? "(none)" : out;
}

Status RunStat(const GlobalOptions& global, const std::string& arg) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(arg));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FileInfo i, client->Stat(path));
  std::vector<std::pair<std::string, std::string>> fields = {
      {"path", path},
      {"type", std::string(FileTypeName(i.type))},
      {"inode", std::to_string(i.inode)},
      {"mode", fmt::format("{} ({:04o})", FormatMode(i.type, i.mode), i.mode)},
      {"uid", std::to_string(i.uid)},
      {"gid", std::to_string(i.gid)},
      {"size", fmt::format("{} ({} bytes)", FormatBytes(i.size), i.size)},
      {"nlink", std::to_string(i.nlink)},
      {"mtime", fmt::format("{} (+{} ns)", FormatTime(i.mtime_sec), i.mtime_nsec)},
      {"ctime", FormatTime(i.ctime_sec)},
      {"replicas", std::to_string(i.replicas)},
      {"chunk size", fmt::format("{} ({} bytes)", FormatBytes(i.chunk_size), i.chunk_size)},
      {"codec", i.codec},
  };
  if (i.type == FileType::kSymlink) fields.push_back({"target", i.symlink_target});
  std::string out;
  for (const auto& [key, value] : fields) out += fmt::format("{:>10}: {}\n", key, value);
  std::fputs(out.c_str(), stdout);
  if (i.type != FileType::kFile) return Status::Ok();

  ASSIGN_OR_RETURN(auto chunks, client->GetLayout(path));
  uint64_t raw = 0, stored = 0;
  for (const ChunkLocation& c : chunks) {
    raw += c.length;
    stored += c.stored_length;
  }
  // What the codec saved: stored bytes per replica (block headers and
  // checksums included) against the file's bytes.
  std::printf("chunks: %zu, %s stored per replica", chunks.size(), FormatBytes(stored).c_str());
  if (stored > 0) std::printf(" (%.3fx)", static_cast<double>(raw) / static_cast<double>(stored));
  std::printf("\n");
  if (chunks.empty()) return Status::Ok();
  Table t({"INDEX", "CHUNK", "VERSION", "LENGTH", "STORED", "REPLICAS"},
          {true, true, true, true, true, false});
  for (const ChunkLocation& c : chunks) {
    t.AddRow({std::to_string(c.chunk_index), std::to_string(c.chunk_id), std::to_string(c.version),
              std::to_string(c.length), std::to_string(c.stored_length), Replicas(c)});
  }
  std::fputs(t.Render().c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterStat(CLI::App& app, CommandContext& ctx) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("stat", "show a file's or folder's attributes and chunks");
  cmd->add_option("PATH", *path, "cluster path")->required();
  cmd->callback(
      [&ctx, path] { ctx.Select("stat", [&ctx, path] { return RunStat(ctx.global(), *path); }); });
}

}  // namespace granary::tools
