// granary warm: chunk servers read a checkpoint's replicas into their page
// cache before a fleet loads it (Client::Warm).
#include <fmt/format.h>

#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"

namespace granary::tools {
namespace {

struct WarmFlags {
  std::vector<std::string> paths;
  bool one_replica = false;
  int requests = 8;
};

Status RunWarm(const GlobalOptions& global, const WarmFlags& f) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  WarmOptions o;
  o.all_replicas = !f.one_replica;
  o.requests_in_flight = f.requests;
  WarmStats total;
  for (const std::string& path : f.paths) {
    ASSIGN_OR_RETURN(WarmStats s, client->Warm(path, o));
    total.files += s.files;
    total.chunks += s.chunks;
    total.replicas += s.replicas;
    total.bytes += s.bytes;
    total.missing += s.missing;
    total.failed += s.failed;
    total.seconds += s.seconds;
    if (total.first_error.empty()) total.first_error = s.first_error;
  }
  if (global.json) {
    PrintJson({{"files", total.files},       {"chunks", total.chunks},
               {"replicas", total.replicas}, {"bytes", total.bytes},
               {"missing", total.missing},   {"failed", total.failed},
               {"seconds", total.seconds}});
  } else {
    std::printf("warmed %llu replica(s) of %llu chunk(s) in %llu file(s), %s in %.2f s (%.2f GB/s)\n",
                static_cast<unsigned long long>(total.replicas),
                static_cast<unsigned long long>(total.chunks),
                static_cast<unsigned long long>(total.files), FormatBytes(total.bytes).c_str(),
                total.seconds, total.seconds > 0 ? total.bytes / total.seconds / 1e9 : 0.0);
    if (total.missing > 0) {
      std::printf("%llu replica(s) had moved since the layout was read (not warmed)\n",
                  static_cast<unsigned long long>(total.missing));
    }
  }
  if (total.failed > 0) {
    return Status::Unavailable(fmt::format("{} replica(s) not warmed; first: {}", total.failed,
                                           total.first_error));
  }
  return Status::Ok();
}

}  // namespace

void RegisterWarm(CLI::App& app, CommandContext& ctx) {
  auto f = std::make_shared<WarmFlags>();
  CLI::App* cmd = app.add_subcommand(
      "warm", "have the chunk servers read files (a checkpoint, a folder) into their page cache "
              "before many clients load them");
  cmd->add_option("paths", f->paths, "files or folders (every file under a folder)")
      ->required();
  cmd->add_flag("--one-replica", f->one_replica,
                "one replica per chunk instead of all (less memory; readers then favour none)");
  cmd->add_option("-j,--requests", f->requests, "chunk-server requests at once (1..64)")
      ->check(CLI::Range(1, 64));
  cmd->callback([&ctx, f] { ctx.Select("warm", [&ctx, f] { return RunWarm(ctx.global(), *f); }); });
}

}  // namespace granary::tools
