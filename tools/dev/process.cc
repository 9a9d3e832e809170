#include "tools/dev/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace granary::dev {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Whole small file, or nullopt-like empty string with ok=false.
bool ReadSmallFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Child side of SpawnProcess; only async-signal-safe calls.
[[noreturn]] void ExecChild(const SpawnOptions& o, char* const* argv, int devnull, int out_fd,
                            int err_pipe, pid_t parent) {
  if (o.die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // parent already gone
  }
  if (o.new_session) setsid();
  dup2(devnull, STDIN_FILENO);
  if (out_fd >= 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
  }
  // Descriptors the caller left inheritable (sockets, pipes) must not leak
  // into a daemon; the error pipe is already close-on-exec.
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execv(argv[0], argv);
  int err = errno;
  ssize_t ignored = write(err_pipe, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

}  // namespace

Result<pid_t> SpawnProcess(const SpawnOptions& o) {
  if (o.argv.empty()) return Status::InvalidArgument("SpawnProcess: empty argv");
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int out_fd = -1;
  if (!o.output_file.empty()) {
    out_fd = open(o.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) return Status::IoError("open " + o.output_file + ": " + ErrnoText(errno));
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipefd[2];
  if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
    int err = errno;
    if (out_fd >= 0) close(out_fd);
    if (devnull >= 0) close(devnull);
    return Status::IoError("spawn " + o.argv[0] + ": " + ErrnoText(err));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(o, argv.data(), devnull, out_fd, pipefd[1], parent);
  int fork_errno = errno;
  close(pipefd[1]);
  close(devnull);
  if (out_fd >= 0) close(out_fd);
  if (pid < 0) {
    close(pipefd[0]);
    return Status::IoError("fork: " + ErrnoText(fork_errno));
  }
  // The pipe closes on a successful exec; otherwise the child sends errno.
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(pipefd[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    waitpid(pid, nullptr, 0);
    return Status::IoError("exec " + o.argv[0] + ": " + ErrnoText(child_errno));
  }
  return pid;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status;
  if (waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie (exited, not yet reaped by an unrelated parent) still answers
  // kill(pid, 0). The state letter follows the last ')' in /proc/PID/stat.
  std::string stat;
  if (!ReadSmallFile("/proc/" + std::to_string(pid) + "/stat", &stat)) return false;
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

bool ProcessMatches(pid_t pid, std::string_view binary) {
  if (!ProcessAlive(pid)) return false;
  std::string cmdline;
  if (!ReadSmallFile("/proc/" + std::to_string(pid) + "/cmdline", &cmdline)) return false;
  std::string_view argv0(cmdline.c_str());  // up to the first NUL
  return argv0 == binary;
}

Status SignalProcess(pid_t pid, std::string_view binary, int signal) {
  if (!ProcessMatches(pid, binary)) {
    return Status::NotFound("no process " + std::to_string(pid) + " running " +
                            std::string(binary));
  }
  if (kill(pid, signal) != 0) {
    return Status::IoError("kill " + std::to_string(pid) + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessAlive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Timeout("process " + std::to_string(pid) + " still running after " +
                             std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

Status StopProcess(pid_t pid, std::string_view binary, std::chrono::milliseconds grace,
                   bool* killed) {
  if (killed) *killed = false;
  if (!SignalProcess(pid, binary, SIGTERM).ok()) return Status::Ok();  // already gone
  if (WaitForExit(pid, grace).ok()) return Status::Ok();
  if (killed) *killed = true;
  if (!SignalProcess(pid, binary, SIGKILL).ok()) return Status::Ok();
  return WaitForExit(pid, std::chrono::seconds(5));
}

Result<std::string> ReadPortFile(const std::string& path) {
  std::string text;
  if (!ReadSmallFile(path, &text)) return Status::Unavailable(path + " does not exist yet");
  size_t nl = text.find('\n');
  if (nl == std::string::npos) return Status::Unavailable(path + " is not complete yet");
  std::string line = text.substr(0, nl);
  if (line.find(':') == std::string::npos) {
    return Status::Corruption(path + ": expected host:port, got '" + line + "'");
  }
  return line;
}

Result<std::string> ReadMetricsAddress(const std::string& port_file) {
  std::string text;
  if (!ReadSmallFile(port_file, &text)) return Status::Unavailable(port_file + " does not exist yet");
  constexpr std::string_view kPrefix = "\nmetrics ";
  const size_t at = text.find(kPrefix);
  if (at == std::string::npos) return Status::NotFound(port_file + " names no metrics address");
  const size_t start = at + kPrefix.size();
  const size_t nl = text.find('\n', start);
  if (nl == std::string::npos) return Status::Unavailable(port_file + " is not complete yet");
  return text.substr(start, nl - start);
}

std::string TailFile(const std::string& path, size_t lines) {
  std::string text;
  if (!ReadSmallFile(path, &text)) return "";
  if (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (size_t seen = 0; seen < lines && pos > 0; ++seen) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0) ++pos;  // skip the newline itself
  return text.substr(pos);
}

Result<std::string> FindDaemonBinary(std::string_view name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::string beside;
  if (!ec) {
    beside = (self.parent_path() / name).string();
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view dirs = path_env ? path_env : "";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate, ec).string();
  }
  return Status::NotFound(std::string(name) + " not found next to this program (" +
                          (beside.empty() ? "?" : beside) + ") or on PATH; build it first");
}

}  // namespace granary::dev
