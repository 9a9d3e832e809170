// `granary dev up`: start the missing daemons and wait until they serve.
#include "tools/dev/dev_cluster.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "tools/dev/process.h"

namespace granary::dev {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool Running(const DaemonRecord& d) { return d.pid > 0 && ProcessMatches(d.pid, d.binary); }

Status DiedError(const DaemonRecord& d) {
  std::string msg = fs::path(d.binary).filename().string() + " (" + d.name + ", pid " +
                    std::to_string(d.pid) + ") exited during startup";
  for (const std::string& f : {d.log_file(), d.stdio_file()}) {
    std::string tail = TailFile(f, 20);
    if (!tail.empty()) msg += "\n--- last lines of " + f + ":\n" + tail;
  }
  return Status::Unavailable(msg);
}

Status StartDaemon(DaemonRecord& d, std::vector<std::string> args) {
  std::error_code ec;
  fs::create_directories(d.data_dir(), ec);
  if (ec) return Status::IoError("mkdir " + d.data_dir() + ": " + ec.message());
  fs::remove(d.port_file(), ec);  // a stale port file would look ready
  std::vector<std::string> argv = {d.binary};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(
      d.pid, SpawnProcess({.argv = argv, .output_file = d.stdio_file(), .new_session = true}));
  d.address.clear();
  d.metrics_address.clear();
  return Status::Ok();
}

Status WaitForPort(DaemonRecord& d, Clock::time_point deadline) {
  while (true) {
    auto addr = ReadPortFile(d.port_file());
    if (addr.ok()) {
      d.address = *addr;
      // Written in the same rename as the address: present now or never.
      auto metrics = ReadMetricsAddress(d.port_file());
      d.metrics_address = metrics.ok() ? *metrics : "";
      return Status::Ok();
    }
    if (!ProcessAlive(d.pid)) return DiedError(d);
    if (Clock::now() >= deadline) {
      return Status::Timeout(d.name + " did not write " + d.port_file() + " in time; see " +
                             d.log_file());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string AbsolutePath(const std::string& path) {
  return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

std::vector<std::string> CommonArgs(const DaemonRecord& d, const DevUpOptions& o,
                                    const std::string& config) {
  std::vector<std::string> a = {"--listen",    "127.0.0.1:0", "--data-dir", d.data_dir(),
                                "--port-file", d.port_file(), "--log-file", d.log_file(),
                                "--log-level", o.log_level};
  if (!config.empty()) a.insert(a.end(), {"--config", config});
  // Port 0: the daemon binds a free port and reports it in its port file.
  if (o.metrics) a.insert(a.end(), {"--metrics-address", "127.0.0.1:0"});
  if (!o.key_file.empty()) a.insert(a.end(), {"--cluster-key-file", AbsolutePath(o.key_file)});
  return a;
}

std::string AbsoluteConfig(const std::string& path) {
  return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

}  // namespace

Status WaitForNodesUp(Client& client, const std::vector<std::string>& chunk_addresses,
                      Clock::time_point deadline, const std::function<Status()>& check) {
  std::set<std::string> wanted(chunk_addresses.begin(), chunk_addresses.end());
  Status last = Status::Unavailable("no answer from metad yet");
  while (true) {
    if (check) RETURN_IF_ERROR(check());
    auto nodes = client.ListNodes();
    if (nodes.ok()) {
      size_t matched = 0, listed = 0, up = 0;
      for (const NodeStatus& n : *nodes) {
        bool ours = wanted.count(n.address) > 0;
        listed += ours;
        up += n.up;
        matched += ours && n.up;
      }
      if (matched == wanted.size() || (listed == 0 && up >= wanted.size())) return Status::Ok();
      last = Status::Unavailable(std::to_string(matched) + " of " + std::to_string(wanted.size()) +
                                 " chunk servers up");
    } else {
      last = nodes.status();
    }
    if (Clock::now() >= deadline) {
      return Status::Timeout("cluster not ready in time: " + last.ToString());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<DevUpResult> DevUp(const DevUpOptions& o, std::ostream& out) {
  if (o.chunkservers < 1) return Status::InvalidArgument("--chunkservers must be at least 1");
  const std::string dir = fs::absolute(o.dir).lexically_normal().string();
  const std::string state_path = ClusterStatePath(dir);
  const auto deadline = Clock::now() + o.timeout;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("mkdir " + dir + ": " + ec.message());

  ASSIGN_OR_RETURN(std::string metad_bin, FindDaemonBinary("granary-metad"));
  ASSIGN_OR_RETURN(std::string chunkd_bin, FindDaemonBinary("granary-chunkd"));

  DevUpResult result;
  ClusterState& st = result.state;
  auto previous = ReadClusterState(state_path);
  if (!previous.ok() && previous.status().code() != proto::NOT_FOUND) return previous.status();
  bool metad_running = previous.ok() && Running(previous->metad);
  if (previous.ok() && metad_running) {
    st = *previous;
  } else if (previous.ok()) {
    // Chunk servers of a dead metad point at a stale address: restart them.
    for (const DaemonRecord& c : previous->chunkds) {
      if (Running(c)) (void)StopProcess(c.pid, c.binary, std::chrono::seconds(5));
    }
  }
  std::vector<DaemonRecord*> started;
  auto stop_started = [&](Status why) -> Status {
    for (DaemonRecord* d : started) (void)StopProcess(d->pid, d->binary, std::chrono::seconds(3));
    for (DaemonRecord* d : started) d->pid = 0;
    (void)WriteClusterState(state_path, st);
    return why;
  };

  if (!metad_running) {
    st = ClusterState{};
    st.started_at = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    st.metad = DaemonRecord{};
    st.metad.name = "metad";
    st.metad.binary = metad_bin;
    st.metad.dir = dir + "/metad";
    st.key_file = AbsolutePath(o.key_file);
    RETURN_IF_ERROR(StartDaemon(st.metad, CommonArgs(st.metad, o, AbsoluteConfig(o.metad_config))));
    started.push_back(&st.metad);
    RETURN_IF_ERROR(WriteClusterState(state_path, st));
    out << "started granary-metad (pid " << st.metad.pid << ")\n";
    Status s = WaitForPort(st.metad, deadline);
    if (!s.ok()) return stop_started(s);
    st.meta_address = st.metad.address;
  }

  // Reserve first: `started` holds pointers into st.chunkds.
  st.chunkds.reserve(std::max<size_t>(st.chunkds.size(), o.chunkservers));
  for (int k = 1; k <= o.chunkservers; ++k) {
    std::string name = "chunkd-" + std::to_string(k);
    auto it = std::find_if(st.chunkds.begin(), st.chunkds.end(),
                           [&](const DaemonRecord& c) { return c.name == name; });
    if (it != st.chunkds.end() && Running(*it)) continue;
    if (it == st.chunkds.end()) it = st.chunkds.insert(st.chunkds.end(), DaemonRecord{});
    *it = DaemonRecord{};
    it->name = name;
    it->binary = chunkd_bin;
    it->dir = dir + "/" + name;
    it->failure_domain = o.failure_domains ? "domain-" + std::to_string(k) : "local";
    std::vector<std::string> args = CommonArgs(*it, o, AbsoluteConfig(o.chunkd_config));
    args.insert(args.end(), {"--meta", st.meta_address, "--failure-domain", it->failure_domain});
    Status s = StartDaemon(*it, args);
    if (!s.ok()) return stop_started(s);
    started.push_back(&*it);
    out << "started granary-chunkd " << name << " (pid " << it->pid << ")\n";
  }
  RETURN_IF_ERROR(WriteClusterState(state_path, st));
  for (DaemonRecord* d : started) {
    if (d == &st.metad) continue;
    Status s = WaitForPort(*d, deadline);
    if (!s.ok()) return stop_started(s);
  }
  RETURN_IF_ERROR(WriteClusterState(state_path, st));

  ClientOptions copts;
  copts.meta_address = st.meta_address;
  copts.key_file = st.key_file;
  copts.rpc_timeout = std::chrono::seconds(2);
  auto client = Client::Connect(copts);
  if (!client.ok()) return stop_started(client.status());
  std::vector<std::string> addresses;
  for (const DaemonRecord& c : st.chunkds) {
    if (!c.address.empty()) addresses.push_back(c.address);
  }
  Status ready = WaitForNodesUp(**client, addresses, deadline, [&]() -> Status {
    for (const DaemonRecord* d : started) {
      if (!ProcessAlive(d->pid)) return DiedError(*d);
    }
    return Status::Ok();
  });
  if (!ready.ok()) return stop_started(ready);
  result.started = static_cast<int>(started.size());
  result.already_running = started.empty();
  return result;
}

}  // namespace granary::dev
