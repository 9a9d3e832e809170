// `granary dev down` and `granary dev status`.
#include <signal.h>

#include <filesystem>

#include "tools/dev/dev_cluster.h"
#include "common/metrics/http_server.h"
#include "tools/dev/process.h"

namespace granary::dev {
namespace {

namespace fs = std::filesystem;

// SIGTERM to every daemon in `group` at once, one shared bounded wait, then
// SIGKILL for whatever is left.
void StopGroup(const std::vector<const DaemonRecord*>& group, std::ostream& out) {
  std::vector<const DaemonRecord*> signalled;
  for (const DaemonRecord* d : group) {
    if (d->pid > 0 && SignalProcess(d->pid, d->binary, SIGTERM).ok()) signalled.push_back(d);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (const DaemonRecord* d : signalled) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    bool killed = false;
    if (!WaitForExit(d->pid, std::max(left, std::chrono::milliseconds(0))).ok()) {
      killed = SignalProcess(d->pid, d->binary, SIGKILL).ok();
      (void)WaitForExit(d->pid, std::chrono::seconds(5));
    }
    out << "stopped " << d->name << " (pid " << d->pid << (killed ? ", SIGKILL" : "") << ")\n";
  }
}

}  // namespace

Status DevDown(const std::string& dir_arg, bool wipe, std::ostream& out) {
  const std::string dir = fs::absolute(dir_arg).lexically_normal().string();
  const std::string state_path = ClusterStatePath(dir);
  auto st = ReadClusterState(state_path);
  if (!st.ok() && st.status().code() != proto::NOT_FOUND) return st.status();
  if (st.ok()) {
    std::vector<const DaemonRecord*> chunkds;
    for (const DaemonRecord& c : st->chunkds) chunkds.push_back(&c);
    StopGroup(chunkds, out);
    StopGroup({&st->metad}, out);
    for (const DaemonRecord& c : st->chunkds) {
      if (c.pid > 0 && ProcessMatches(c.pid, c.binary)) {
        return Status::Internal(c.name + " (pid " + std::to_string(c.pid) + ") would not stop");
      }
    }
    if (ProcessMatches(st->metad.pid, st->metad.binary)) {
      return Status::Internal("metad (pid " + std::to_string(st->metad.pid) + ") would not stop");
    }
  } else {
    out << "no dev cluster recorded in " << dir << "\n";
  }
  std::error_code ec;
  fs::remove(state_path, ec);
  if (!wipe) return Status::Ok();
  // Remove only what `dev up` creates, never unrelated files in DIR.
  if (fs::is_directory(dir, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (name == "metad" || name.rfind("chunkd-", 0) == 0 || name == "cluster.toml.tmp") {
        fs::remove_all(e.path(), ec);
        if (ec) return Status::IoError("remove " + e.path().string() + ": " + ec.message());
      }
    }
    if (fs::is_empty(dir, ec)) fs::remove(dir, ec);
    out << "wiped " << dir << "\n";
  }
  return Status::Ok();
}

Result<DevStatusResult> DevStatus(const std::string& dir_arg) {
  const std::string dir = fs::absolute(dir_arg).lexically_normal().string();
  auto st = ReadClusterState(ClusterStatePath(dir));
  if (!st.ok()) {
    if (st.status().code() == proto::NOT_FOUND) {
      return Status::NotFound("no dev cluster in " + dir + "; start one with `granary dev up`");
    }
    return st.status();
  }
  DevStatusResult r;
  r.state = *st;
  r.daemons.push_back({st->metad, ProcessMatches(st->metad.pid, st->metad.binary)});
  for (const DaemonRecord& c : st->chunkds) {
    r.daemons.push_back({c, c.pid > 0 && ProcessMatches(c.pid, c.binary)});
  }
  for (DaemonStatus& d : r.daemons) {
    if (!d.alive) {
      d.metrics_error = Status::Unavailable("not running");
    } else if (d.record.metrics_address.empty()) {
      d.metrics_error = Status::NotFound("metrics off");
    } else {
      Result<std::string> text = metrics::Scrape(d.record.metrics_address, std::chrono::seconds(2));
      Result<std::vector<metrics::Sample>> samples =
          text.ok() ? metrics::ParseText(*text) : Result<std::vector<metrics::Sample>>(text.status());
      if (samples.ok()) {
        d.metrics = std::move(*samples);
      } else {
        d.metrics_error = samples.status();
      }
    }
  }
  if (!r.daemons[0].alive) {
    r.nodes_error = Status::Unavailable("metad is not running");
    return r;
  }
  ClientOptions options;
  options.meta_address = st->meta_address;
  options.key_file = st->key_file;
  options.rpc_timeout = std::chrono::seconds(5);
  auto client = Client::Connect(options);
  if (!client.ok()) {
    r.nodes_error = client.status();
    return r;
  }
  auto nodes = (*client)->ListNodes();
  if (nodes.ok()) {
    r.nodes = std::move(*nodes);
  } else {
    r.nodes_error = nodes.status();
  }
  return r;
}

}  // namespace granary::dev
