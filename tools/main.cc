// granary: the user and admin command line of a Granary cluster.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "common/process.h"
#include "common/log.h"
#include "tools/command.h"

namespace {

// CLI11 reports a misspelled command as "A subcommand is required". Returns
// the unknown command ("dev stat") so the message can name it, or "".
std::string UnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--meta" || arg == "--log-level" || arg == "--key-file") {
      ++i;  // a global flag's value
      continue;
    }
    if (arg.starts_with("-")) continue;
    auto match =
        current->get_subcommands([&](CLI::App* s) { return s->check_name(std::string(arg)); });
    if (current->get_subcommands([](CLI::App*) { return true; }).empty()) return "";
    path += (path.empty() ? "" : " ") + std::string(arg);
    if (match.empty()) return path;
    current = match.front();
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  granary::InitProcess();
  using namespace granary::tools;
  CLI::App app{"granary: store and fetch model weights and datasets on a Granary cluster"};
  app.name("granary");
  app.fallthrough();  // global flags are accepted after the subcommand too
  app.require_subcommand(1);
  CommandContext ctx;
  app.add_option("--meta", ctx.global().meta,
                 "metadata server HOST:PORT (default: $GRANARY_META, else ./granary-dev)");
  app.add_option("--key-file", ctx.global().key_file,
                 "cluster key file (default: $GRANARY_KEY_FILE, else the dev cluster's)");
  app.add_option("--log-level", ctx.global().log_level, "client library log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_flag("--json", ctx.global().json,
               "JSON output (df, du, cluster status, node ls|status, quota, warm)");
  for (auto reg :
       {RegisterPut, RegisterGet, RegisterCat, RegisterMigrate, RegisterLs, RegisterStat, RegisterMkdir, RegisterMv,
        RegisterRm, RegisterSetattr, RegisterDf, RegisterCluster, RegisterDev, RegisterMount, RegisterLoad, RegisterWarm, RegisterFsck,
        RegisterNode, RegisterTrash, RegisterDu, RegisterQuota, RegisterKey, RegisterBackup,
        RegisterRestore}) {
    reg(app, ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (std::string unknown = UnknownCommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "granary: unknown command '%s'; see granary --help\n", unknown.c_str());
      return 2;
    }
    int code = app.exit(e);  // prints help or the usage error
    return code == 0 ? 0 : 2;
  }
  if (!ctx.selected()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  try {
    (void)granary::InitLogging("granary", ctx.global().log_level);
    granary::Status s = ctx.Run();
    if (!s.ok()) {
      std::fprintf(stderr, "granary: %s: %s\n", ctx.name().c_str(), s.ToString().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "granary: %s: INTERNAL: %s\n", ctx.name().c_str(), e.what());
    return 1;
  }
  return 0;
}
