// granary setattr PATH [--replicas N] [--chunk-size BYTES] [--codec NAME]: change a layout.
// A new replication factor on a folder applies to everything already below
// it too (a walk here); metad's repair loop then copies chunks up to it or
// trims them down to it in the background.
#include <cstdio>

#include "tools/command.h"

namespace granary::tools {
namespace {

// Sets `replicas` on every file and folder below `dir`; returns how many.
Result<uint64_t> SetReplicasBelow(Client& c, const std::string& dir, uint32_t replicas, int depth) {
  if (depth > 4096) return Status::InvalidArgument(dir + ": folders nested too deep");
  ASSIGN_OR_RETURN(std::vector<DirEntryInfo> entries, c.ReadDir(dir));
  uint64_t n = 0;
  for (const DirEntryInfo& e : entries) {
    if (e.info.type == FileType::kSymlink) continue;
    const std::string child = JoinPath(dir, e.name);
    if (e.info.replicas != replicas) {
      RETURN_IF_ERROR(c.SetLayout(child, {.replicas = replicas}).status().WithContext(child));
      ++n;
    }
    if (e.info.type == FileType::kDirectory) {
      ASSIGN_OR_RETURN(uint64_t below, SetReplicasBelow(c, child, replicas, depth + 1));
      n += below;
    }
  }
  return n;
}

struct SetattrFlags {
  std::string path;
  uint32_t replicas = 0;
  std::string chunk_size;
  std::string codec;
};

Status RunSetattr(const GlobalOptions& global, const SetattrFlags& f) {
  uint64_t chunk_size = 0;
  if (!f.chunk_size.empty()) {
    ASSIGN_OR_RETURN(chunk_size, ParseSize(f.chunk_size));
  }
  if (f.replicas == 0 && chunk_size == 0 && f.codec.empty()) {
    return Status::InvalidArgument("nothing to change: give --replicas, --chunk-size or --codec");
  }
  ASSIGN_OR_RETURN(std::string path, NormalizePath(f.path));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FileInfo info, client->SetLayout(
                                      path, {.replicas = f.replicas, .chunk_size = chunk_size,
                                             .codec = f.codec}));
  std::printf("%s: replicas %u, chunk size %s, codec %s\n", path.c_str(), info.replicas,
              FormatBytes(info.chunk_size).c_str(), info.codec.c_str());
  if (f.replicas != 0 && info.type == FileType::kDirectory) {
    ASSIGN_OR_RETURN(uint64_t n, SetReplicasBelow(*client, path, f.replicas, 0));
    std::printf("%llu entries below now keep %u replicas; chunks are copied or trimmed in the "
                "background (granary fsck shows progress)\n",
                static_cast<unsigned long long>(n), f.replicas);
  }
  return Status::Ok();
}

}  // namespace

void RegisterSetattr(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<SetattrFlags>();
  CLI::App* cmd = app.add_subcommand(
      "setattr", "set replication factor, chunk size or codec; new files in a folder inherit them");
  cmd->add_option("PATH", flags->path, "cluster path")->required();
  cmd->add_option("--replicas", flags->replicas, "replication factor")->check(CLI::Range(1, 16));
  cmd->add_option("--chunk-size", flags->chunk_size,
                  "chunk size, e.g. 64M (folders and empty files only)");
  cmd->add_option("--codec", flags->codec,
                  "block codec for data written from now on: auto (per block: safetensors "
                  "dtypes, else sampling), raw, zstd, bf16, fp16 or fp32 (byte planes)");
  cmd->callback([&ctx, flags] {
    ctx.Select("setattr", [&ctx, flags] { return RunSetattr(ctx.global(), *flags); });
  });
}

}  // namespace granary::tools
