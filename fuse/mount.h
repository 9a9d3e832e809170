#pragma once
// Mounting: checks, detaching, the FUSE session and its clean end.
#include "common/status.h"
#include "fuse/mount_options.h"

namespace granary::fuse {

// Mounts Granary at options.mountpoint and serves it until it is unmounted
// (fusermount3 -u, umount) or the process gets SIGTERM/SIGINT/SIGHUP; then
// every open file is flushed and closed. Detached (not options.foreground):
// returns in the parent once the mount is up (or failed), printing the
// daemon's pid and log file; the daemon itself exits when the mount ends.
// Errors name the cause: no /dev/fuse, a missing or busy mount point, an
// unreachable cluster.
Status RunMount(const MountOptions& options);

}  // namespace granary::fuse
