#include "tests/fuse/mount_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace granary::testutil {
namespace {

bool IsMounted(const std::string& path) {
  struct stat a, b;
  if (::stat(path.c_str(), &a) != 0) return false;
  if (::stat((path + "/..").c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev;
}

bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Mount>> Mount::Start(const std::string& meta_address,
                                            const std::string& parent_dir,
                                            std::vector<std::string> options) {
  auto m = std::make_unique<Mount>();
  static int counter = 0;
  m->path_ = parent_dir + "/mnt" + std::to_string(counter++);
  m->log_ = m->path_ + ".log";
  ::mkdir(m->path_.c_str(), 0755);
  // Permission tests run as another user, who must reach the mount point.
  ::chmod(parent_dir.c_str(), 0755);
  std::vector<std::string> args = {std::string(GRANARY_BIN_DIR) + "/granary-fuse", "--meta",
                                   meta_address, m->path_, "-f"};
  for (auto& o : options) {
    args.push_back("-o");
    args.push_back(o);
  }
  pid_t pid = ::fork();
  if (pid < 0) return Status::IoError("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(m->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  m->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!IsMounted(m->path_)) {
    int st;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      m->pid_ = 0;
      return Status::Unavailable("granary-fuse exited before mounting: " + m->LogTail());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Timeout("granary-fuse did not mount within 20 s: " + m->LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return m;
}

Status Mount::Unmount() {
  if (pid_ == 0) return Status::Ok();
  CommandResult r = Sh("fusermount3 -u '" + path_ + "'", std::chrono::milliseconds(30000));
  if (r.exit_code != 0) return Status::IoError("fusermount3 -u failed: " + r.err);
  if (!WaitExit(pid_, std::chrono::seconds(30))) {
    return Status::Timeout("granary-fuse still running 30 s after unmount");
  }
  pid_ = 0;
  return Status::Ok();
}

void Mount::Crash() {
  if (pid_ == 0) return;
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, std::chrono::seconds(10));
  pid_ = 0;
  Sh("fusermount3 -uz '" + path_ + "' 2>/dev/null", std::chrono::milliseconds(10000));
}

void Mount::Exited() {
  pid_ = 0;
  Sh("fusermount3 -uz '" + path_ + "' 2>/dev/null", std::chrono::milliseconds(10000));
}

Mount::~Mount() {
  if (pid_ != 0 && !Unmount().ok()) Crash();
  ::rmdir(path_.c_str());
}

std::string Mount::LogTail() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

CommandResult Sh(const std::string& script, std::chrono::milliseconds timeout) {
  Command c;
  c.argv = {"/bin/sh", "-c", script};
  c.timeout = timeout;
  auto r = RunCommand(c);
  if (!r.ok()) {
    CommandResult bad;
    bad.err = r.status().ToString();
    return bad;
  }
  return *r;
}

}  // namespace granary::testutil
