#pragma once
// TestCluster: a real Granary cluster for integration tests. It runs the
// granary-metad and granary-chunkd binaries of this build (GRANARY_BIN_DIR)
// as child processes on 127.0.0.1, each listening on a port the kernel picks
// (--listen 127.0.0.1:0 --port-file), with all data and logs in a fresh
// temporary folder.
//
//   ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start());  // 3 chunk servers
//   ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
//   ASSERT_OK(cluster->KillChunkd(1));      // kill -9
//   ASSERT_OK(cluster->RestartChunkd(1));   // same port, same data, waits until up
//
// Lifetime: the destructor SIGKILLs every process it started (by pid) and
// removes the folder. If the test failed, it first prints the tail of every
// daemon log; set GRANARY_KEEP_TEST_DIRS=1 to keep the folder. Children also
// get SIGKILL if the test process dies (PR_SET_PDEATHSIG), so start the
// cluster from the test's own thread.
//
// Not thread-safe: drive one TestCluster from one thread.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "granary/client.h"

namespace granary::testutil {

// Members without a natural default are value-initialized ({}) so callers can
// write designated initializers ({.chunkservers = 5}) without warnings.
struct TestClusterOptions {
  int chunkservers = 3;
  // --data-dir folders per chunk server (disks).
  int disks_per_chunkserver = 1;
  // Failure domain of chunk server i; when shorter, "domain-<i>" (all distinct).
  std::vector<std::string> failure_domains{};
  std::string log_level = "info";
  // When not empty, written to a file passed as --config to the daemon.
  std::string metad_config_toml{};
  std::string chunkd_config_toml{};
  // Bound on each wait for readiness (start, restart).
  std::chrono::milliseconds ready_timeout{20000};
  // Where the daemon binaries are; empty = GRANARY_BIN_DIR of this build.
  std::string bin_dir{};
  // Cluster key file given to every daemon (--cluster-key-file) and, unless
  // the caller names another, to the clients of Connect(). Empty: no key.
  std::string key_file{};
};

class TestCluster {
 public:
  // Starts metad, then the chunk servers, and waits until every chunk server
  // is listed as up by ListNodes. On failure the error carries log tails.
  static Result<std::unique_ptr<TestCluster>> Start(TestClusterOptions options = {});
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  const std::string& meta_address() const { return metad_.address; }
  const std::string& dir() const { return dir_; }
  int num_chunkservers() const { return static_cast<int>(chunkds_.size()); }

  // A client of this cluster; options.meta_address is filled in, and
  // options.key_file when empty (TestClusterOptions::key_file).
  Result<std::unique_ptr<Client>> Connect(ClientOptions options = {}) const;

  // Process facts. Chunk servers are numbered 0 .. num_chunkservers()-1.
  pid_t metad_pid() const { return metad_.pid; }
  pid_t chunkd_pid(int i) const { return chunkds_.at(i).pid; }
  const std::string& chunkd_address(int i) const { return chunkds_.at(i).address; }
  std::string chunkd_data_dir(int i, int disk = 0) const;
  // Where chunk server i keeps replica `chunk_id` v`version` in data folder
  // `disk` (storage/FORMAT.md); the file need not exist.
  std::string ReplicaPath(int i, uint64_t chunk_id, uint64_t version, int disk = 0) const;
  std::string metad_data_dir() const;
  std::string metad_log() const { return metad_.dir + "/log"; }
  std::string chunkd_log(int i) const { return chunkds_.at(i).dir + "/log"; }
  bool chunkd_running(int i) const;

  // Sends `signal` (SIGKILL, SIGTERM, SIGSTOP...) and, unless it is SIGSTOP or SIGCONT,
  // waits until the process is gone.
  Status KillChunkd(int i, int signal = 9);
  Status KillMetad(int signal = 9);
  // Starts a stopped process again on its previous port and data folders and
  // waits until it is ready (a chunk server: listed as up again).
  Status RestartChunkd(int i);
  Status RestartMetad();
  // Starts one more chunk server; returns its index.
  Result<int> AddChunkd();

  // Waits until every running chunk server is listed as up.
  Status WaitForAllUp();
  // Waits until chunk server i is listed with up == `up` (metad's heartbeat
  // timeout decides how long "down" takes).
  Status WaitForNodeState(int i, bool up, std::chrono::milliseconds timeout);

  // The last `lines` lines of every daemon's log and stdio, for messages.
  std::string LogTails(size_t lines = 30) const;

 private:
  struct Daemon {
    std::string name;  // "metad", "chunkd-0"
    std::string binary;
    std::string dir;
    std::string listen = "127.0.0.1:0";  // pinned to the first port on restart
    std::string address;
    std::string failure_domain;
    pid_t pid = 0;
  };

  explicit TestCluster(TestClusterOptions options);
  Status Init();
  std::vector<std::string> Args(const Daemon& d) const;
  Status Launch(Daemon& d);
  Status WaitListening(Daemon& d);
  Status Signal(Daemon& d, int signal);

  TestClusterOptions options_;
  std::string dir_;
  Daemon metad_;
  std::vector<Daemon> chunkds_;
};

// XORs the byte at `offset` of the file at `path` with `mask`: damage to a
// stored replica for fault tests.
Status FlipByte(const std::string& path, uint64_t offset, uint8_t mask);

}  // namespace granary::testutil
