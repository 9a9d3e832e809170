#pragma once
// How subcommands plug into `granary` (tools/main.cc).
//
// Each tools/cmd_*.cc file defines one Register function. It adds its CLI11
// subcommand with its flags, and a callback that, once parsing succeeded,
// tells the CommandContext what to run. main() then runs it and turns a
// non-OK Status into "granary: <command>: <status>" and exit code 1. Parse
// (usage) errors exit with 2 before anything runs.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/status.h"
#include "tools/cli_util.h"

namespace granary::tools {

class CommandContext {
 public:
  GlobalOptions& global() { return global_; }

  // Called from a subcommand's parse callback.
  void Select(std::string name, std::function<Status()> run) {
    name_ = std::move(name);
    run_ = std::move(run);
  }
  bool selected() const { return static_cast<bool>(run_); }
  const std::string& name() const { return name_; }
  Status Run() const { return run_(); }

 private:
  GlobalOptions global_;
  std::string name_;
  std::function<Status()> run_;
};

// Data.
void RegisterPut(CLI::App& app, CommandContext& ctx);
void RegisterGet(CLI::App& app, CommandContext& ctx);
void RegisterCat(CLI::App& app, CommandContext& ctx);
void RegisterMigrate(CLI::App& app, CommandContext& ctx);
// Namespace.
void RegisterLs(CLI::App& app, CommandContext& ctx);
void RegisterStat(CLI::App& app, CommandContext& ctx);
void RegisterMkdir(CLI::App& app, CommandContext& ctx);
void RegisterMv(CLI::App& app, CommandContext& ctx);
void RegisterRm(CLI::App& app, CommandContext& ctx);
void RegisterSetattr(CLI::App& app, CommandContext& ctx);
// Cluster.
void RegisterDf(CLI::App& app, CommandContext& ctx);
void RegisterDu(CLI::App& app, CommandContext& ctx);
void RegisterQuota(CLI::App& app, CommandContext& ctx);
void RegisterCluster(CLI::App& app, CommandContext& ctx);
void RegisterDev(CLI::App& app, CommandContext& ctx);
// File system.
void RegisterMount(CLI::App& app, CommandContext& ctx);
void RegisterLoad(CLI::App& app, CommandContext& ctx);
void RegisterWarm(CLI::App& app, CommandContext& ctx);
void RegisterFsck(CLI::App& app, CommandContext& ctx);
void RegisterNode(CLI::App& app, CommandContext& ctx);
void RegisterTrash(CLI::App& app, CommandContext& ctx);
// Security.
void RegisterKey(CLI::App& app, CommandContext& ctx);
// Backup.
void RegisterBackup(CLI::App& app, CommandContext& ctx);
void RegisterRestore(CLI::App& app, CommandContext& ctx);

}  // namespace granary::tools
