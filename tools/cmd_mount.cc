// granary mount MOUNTPOINT [-f] [-o OPTIONS]: runs granary-fuse (installed
// next to granary) against the cluster this command finds.
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "tools/command.h"

namespace granary::tools {
namespace {

struct MountArgs {
  std::string mountpoint;
  bool foreground = false;
  std::vector<std::string> options;
};

// The folder holding the running executable.
std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

Status RunMountCommand(const GlobalOptions& global, const MountArgs& a) {
  ASSIGN_OR_RETURN(std::string meta, ResolveMetaAddress(global));
  std::string exe = SelfDir() + "/granary-fuse";
  if (::access(exe.c_str(), X_OK) != 0) {
    return Status::NotFound(exe + " is missing: build the granary-fuse target");
  }
  std::vector<std::string> args = {exe, "--meta", meta, a.mountpoint};
  if (std::string key = ResolveKeyFile(global); !key.empty()) {
    args.push_back("--key-file");
    args.push_back(key);
  }
  if (a.foreground) args.push_back("-f");
  for (const auto& o : a.options) {
    args.push_back("-o");
    args.push_back(o);
  }
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(exe.c_str(), argv.data());
  return Status::IoError("cannot run " + exe + ": " + std::strerror(errno));
}

Status RunUmount(const std::string& mountpoint) {
  std::fflush(nullptr);
  const char* argv[] = {"fusermount3", "-u", mountpoint.c_str(), nullptr};
  ::execvp("fusermount3", const_cast<char**>(argv));
  return Status::IoError(std::string("cannot run fusermount3: ") + std::strerror(errno));
}

}  // namespace

void RegisterMount(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<MountArgs>();
  auto* cmd = app.add_subcommand("mount", "mount the cluster as a POSIX file system (FUSE)");
  cmd->add_option("mountpoint", args->mountpoint, "an existing, empty folder")->required();
  cmd->add_flag("-f,--foreground", args->foreground, "stay attached and log to stderr");
  cmd->add_option("-o", args->options,
                  "mount options (comma-separated): ro, allow_other, noallow_other, "
                  "attr_timeout=S, entry_timeout=S, negative_timeout=S, max_threads=N, "
                  "log=PATH, log_level=L, fsname=NAME, debug");
  cmd->callback([&ctx, args] {
    ctx.Select("mount", [&ctx, args] { return RunMountCommand(ctx.global(), *args); });
  });

  auto mp = std::make_shared<std::string>();
  auto* um = app.add_subcommand("umount", "unmount a Granary mount (fusermount3 -u)");
  um->add_option("mountpoint", *mp, "the mount point")->required();
  um->callback([&ctx, mp] { ctx.Select("umount", [mp] { return RunUmount(*mp); }); });
}

}  // namespace granary::tools
