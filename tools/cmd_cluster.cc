// granary cluster status: the node table with totals.
#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

Status RunClusterStatus(const GlobalOptions& global) {
  ASSIGN_OR_RETURN(std::string address, ResolveMetaAddress(global));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(auto nodes, client->ListNodes());
  if (global.json) {
    ASSIGN_OR_RETURN(RepairStatusInfo r, client->RepairStatus());
    ASSIGN_OR_RETURN(FsStats s, client->StatFs());
    PrintJson({{"metad", address}, {"fs", ToJson(s)}, {"nodes", ToJson(nodes)},
               {"repair", ToJson(r)}});
    return Status::Ok();
  }
  std::printf("metad: %s\n", address.c_str());
  std::fputs(RenderNodeTable(nodes).c_str(), stdout);
  ASSIGN_OR_RETURN(RepairStatusInfo r, client->RepairStatus());
  std::printf("\nrepair: %llu chunks under-replicated, %llu unrecoverable, %llu bad replicas; "
              "copies: %llu in flight, %llu done (%s), %llu failed\n",
              static_cast<unsigned long long>(r.under_replicated),
              static_cast<unsigned long long>(r.unrecoverable),
              static_cast<unsigned long long>(r.bad_replicas),
              static_cast<unsigned long long>(r.copies_in_flight),
              static_cast<unsigned long long>(r.copies_done), FormatBytes(r.bytes_copied).c_str(),
              static_cast<unsigned long long>(r.copies_failed));
  return Status::Ok();
}

}  // namespace

void RegisterCluster(CLI::App& app, CommandContext& ctx) {
  CLI::App* cmd = app.add_subcommand("cluster", "cluster administration");
  cmd->require_subcommand(1);
  CLI::App* status = cmd->add_subcommand("status", "list chunk servers: state, capacity, chunks");
  status->callback(
      [&ctx] { ctx.Select("cluster status", [&ctx] { return RunClusterStatus(ctx.global()); }); });
}

}  // namespace granary::tools
