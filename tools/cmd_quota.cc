// granary quota set|rm|ls: folder quotas (bytes and files in a subtree).
#include <fmt/format.h>

#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

std::string Limit(uint64_t v, bool bytes) {
  if (v == 0) return "-";
  return bytes ? FormatBytes(v) : std::to_string(v);
}

void PrintQuotas(const std::vector<QuotaStatus>& quotas) {
  Table t({"PATH", "BYTES USED", "BYTE LIMIT", "FILES USED", "FILE LIMIT"},
          {false, true, true, true, true});
  for (const QuotaStatus& q : quotas) {
    t.AddRow({q.path, FormatBytes(q.used_bytes), Limit(q.max_bytes, true),
              std::to_string(q.used_files), Limit(q.max_files, false)});
  }
  std::fputs(t.Render().c_str(), stdout);
}

Status RunSet(const GlobalOptions& global, const std::string& path, const std::string& bytes,
              uint64_t files, bool remove) {
  uint64_t max_bytes = 0;
  if (!remove) {
    if (!bytes.empty()) {
      ASSIGN_OR_RETURN(max_bytes, ParseSize(bytes));
    }
    if (max_bytes == 0 && files == 0) {
      return Status::InvalidArgument("give --bytes and/or --files (use `granary quota rm` to remove)");
    }
  }
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(QuotaStatus q, client->SetQuota(path, max_bytes, remove ? 0 : files));
  if (global.json) {
    PrintJson(ToJson(q));
  } else if (remove) {
    std::printf("%s: quota removed\n", q.path.c_str());
  } else {
    PrintQuotas({q});
  }
  return Status::Ok();
}

Status RunLs(const GlobalOptions& global) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(std::vector<QuotaStatus> quotas, client->ListQuotas());
  if (global.json) {
    nlohmann::json a = nlohmann::json::array();
    for (const QuotaStatus& q : quotas) a.push_back(ToJson(q));
    PrintJson(a);
  } else {
    PrintQuotas(quotas);
  }
  return Status::Ok();
}

}  // namespace

void RegisterQuota(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string path;
    std::string bytes;
    uint64_t files = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("quota", "folder quotas: bytes and files in a subtree");
  cmd->require_subcommand(1);
  CLI::App* set = cmd->add_subcommand(
      "set", "limit a folder's subtree; writes past it fail (EDQUOT through the mount)");
  set->add_option("PATH", flags->path, "cluster folder")->required();
  set->add_option("--bytes", flags->bytes, "most bytes (file sizes), e.g. 500G");
  set->add_option("--files", flags->files, "most entries (files, folders, symlinks)");
  set->callback([&ctx, flags] {
    ctx.Select("quota set", [&ctx, flags] {
      return RunSet(ctx.global(), flags->path, flags->bytes, flags->files, false);
    });
  });
  CLI::App* rm = cmd->add_subcommand("rm", "remove a folder's quota");
  rm->add_option("PATH", flags->path, "cluster folder")->required();
  rm->callback([&ctx, flags] {
    ctx.Select("quota rm",
               [&ctx, flags] { return RunSet(ctx.global(), flags->path, "", 0, true); });
  });
  CLI::App* ls = cmd->add_subcommand("ls", "every quota with its usage");
  ls->callback([&ctx] { ctx.Select("quota ls", [&ctx] { return RunLs(ctx.global()); }); });
}

}  // namespace granary::tools
