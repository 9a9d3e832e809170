#pragma once
// MountedCluster: a real cluster (TestCluster) mounted with this build's
// granary-fuse at a fresh folder, for tests that use real tools on a real
// FUSE mount. The mount runs in the foreground as a child process (its pid is
// kept); teardown unmounts with fusermount3 -u, waits for the process, and
// kills it by pid (then detaches the mount) if it does not end.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {

class Mount {
 public:
  // Mounts `meta_address` at a new folder under `parent_dir`.
  static Result<std::unique_ptr<Mount>> Start(const std::string& meta_address,
                                              const std::string& parent_dir,
                                              std::vector<std::string> options = {});
  ~Mount();
  const std::string& path() const { return path_; }
  pid_t pid() const { return pid_; }
  // kill -9 of the mount process, then a lazy unmount of what is left.
  void Crash();
  // The test reaped the process itself: detach what is left of the mount.
  void Exited();
  Status Unmount();
  std::string LogTail() const;

 private:
  std::string path_;
  std::string log_;
  pid_t pid_ = 0;
};

// Runs `script` with /bin/sh -c in `cwd`; returns what it printed, and the
// exit code in *code.
CommandResult Sh(const std::string& script, std::chrono::milliseconds timeout =
                                                std::chrono::milliseconds(180000));

}  // namespace granary::testutil
