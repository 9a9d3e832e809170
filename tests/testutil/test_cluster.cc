#include "tests/testutil/test_cluster.h"

#include "common/codec/chunk_format.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tools/dev/dev_cluster.h"
#include "tools/dev/process.h"

#ifndef GRANARY_BIN_DIR
#error "GRANARY_BIN_DIR must name the build's bin folder"
#endif

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

}  // namespace

TestCluster::TestCluster(TestClusterOptions options) : options_(std::move(options)) {
  // GRANARY_BIN_DIR in the environment: binaries copied elsewhere (a GPU
  // machine gets this build's binaries, not its folder; bench/gpu_session.sh).
  const char* env_bin = std::getenv("GRANARY_BIN_DIR");
  if (options_.bin_dir.empty() && env_bin && *env_bin) options_.bin_dir = env_bin;
  if (options_.bin_dir.empty()) options_.bin_dir = GRANARY_BIN_DIR;
}

Result<std::unique_ptr<TestCluster>> TestCluster::Start(TestClusterOptions options) {
  std::unique_ptr<TestCluster> c(new TestCluster(std::move(options)));
  Status s = c->Init();
  if (!s.ok()) return Status(s.code(), s.message() + "\n" + c->LogTails(), s.retryable());
  return c;
}

Status TestCluster::Init() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/granary-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return Status::IoError("mkdtemp " + templ);
  dir_ = templ;
  if (!options_.metad_config_toml.empty()) {
    RETURN_IF_ERROR(WriteFile(dir_ + "/metad.toml", options_.metad_config_toml));
  }
  if (!options_.chunkd_config_toml.empty()) {
    RETURN_IF_ERROR(WriteFile(dir_ + "/chunkd.toml", options_.chunkd_config_toml));
  }
  metad_.name = "metad";
  metad_.binary = options_.bin_dir + "/granary-metad";
  metad_.dir = dir_ + "/metad";
  RETURN_IF_ERROR(Launch(metad_));
  RETURN_IF_ERROR(WaitListening(metad_));
  metad_.listen = metad_.address;  // restarts keep the address chunk servers know
  int n = options_.chunkservers;
  options_.chunkservers = 0;  // AddChunkd counts up
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(int index, AddChunkd());
    (void)index;
  }
  return WaitForAllUp();
}

TestCluster::~TestCluster() {
  if (::testing::Test::HasFailure()) std::fprintf(stderr, "%s\n", LogTails().c_str());
  for (Daemon* d : {&metad_}) (void)Signal(*d, SIGKILL);
  for (Daemon& d : chunkds_) (void)Signal(d, SIGKILL);
  const char* keep = std::getenv("GRANARY_KEEP_TEST_DIRS");
  if (dir_.empty()) return;
  if (keep && *keep && std::string(keep) != "0") {
    std::fprintf(stderr, "TestCluster: kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string TestCluster::chunkd_data_dir(int i, int disk) const {
  return chunkds_.at(i).dir + "/data" + std::to_string(disk);
}

std::string TestCluster::ReplicaPath(int i, uint64_t chunk_id, uint64_t version, int disk) const {
  const codec::ChunkKey key{chunk_id, version};
  return chunkd_data_dir(i, disk) + "/chunks/" + codec::ChunkSubdirName(chunk_id) + "/" +
         codec::ChunkFileName(key);
}

Status FlipByte(const std::string& path, uint64_t offset, uint8_t mask) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  char c = 0;
  if (!f.seekg(static_cast<std::streamoff>(offset)) || !f.get(c)) {
    return Status::IoError("cannot read byte " + std::to_string(offset) + " of " + path);
  }
  c = static_cast<char>(c ^ mask);
  if (!f.seekp(static_cast<std::streamoff>(offset)) || !f.put(c) || !f.flush()) {
    return Status::IoError("cannot write byte " + std::to_string(offset) + " of " + path);
  }
  return Status::Ok();
}

std::string TestCluster::metad_data_dir() const { return metad_.dir + "/data"; }

bool TestCluster::chunkd_running(int i) const {
  const Daemon& d = chunkds_.at(i);
  return d.pid > 0 && dev::ProcessMatches(d.pid, d.binary);
}

std::vector<std::string> TestCluster::Args(const Daemon& d) const {
  std::vector<std::string> a = {d.binary,       "--listen",      d.listen,
                                "--port-file",  d.dir + "/port", "--log-file",
                                d.dir + "/log", "--log-level",   options_.log_level};
  bool chunkd = &d != &metad_;
  if (!chunkd) {
    a.insert(a.end(), {"--data-dir", metad_data_dir()});
  } else {
    a.insert(a.end(), {"--meta", metad_.address, "--failure-domain", d.failure_domain});
    for (int k = 0; k < options_.disks_per_chunkserver; ++k) {
      a.insert(a.end(), {"--data-dir", d.dir + "/data" + std::to_string(k)});
    }
  }
  if (!options_.key_file.empty()) a.insert(a.end(), {"--cluster-key-file", options_.key_file});
  std::string config = dir_ + (chunkd ? "/chunkd.toml" : "/metad.toml");
  if (fs::exists(config)) a.insert(a.end(), {"--config", config});
  return a;
}

Status TestCluster::Launch(Daemon& d) {
  std::error_code ec;
  fs::create_directories(d.dir, ec);
  for (int k = 0; k < std::max(1, options_.disks_per_chunkserver); ++k) {
    fs::create_directories(d.dir + "/data" + (&d == &metad_ ? "" : std::to_string(k)), ec);
  }
  fs::remove(d.dir + "/port", ec);
  dev::SpawnOptions spawn;
  spawn.argv = Args(d);
  spawn.output_file = d.dir + "/stdio";
  spawn.die_with_parent = true;
  ASSIGN_OR_RETURN(d.pid, dev::SpawnProcess(spawn));
  return Status::Ok();
}

Status TestCluster::WaitListening(Daemon& d) {
  auto deadline = Clock::now() + options_.ready_timeout;
  while (true) {
    auto addr = dev::ReadPortFile(d.dir + "/port");
    if (addr.ok()) {
      d.address = *addr;
      return Status::Ok();
    }
    if (!dev::ProcessAlive(d.pid)) return Status::Unavailable(d.name + " exited during startup");
    if (Clock::now() >= deadline) {
      return Status::Timeout(d.name + " wrote no port file in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status TestCluster::Signal(Daemon& d, int signal) {
  if (d.pid <= 0) return Status::NotFound(d.name + " is not running");
  RETURN_IF_ERROR(dev::SignalProcess(d.pid, d.binary, signal));
  if (signal == SIGSTOP || signal == SIGCONT) return Status::Ok();
  Status s = dev::WaitForExit(d.pid, std::chrono::seconds(signal == SIGKILL ? 5 : 15));
  if (s.ok()) d.pid = 0;
  return s;
}

Status TestCluster::KillChunkd(int i, int signal) { return Signal(chunkds_.at(i), signal); }

Status TestCluster::KillMetad(int signal) { return Signal(metad_, signal); }

Status TestCluster::RestartChunkd(int i) {
  Daemon& d = chunkds_.at(i);
  if (chunkd_running(i)) return Status::AlreadyExists(d.name + " is still running");
  RETURN_IF_ERROR(Launch(d));
  RETURN_IF_ERROR(WaitListening(d));
  return WaitForNodeState(i, true, options_.ready_timeout);
}

Status TestCluster::RestartMetad() {
  if (metad_.pid > 0 && dev::ProcessMatches(metad_.pid, metad_.binary)) {
    return Status::AlreadyExists("metad is still running");
  }
  RETURN_IF_ERROR(Launch(metad_));
  return WaitListening(metad_);
}

Result<int> TestCluster::AddChunkd() {
  int i = static_cast<int>(chunkds_.size());
  Daemon d;
  d.name = "chunkd-" + std::to_string(i);
  d.binary = options_.bin_dir + "/granary-chunkd";
  d.dir = dir_ + "/" + d.name;
  d.failure_domain = i < static_cast<int>(options_.failure_domains.size())
                         ? options_.failure_domains[i]
                         : "domain-" + std::to_string(i);
  chunkds_.push_back(d);
  options_.chunkservers = static_cast<int>(chunkds_.size());
  Daemon& added = chunkds_.back();
  RETURN_IF_ERROR(Launch(added));
  RETURN_IF_ERROR(WaitListening(added));
  added.listen = added.address;
  return i;
}

Status TestCluster::WaitForAllUp() {
  ASSIGN_OR_RETURN(auto client, Connect());
  std::vector<std::string> addresses;
  for (int i = 0; i < num_chunkservers(); ++i) {
    if (chunkd_running(i)) addresses.push_back(chunkds_[i].address);
  }
  return dev::WaitForNodesUp(*client, addresses, Clock::now() + options_.ready_timeout,
                             [this]() -> Status {
                               if (!dev::ProcessAlive(metad_.pid)) {
                                 return Status::Unavailable("metad exited");
                               }
                               return Status::Ok();
                             });
}

Status TestCluster::WaitForNodeState(int i, bool up, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(auto client, Connect());
  const std::string& address = chunkds_.at(i).address;
  auto deadline = Clock::now() + timeout;
  Status last = Status::NotFound(address + " not listed");
  while (true) {
    auto nodes = client->ListNodes();
    if (nodes.ok()) {
      for (const NodeStatus& n : *nodes) {
        if (n.address == address && n.up == up) return Status::Ok();
        if (n.address == address)
          last = Status::Unavailable(address + " is " + (n.up ? "up" : "down"));
      }
    } else {
      last = nodes.status();
    }
    if (Clock::now() >= deadline)
      return Status::Timeout("waiting for " + address + ": " + last.ToString());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<std::unique_ptr<Client>> TestCluster::Connect(ClientOptions options) const {
  options.meta_address = metad_.address;
  if (options.key_file.empty()) options.key_file = options_.key_file;
  return Client::Connect(std::move(options));
}

std::string TestCluster::LogTails(size_t lines) const {
  std::string out;
  std::vector<const Daemon*> all = {&metad_};
  for (const Daemon& d : chunkds_) all.push_back(&d);
  for (const Daemon* d : all) {
    for (const char* file : {"/log", "/stdio"}) {
      std::string tail = dev::TailFile(d->dir + file, lines);
      if (!tail.empty()) out += "--- " + d->name + file + ":\n" + tail + "\n";
    }
  }
  return out;
}

}  // namespace granary::testutil
