// granary load PATH [--device cuda:N|host] [--tensors PATTERN]
//   [--shard R/W --split PATTERN=DIM...] [--verify]:
// loads a checkpoint (a safetensors file, a sharded checkpoint's index or
// folder, or any file) into GPU or host memory and reports where the time
// went. --shard/--split load one tensor-parallel rank's slices. --verify
// reads every tensor again with a plain read and compares.
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "granary/loader.h"
#include "tools/command.h"

namespace granary::tools {
namespace {

struct LoadFlags {
  std::string path;
  std::string device = "host";
  std::string tensors;
  int reads = 8;
  int piece_mib = 8;
  bool verify = false;
  std::string shard;               // "R/W"
  std::vector<std::string> split;  // "PATTERN=DIM"
};

// "R/W" and "PATTERN=DIM" into the options.
Status ParseSharding(const LoadFlags& f, LoadOptions* o) {
  if (!f.shard.empty()) {
    int rank = -1, world = -1;
    char extra = 0;  // anything after WORLD
    if (std::sscanf(f.shard.c_str(), "%d/%d%c", &rank, &world, &extra) != 2 || world < 1 ||
        rank < 0 || rank >= world) {
      return Status::InvalidArgument("--shard \"" + f.shard +
                                     "\": expected RANK/WORLD with 0 <= RANK < WORLD");
    }
    o->rank = rank;
    o->world = world;
  }
  for (const std::string& rule : f.split) {
    const size_t eq = rule.rfind('=');
    int dim = 0;
    char extra = 0;
    if (eq == std::string::npos || eq == 0 ||
        std::sscanf(rule.c_str() + eq + 1, "%d%c", &dim, &extra) != 1) {
      return Status::InvalidArgument("--split \"" + rule + "\": expected PATTERN=DIM");
    }
    o->split.push_back({rule.substr(0, eq), dim});
  }
  if (!o->split.empty() && o->world == 1) {
    return Status::InvalidArgument("--split needs --shard RANK/WORLD with WORLD > 1");
  }
  return Status::Ok();
}

// The bytes of this rank's part of a split tensor, gathered from the whole
// tensor's bytes.
std::vector<uint8_t> SliceOf(const std::vector<uint8_t>& whole, const TensorInfo& full,
                             const LoadedTensor& t) {
  uint64_t outer = 1, inner = DtypeSize(full.dtype);
  const auto dim = static_cast<size_t>(t.split_dim);
  for (size_t d = 0; d < dim; ++d) outer *= full.shape[d];
  for (size_t d = dim + 1; d < full.shape.size(); ++d) inner *= full.shape[d];
  const uint64_t pitch = full.shape[dim] * inner;
  const uint64_t run = (t.split_end - t.split_begin) * inner;
  std::vector<uint8_t> out;
  out.reserve(outer * run);
  for (uint64_t r = 0; r < outer; ++r) {
    const uint8_t* from = whole.data() + r * pitch + t.split_begin * inner;
    out.insert(out.end(), from, from + run);
  }
  return out;
}

// The second, plain read of --verify: each tensor's bytes through an
// ordinary reader, at the offsets of a fresh parse of its file's header,
// compared with what the loader placed (copied back from the GPU if there).
Status Verify(Client& client, const LoadedCheckpoint& ckpt) {
  std::vector<uint8_t> loaded, plain;
  std::unique_ptr<FileReader> reader;
  std::string last;
  std::map<std::string, TensorInfo> fresh;  // tensor -> its header entry, by the fresh parse
  for (const LoadedTensor& t : ckpt.tensors()) {
    if (t.file != last) {
      ASSIGN_OR_RETURN(reader, client.Open(t.file));
      last = t.file;
      fresh.clear();
      if (t.file.ends_with(".safetensors")) {
        auto header = ReadSafetensorsHeader(*reader);
        if (!header.ok()) return header.status().WithContext(t.file);
        for (const TensorInfo& h : header->tensors) fresh[h.name] = h;
      }
    }
    auto at = fresh.find(t.name);
    plain.resize(at == fresh.end() ? t.bytes : at->second.end - at->second.begin);
    RETURN_IF_ERROR(ReadExactly(*reader, at == fresh.end() ? 0 : at->second.begin, plain)
                        .WithContext(t.file));
    if (t.split_dim >= 0 && at != fresh.end()) plain = SliceOf(plain, at->second, t);
    RETURN_IF_ERROR(ckpt.CopyToHost(t, &loaded));
    if (loaded != plain) {
      return Status::Corruption("tensor \"" + t.name + "\" of " + t.file +
                                " differs from a plain read");
    }
  }
  return Status::Ok();
}

Status RunLoad(const GlobalOptions& global, const LoadFlags& f) {
  LoadOptions o;
  RETURN_IF_ERROR(ParseLoadDevice(f.device, &o));
  o.tensors = f.tensors;
  o.reads_in_flight = f.reads;
  o.piece_bytes = uint64_t(f.piece_mib) << 20;
  RETURN_IF_ERROR(ParseSharding(f, &o));
  ASSIGN_OR_RETURN(std::string path, NormalizePath(f.path));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(LoadedCheckpoint ckpt, LoadCheckpoint(*client, path, o));
  const LoadStats& s = ckpt.stats();
  std::printf("loaded %zu tensors, %s from %llu file(s) into %s in %.3f s: %.2f GB/s\n",
              ckpt.tensors().size(), FormatBytes(s.bytes).c_str(),
              static_cast<unsigned long long>(s.files), f.device.c_str(), s.seconds, s.gbps());
  std::printf("  headers %.3f s; summed over %d workers: fetch %.3f s (of which decode %.3f s), "
              "copy %.3f s; %s read\n",
              s.header_seconds, f.reads, s.fetch_seconds, s.decode_seconds, s.copy_seconds,
              FormatBytes(s.read_bytes).c_str());
  if (f.verify) {
    RETURN_IF_ERROR(Verify(*client, ckpt));
    std::printf("verified: every tensor matches a plain read\n");
  }
  return Status::Ok();
}

}  // namespace

void RegisterLoad(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<LoadFlags>();
  CLI::App* cmd = app.add_subcommand(
      "load", "load a checkpoint into GPU or host memory and report the time per stage");
  cmd->add_option("PATH", flags->path,
                  "a .safetensors file, a sharded checkpoint's index or folder, or any file")
      ->required();
  cmd->add_option("--device", flags->device, "host, cuda or cuda:N (default host)");
  cmd->add_option("--tensors", flags->tensors,
                  "comma-separated glob patterns of tensor names (default: all)");
  cmd->add_option("--reads", flags->reads, "reads in flight (default 8)")->check(CLI::Range(1, 64));
  cmd->add_option("--piece-mib", flags->piece_mib, "MiB per read (default 8)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--shard", flags->shard,
                  "RANK/WORLD: load this tensor-parallel rank's part of the tensors --split names");
  cmd->add_option("--split", flags->split,
                  "PATTERN=DIM: split the tensors matching PATTERN along DIM (repeatable; the "
                  "first match wins; others load whole)");
  cmd->add_flag("--verify", flags->verify, "compare every tensor with a second, plain read");
  cmd->callback([&ctx, flags] {
    ctx.Select("load", [&ctx, flags] { return RunLoad(ctx.global(), *flags); });
  });
}

}  // namespace granary::tools
