// granary df: cluster capacity and usage.
#include <fmt/format.h>

#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

Status RunDf(const GlobalOptions& global, bool bytes) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FsStats s, client->StatFs());
  if (global.json) {
    PrintJson(ToJson(s));
    return Status::Ok();
  }
  auto size = [bytes](uint64_t v) { return bytes ? std::to_string(v) : FormatBytes(v); };
  double use = s.capacity_bytes == 0 ? 0
                                     : 100.0 * static_cast<double>(s.used_bytes) /
                                           static_cast<double>(s.capacity_bytes);
  Table t({"CAPACITY", "USED", "FREE", "USE%", "FILES", "CHUNKS", "NODES"},
          {true, true, true, true, true, true, true});
  t.AddRow({size(s.capacity_bytes), size(s.used_bytes), size(s.free_bytes),
            fmt::format("{:.0f}%", use), std::to_string(s.files), std::to_string(s.chunks),
            fmt::format("{}/{} up", s.nodes_up, s.nodes_total)});
  std::fputs(t.Render().c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterDf(CLI::App& app, CommandContext& ctx) {
  auto bytes = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("df", "cluster capacity, usage, files and chunks");
  cmd->add_flag("--bytes", *bytes, "exact sizes in bytes");
  cmd->callback(
      [&ctx, bytes] { ctx.Select("df", [&ctx, bytes] { return RunDf(ctx.global(), *bytes); }); });
}

}  // namespace granary::tools
