// granary-fuse: mounts a Granary cluster as a POSIX file system.
//   granary-fuse --meta HOST:PORT MOUNTPOINT [-f] [-o OPTIONS]
// `granary mount` runs this with the cluster it finds.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <unistd.h>

#include "common/process.h"
#include "fuse/mount.h"

int main(int argc, char** argv) {
  granary::InitProcess();
  granary::fuse::MountOptions o;
  o.allow_other = ::getuid() == 0;
  std::vector<std::string> opts;
  CLI::App app{"granary-fuse: mount a Granary cluster"};
  app.add_option("--meta", o.meta_address, "metadata server HOST:PORT")->required();
  app.add_option("--key-file", o.key_file, "cluster key file (default: none)");
  app.add_option("mountpoint", o.mountpoint, "folder to mount on")->required();
  app.add_flag("-f,--foreground", o.foreground, "stay in the foreground, log to stderr");
  app.add_option("-o", opts,
                 "mount options: ro, rw, allow_other, noallow_other, attr_timeout=S, "
                 "entry_timeout=S, negative_timeout=S, max_threads=N, log=PATH, log_level=L, "
                 "fsname=NAME, debug");
  CLI11_PARSE(app, argc, argv);
  for (const auto& list : opts) {
    granary::Status st = granary::fuse::ParseMountOptions(list, &o);
    if (!st.ok()) {
      std::fprintf(stderr, "granary-fuse: %s\n", st.ToString().c_str());
      return 2;
    }
  }
  granary::Status st = granary::fuse::RunMount(o);
  if (!st.ok()) {
    std::fprintf(stderr, "granary-fuse: mount: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
