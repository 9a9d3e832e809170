// The granary-metad binary: port file, clean stop on SIGTERM, data kept across
// a clean stop and across kill -9, exit code 2 for bad flags.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/use_future.hpp>
#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

#include "common/net/rpc_client.h"
#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr net::Millis kTimeout{10000};

// Starts the binary with `args`, stdout/stderr to `log`. Returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    std::string bin = GRANARY_METAD_BIN;
    argv.push_back(bin.data());
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// The exit code, -signal when killed, or 1000 on timeout (then SIGKILLed).
int WaitExit(pid_t pid, std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return 1000;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MetadProcess : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (HasFailure()) std::cerr << "metad log:\n" << ReadAll(dir_.path() + "/log") << "\n";
  }
  // Starts metad and waits for its port file.
  std::string Start() {
    std::string port_file = dir_.path() + "/port";
    ::unlink(port_file.c_str());
    pid_ = Spawn({"--listen", "127.0.0.1:0", "--port-file", port_file, "--data-dir",
                  dir_.path() + "/data", "--log-level", "debug"},
                 dir_.path() + "/log");
    for (int i = 0; i < 1000; ++i) {
      std::string line = ReadAll(port_file);
      if (!line.empty()) {
        EXPECT_EQ(line.back(), '\n');
        return line.substr(0, line.size() - 1);
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ADD_FAILURE() << "metad exited early";
        return "";
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "no port file after 20 s";
    return "";
  }
  int Stop(int signo) {
    ::kill(pid_, signo);
    int code = WaitExit(pid_);
    pid_ = -1;
    return code;
  }
  template <class Resp, class Req>
  Result<Resp> Call(const std::string& address, proto::Method m, const Req& req) {
    asio::io_context io;
    auto f = asio::co_spawn(
        io,
        [&]() -> net::Awaitable<Result<Resp>> {
          auto conn = co_await net::RpcConnection::Connect(io.get_executor(), address, kTimeout);
          if (!conn.ok()) co_return conn.status();
          auto r = co_await net::Call<Resp>(**conn, m, req, kTimeout);
          (*conn)->Close();
          co_return r;
        },
        asio::use_future);
    io.run();
    return f.get();
  }
  Status Mkdir(const std::string& address, const std::string& name) {
    proto::MkdirRequest req;
    req.set_parent(kRootInode);
    req.set_name(name);
    return Call<proto::MkdirResponse>(address, proto::META_MKDIR, req).status();
  }
  Status Exists(const std::string& address, const std::string& path) {
    proto::ResolveRequest req;
    req.set_path(path);
    return Call<proto::ResolveResponse>(address, proto::META_RESOLVE, req).status();
  }

  TempDir dir_;
  pid_t pid_ = -1;
};

TEST_F(MetadProcess, CleanStopAndKillNineKeepAcknowledgedChanges) {
  std::string address = Start();
  ASSERT_FALSE(address.empty());
  EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  ASSERT_OK(Mkdir(address, "before-sigterm"));
  EXPECT_EQ(Stop(SIGTERM), 0);

  address = Start();
  ASSERT_FALSE(address.empty());
  EXPECT_OK(Exists(address, "/before-sigterm"));
  ASSERT_OK(Mkdir(address, "before-kill"));
  EXPECT_EQ(Stop(SIGKILL), -SIGKILL);

  address = Start();
  ASSERT_FALSE(address.empty());
  EXPECT_OK(Exists(address, "/before-sigterm"));
  EXPECT_OK(Exists(address, "/before-kill"));
  EXPECT_ERROR(Exists(address, "/never"), proto::NOT_FOUND);
  EXPECT_EQ(Stop(SIGINT), 0);
}

TEST_F(MetadProcess, BadFlagsExitTwo) {
  std::string log = dir_.path() + "/log";
  EXPECT_EQ(WaitExit(Spawn({"--data-dir", dir_.path(), "--default-replicas", "99"}, log)), 2);
  EXPECT_NE(ReadAll(log).find("default_replicas"), std::string::npos) << ReadAll(log);
  EXPECT_EQ(WaitExit(Spawn({"--listen", "127.0.0.1:0"}, log)), 2);  // no data dir
  EXPECT_NE(ReadAll(log).find("data_dir"), std::string::npos);
  EXPECT_EQ(WaitExit(Spawn({"--help"}, log)), 0);
}

TEST_F(MetadProcess, SecondInstanceOnTheSameDataDirFails) {
  std::string address = Start();
  ASSERT_FALSE(address.empty());
  std::string log2 = dir_.path() + "/log2";
  int code = WaitExit(Spawn({"--listen", "127.0.0.1:0", "--data-dir", dir_.path() + "/data"}, log2));
  EXPECT_EQ(code, 1) << ReadAll(log2);
  EXPECT_NE(ReadAll(log2).find("lock"), std::string::npos) << ReadAll(log2);
  EXPECT_OK(Exists(address, "/"));  // the first one is unharmed
}

}  // namespace
}  // namespace granary::metadata
