#include "fuse/mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "common/log.h"
#include "fuse/granary_fs.h"

namespace granary::fuse {
namespace {

Status CheckDevice() {
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Status::Unavailable(std::string("cannot open /dev/fuse: ") + std::strerror(errno) +
                               " (is the fuse module loaded, and is /dev/fuse available in "
                               "this container?)");
  }
  ::close(fd);
  return Status::Ok();
}

Status CheckMountpoint(const std::string& path) {
  struct stat st, parent;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("mount point " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status::NotDirectory("mount point " + path + " is not a folder");
  std::string up = path + "/..";
  if (::stat(up.c_str(), &parent) == 0 && parent.st_dev != st.st_dev && path != "/") {
    return Status::FromCode(proto::ALREADY_EXISTS,
                            "mount point " + path + " is busy: something is mounted there "
                            "(unmount it with fusermount3 -u " + path + ")");
  }
  return Status::Ok();
}

// The mount options libfuse passes to the kernel.
std::string KernelOptions(const MountOptions& o) {
  std::string s = "default_permissions,fsname=" + o.fsname + ",subtype=granary";
  if (o.allow_other) s += ",allow_other";
  if (o.read_only) s += ",ro";
  return s;
}

// The kernel sizes FUSE read requests by the mount's read-ahead window, which
// starts at 128 KiB; 1 MiB requests and a deeper window let sequential reads
// reach the client's parallel fetches. Found through /proc/self/mountinfo
// (a stat of the mount point would need the loop that is not running yet).
void SetReadAhead(const std::string& mountpoint, uint32_t kb) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point != mountpoint) continue;
    std::ofstream ra("/sys/class/bdi/" + dev + "/read_ahead_kb");
    ra << kb;
    ra.flush();
    if (!ra) LOG_WARN("cannot set read_ahead_kb of {} (bdi {})", mountpoint, dev);
    return;
  }
  LOG_WARN("{} not found in /proc/self/mountinfo; read-ahead left as is", mountpoint);
}

// Mounts and serves in this process; `ready` (when >= 0) gets one line, "OK"
// or the error, once the mount is up or has failed.
Status Serve(const MountOptions& o, int ready) {
  auto report = [&](const std::string& line) {
    if (ready < 0) return;
    std::string l = line + "\n";
    (void)!::write(ready, l.data(), l.size());
    ::close(ready);
    ready = -1;
  };
  ClientOptions copts;
  copts.meta_address = o.meta_address;
  copts.key_file = o.key_file;
  auto client = Client::Connect(copts);
  if (!client.ok()) {
    report(client.status().ToString());
    return client.status();
  }
  auto fs = std::make_unique<GranaryFs>(std::move(*client), o);
  std::string kopts = KernelOptions(o);
  std::vector<std::string> argv_s = {"granary-fuse", "-o", kopts};
  if (o.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_session* se = fuse_session_new(&args, &GranaryFs::Ops(), sizeof(fuse_lowlevel_ops), fs.get());
  if (se == nullptr) {
    Status st = Status::Internal("libfuse refused the session options: " + kopts);
    report(st.ToString());
    return st;
  }
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, o.mountpoint.c_str()) != 0) {
    fuse_session_destroy(se);
    Status st = Status::Unavailable("mounting at " + o.mountpoint +
                                    " failed (see the messages above or the log)");
    report(st.ToString());
    return st;
  }
  if (o.read_ahead_kb > 0) SetReadAhead(o.mountpoint, o.read_ahead_kb);
  report("OK");
  LOG_INFO("mounted {} from {}", o.mountpoint, o.meta_address);
  fs->StartKeepAlive();
  fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, o.max_threads);
  fuse_loop_cfg_set_clone_fd(cfg, 1);
  int rc = fuse_session_loop_mt(se, cfg);
  fuse_loop_cfg_destroy(cfg);
  // Unmounted, or a signal: publish everything still open before going.
  fs->CloseAll();
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  LOG_INFO("unmounted {}", o.mountpoint);
  return rc == 0 ? Status::Ok() : Status::IoError("FUSE loop ended with " + std::to_string(rc));
}

}  // namespace

Status RunMount(const MountOptions& options) {
  RETURN_IF_ERROR(CheckDevice());
  RETURN_IF_ERROR(CheckMountpoint(options.mountpoint));
  // The daemon leaves the current folder: keep an absolute mount point.
  MountOptions o = options;
  if (char* abs = ::realpath(options.mountpoint.c_str(), nullptr)) {
    o.mountpoint = abs;
    std::free(abs);
  }
  if (o.foreground) {
    RETURN_IF_ERROR(InitLogging("granary-fuse", o.log_level));
    return Serve(o, -1);
  }
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Status::IoError(std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(pipefd[0]);
    ::setsid();
    std::string log = o.log_file.empty()
                          ? "/tmp/granary-fuse-" + std::to_string(::getpid()) + ".log"
                          : o.log_file;
    int devnull = ::open("/dev/null", O_RDWR);
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (logfd >= 0) {
      ::dup2(logfd, 1);
      ::dup2(logfd, 2);
    }
    (void)InitLogging("granary-fuse", o.log_level);
    (void)!::chdir("/");
    Status st = Serve(o, pipefd[1]);
    if (!st.ok()) LOG_ERROR("{}", st.ToString());
    std::fflush(nullptr);
    ::_exit(st.ok() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string line;
  char c;
  while (::read(pipefd[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(pipefd[0]);
  if (line == "OK") {
    std::string log = o.log_file.empty() ? "/tmp/granary-fuse-" + std::to_string(pid) + ".log"
                                         : o.log_file;
    std::printf("mounted %s (granary-fuse pid %d, log %s)\n", o.mountpoint.c_str(), pid,
                log.c_str());
    return Status::Ok();
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (line.empty()) line = "granary-fuse exited before mounting";
  return Status::Unavailable(line);
}

}  // namespace granary::fuse
