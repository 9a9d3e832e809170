#include "tests/testutil/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace granary::testutil {
namespace {

// An unlinked temporary file: only the descriptor remains.
int AnonymousFile() {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/granary-cmd-XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) unlink(path.c_str());
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::vector<std::string> BuildEnv(const Command& c) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view name = kv.substr(0, kv.find('='));
    bool drop = false;
    for (const auto& u : c.unset_env) drop |= name == u;
    for (const auto& s : c.set_env) drop |= name == std::string_view(s).substr(0, s.find('='));
    if (!drop) env.emplace_back(kv);
  }
  env.insert(env.end(), c.set_env.begin(), c.set_env.end());
  return env;
}

}  // namespace

Result<CommandResult> RunCommand(const Command& c) {
  if (c.argv.empty()) return Status::InvalidArgument("RunCommand: empty argv");
  std::vector<std::string> env = BuildEnv(c);
  std::vector<char*> argv, envp;
  for (const auto& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int in = AnonymousFile(), out = AnonymousFile(), err = AnonymousFile();
  if (in < 0 || out < 0 || err < 0) return Status::IoError("RunCommand: temporary files");
  if (!c.stdin_data.empty() && write(in, c.stdin_data.data(), c.stdin_data.size()) !=
                                   static_cast<ssize_t>(c.stdin_data.size())) {
    return Status::IoError("RunCommand: writing stdin");
  }
  lseek(in, 0, SEEK_SET);
  pid_t pid = fork();
  if (pid == 0) {
    if (!c.cwd.empty() && chdir(c.cwd.c_str()) != 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in);
  if (pid < 0) {
    close(out);
    close(err);
    return Status::IoError(std::string("fork: ") + std::strerror(errno));
  }
  CommandResult r;
  auto deadline = std::chrono::steady_clock::now() + c.timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  close(out);
  close(err);
  if (r.exit_code == 127 && r.out.empty() && r.err.empty()) {
    return Status::NotFound("RunCommand: cannot execute " + c.argv[0]);
  }
  return r;
}

}  // namespace granary::testutil
