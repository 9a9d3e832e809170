// granary node ls|status|drain|undrain|remove: one chunk server at a time.
#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

void PrintNode(const NodeStatus& n) {
  std::printf("node %s at %s: %s%s, %llu chunk replicas referenced, %s used of %s\n",
              n.node_id.c_str(), n.address.c_str(), n.up ? "up" : "down",
              n.draining ? ", draining" : "",
              static_cast<unsigned long long>(n.replicas_referenced),
              FormatBytes(n.used_bytes).c_str(), FormatBytes(n.capacity_bytes).c_str());
}

Status RunNode(const GlobalOptions& global, NodeAction action, const std::string& id) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(NodeStatus n, client->NodeAdmin(id, action));
  if (global.json) {
    PrintJson(ToJson(n));
    return Status::Ok();
  }
  switch (action) {
    case NodeAction::kRemove:
      std::printf("node %s removed\n", id.c_str());
      return Status::Ok();
    case NodeAction::kDrain:
      std::printf("draining: its replicas are being copied elsewhere; it keeps serving reads.\n"
                  "Follow with `granary node status %s` until 0 replicas are referenced.\n",
                  id.c_str());
      break;
    case NodeAction::kUndrain:
      std::printf("no longer draining\n");
      break;
    case NodeAction::kStatus:
      break;
  }
  PrintNode(n);
  return Status::Ok();
}

Status RunNodeLs(const GlobalOptions& global) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(auto nodes, client->ListNodes());
  if (global.json) {
    PrintJson(ToJson(nodes));
    return Status::Ok();
  }
  std::fputs(RenderNodeTable(nodes).c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterNode(CLI::App& app, CommandContext& ctx) {
  CLI::App* cmd = app.add_subcommand("node", "chunk server administration");
  cmd->require_subcommand(1);
  CLI::App* ls = cmd->add_subcommand("ls", "list chunk servers");
  ls->callback([&ctx] { ctx.Select("node ls", [&ctx] { return RunNodeLs(ctx.global()); }); });
  struct Action {
    const char* name;
    const char* help;
    NodeAction action;
  };
  static const Action kActions[] = {
      {"status", "one node: state, replicas still referenced", NodeAction::kStatus},
      {"drain", "move every replica off a node while it keeps serving", NodeAction::kDrain},
      {"undrain", "stop draining a node", NodeAction::kUndrain},
      {"remove", "forget a stopped node that holds no replica", NodeAction::kRemove},
  };
  static std::string id;  // CLI11 binds options to storage that outlives parsing
  for (const Action& a : kActions) {
    CLI::App* sub = cmd->add_subcommand(a.name, a.help);
    sub->add_option("ID", id, "node id (granary node ls)")->required();
    const NodeAction action = a.action;
    const std::string name = std::string("node ") + a.name;
    sub->callback([&ctx, action, name] {
      ctx.Select(name, [&ctx, action] { return RunNode(ctx.global(), action, id); });
    });
  }
}

}  // namespace granary::tools
