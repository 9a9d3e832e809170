// granary load PATH [--device cuda:N|host] [--tensors PATTERN] [--verify]:
// loads a checkpoint (a safetensors file, a sharded checkpoint's index or
// folder, or any file) into GPU or host memory and reports where the time
// went. --verify reads every tensor again with a plain read and compares.
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
};

// The second, plain read of --verify: each tensor's bytes through an
// ordinary reader, at the offsets of a fresh parse of its file's header,
// compared with what the loader placed (copied back from the GPU if there).
Status Verify(Client& client, const LoadedCheckpoint& ckpt) {
  std::vector<uint8_t> loaded, plain;
  std::unique_ptr<FileReader> reader;
  std::string last;
  std::map<std::string, uint64_t> begin;  // tensor -> file offset, by the fresh parse
  for (const LoadedTensor& t : ckpt.tensors()) {
    if (t.file != last) {
      ASSIGN_OR_RETURN(reader, client.Open(t.file));
      last = t.file;
      begin.clear();
      if (t.file.ends_with(".safetensors")) {
        auto header = ReadSafetensorsHeader(*reader);
        if (!header.ok()) return header.status().WithContext(t.file);
        for (const TensorInfo& h : header->tensors) begin[h.name] = h.begin;
      }
    }
    plain.resize(t.bytes);
    auto at = begin.find(t.name);
    RETURN_IF_ERROR(ReadExactly(*reader, at == begin.end() ? 0 : at->second, plain)
                        .WithContext(t.file));
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
  cmd->add_flag("--verify", flags->verify, "compare every tensor with a second, plain read");
  cmd->callback([&ctx, flags] {
    ctx.Select("load", [&ctx, flags] { return RunLoad(ctx.global(), *flags); });
  });
}

}  // namespace granary::tools
