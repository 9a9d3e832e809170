// The operation table of a mount, and what happens at FUSE_INIT.
#include "common/log.h"
#include "fuse/ops.h"

namespace granary::fuse {
namespace {

void OpInit(void* userdata, fuse_conn_info* conn) {
  // 1 MiB requests (libfuse raises max_pages to match max_write).
  conn->max_write = 1 << 20;
  conn->max_readahead = 16 << 20;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  // open(O_TRUNC) arrives as one open instead of setattr + open.
  if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  // Locks are not implemented here, so the kernel keeps POSIX and flock
  // locks itself: advisory locking works between processes of this mount.
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  LOG_INFO("FUSE session up: protocol {}.{}, max_write {}", conn->proto_major, conn->proto_minor,
           conn->max_write);
}

void OpDestroy(void* userdata) { static_cast<GranaryFs*>(userdata)->CloseAll(); }

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.destroy = OpDestroy;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.readlink = OpReadlink;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.symlink = OpSymlink;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.releasedir = OpReleasedir;
  ops.fsyncdir = OpFsyncdir;
  ops.statfs = OpStatfs;
  ops.setxattr = OpSetxattr;
  ops.getxattr = OpGetxattr;
  ops.listxattr = OpListxattr;
  ops.removexattr = OpRemovexattr;
  ops.create = OpCreate;
  ops.readdirplus = OpReaddirplus;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& GranaryFs::Ops() {
  static const fuse_lowlevel_ops ops = MakeOps();
  return ops;
}

}  // namespace granary::fuse
