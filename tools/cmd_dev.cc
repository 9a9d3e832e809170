// granary dev up|down|status: a local cluster for development and demos.
#include <cstdio>
#include <iostream>
#include <map>

#include "tools/cli_util.h"
#include "tools/command.h"
#include "tools/dev/dev_cluster.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

struct DevFlags {
  dev::DevUpOptions up;
  double timeout_s = 20;
  std::string dir{kDefaultDevDir};
  bool wipe = false;
};

Status RunUp(DevFlags& f) {
  f.up.timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
  ASSIGN_OR_RETURN(dev::DevUpResult r, dev::DevUp(f.up, std::cout));
  const dev::ClusterState& st = r.state;
  if (r.already_running) {
    std::printf("dev cluster already running in %s\n", f.up.dir.c_str());
  }
  std::printf("metad: %s (pid %d)\n", st.meta_address.c_str(), st.metad.pid);
  for (const dev::DaemonRecord& c : st.chunkds) {
    std::printf("%s: %s (pid %d, domain %s)\n", c.name.c_str(), c.address.c_str(), c.pid,
                c.failure_domain.c_str());
  }
  std::printf(
      "\nGranary dev cluster is up. Commands run in this folder find it; elsewhere:\n"
      "  export GRANARY_META=%s\n"
      "Stop it with: granary dev down%s%s\n",
      st.meta_address.c_str(), f.up.dir == kDefaultDevDir ? "" : " --dir ",
      f.up.dir == kDefaultDevDir ? "" : f.up.dir.c_str());
  return Status::Ok();
}

// What a daemon's metrics say at a glance: its RPC traffic, then its state
// (metad: namespace, nodes and repairs; chunkd: chunks, space and scrub).
std::vector<std::string> MetricsRow(const dev::DaemonStatus& d) {
  using metrics::FindSample;
  using metrics::SumSamples;
  const auto& m = d.metrics;
  auto n = [&](std::string_view name, std::map<std::string, std::string> labels = {}) {
    return static_cast<uint64_t>(SumSamples(m, name, labels));
  };
  auto num = [&](std::string_view name, std::map<std::string, std::string> labels = {}) {
    return std::to_string(n(name, std::move(labels)));
  };
  std::string state;
  if (FindSample(m, "granary_metad_inodes")) {
    state = "inodes " + num("granary_metad_inodes") + ", chunks " + num("granary_metad_chunks") +
            ", nodes up/down/draining " + num("granary_metad_nodes", {{"state", "up"}}) + "/" +
            num("granary_metad_nodes", {{"state", "down"}}) + "/" +
            num("granary_metad_nodes", {{"state", "draining"}}) + ", under-replicated " +
            num("granary_metad_under_replicated_chunks") + ", repairs done/failed " +
            num("granary_metad_repair_copies_total", {{"result", "done"}}) + "/" +
            num("granary_metad_repair_copies_total", {{"result", "failed"}});
  } else if (FindSample(m, "granary_chunkd_chunks")) {
    state = "chunks " + num("granary_chunkd_chunks") + ", stored " +
            FormatBytes(n("granary_chunkd_chunk_bytes")) + ", free " +
            FormatBytes(n("granary_chunkd_folder_free_bytes")) + ", pending writes " +
            num("granary_chunkd_pending_writes") + ", scrubbed " +
            FormatBytes(n("granary_chunkd_scrub_bytes_verified_total")) + " (" +
            num("granary_chunkd_scrub_corrupt_total") + " corrupt), local-read fds " +
            num("granary_chunkd_local_read_descriptors_total");
  }
  return {d.record.name,
          d.record.metrics_address,
          num("granary_rpc_requests_total"),
          num("granary_rpc_errors_total"),
          FormatBytes(n("granary_rpc_request_bytes_total")),
          FormatBytes(n("granary_rpc_response_bytes_total")),
          num("granary_rpc_connections"),
          state};
}

Status RunStatus(const DevFlags& f) {
  ASSIGN_OR_RETURN(dev::DevStatusResult r, dev::DevStatus(f.dir));
  Table procs({"PROCESS", "PID", "ALIVE", "ADDRESS", "DIR"}, {false, true, false, false, false});
  for (const dev::DaemonStatus& d : r.daemons) {
    procs.AddRow({d.record.name, std::to_string(d.record.pid), d.alive ? "yes" : "no",
                  d.record.address, d.record.dir});
  }
  std::printf("meta address: %s\n%s\n", r.state.meta_address.c_str(), procs.Render().c_str());
  if (!r.nodes_error.ok()) {
    std::printf("nodes: unavailable (%s)\n", r.nodes_error.ToString().c_str());
  } else {
    std::fputs(RenderNodeTable(r.nodes).c_str(), stdout);
  }
  Table metrics({"PROCESS", "METRICS", "RPCS", "ERRORS", "RPC IN", "RPC OUT", "CONNS", "STATE"},
                {false, false, true, true, true, true, true, false});
  std::string unavailable;
  for (const dev::DaemonStatus& d : r.daemons) {
    if (d.metrics_error.ok()) {
      metrics.AddRow(MetricsRow(d));
    } else if (d.metrics_error.code() != proto::NOT_FOUND || !d.record.metrics_address.empty()) {
      unavailable += "  " + d.record.name + ": " + d.metrics_error.ToString() + "\n";
    }
  }
  std::printf("\nmetrics (GET http://ADDRESS/metrics):\n%s%s", metrics.Render().c_str(),
              unavailable.c_str());
  return Status::Ok();
}

}  // namespace

void RegisterDev(CLI::App& app, CommandContext& ctx) {
  auto f = std::make_shared<DevFlags>();
  CLI::App* dev = app.add_subcommand("dev", "run a local development cluster on 127.0.0.1");
  dev->require_subcommand(1);

  CLI::App* up = dev->add_subcommand(
      "up", "start granary-metad and N granary-chunkd (detached) unless already running");
  up->add_option("--dir", f->up.dir, "cluster folder (state, data, logs)")->capture_default_str();
  up->add_option("-n,--chunkservers", f->up.chunkservers, "number of chunk servers")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  up->add_flag("--failure-domains", f->up.failure_domains,
               "one failure domain per chunk server (default: all in 'local')");
  up->add_option("--daemon-log-level", f->up.log_level, "daemons' log level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  up->add_flag_function("--no-metrics", [f](int64_t) { f->up.metrics = false; },
               "start the daemons without a metrics endpoint");
  up->add_option("--metad-config", f->up.metad_config, "TOML config file for granary-metad");
  up->add_option("--chunkd-config", f->up.chunkd_config, "TOML config file for granary-chunkd");
  up->add_option("--key-file", f->up.key_file,
                 "cluster key file for every daemon (see granary key new); recorded for commands");
  up->add_option("--timeout", f->timeout_s, "seconds to wait for the cluster to be ready")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  up->callback([&ctx, f] { ctx.Select("dev up", [f] { return RunUp(*f); }); });

  CLI::App* down = dev->add_subcommand("down", "stop the dev cluster's processes (by pid)");
  down->add_option("--dir", f->dir, "cluster folder")->capture_default_str();
  down->add_flag("--wipe", f->wipe, "also delete the cluster's data and logs");
  down->callback([&ctx, f] {
    ctx.Select("dev down", [f] { return dev::DevDown(f->dir, f->wipe, std::cout); });
  });

  CLI::App* status = dev->add_subcommand("status", "show the dev cluster's processes and nodes");
  status->add_option("--dir", f->dir, "cluster folder")->capture_default_str();
  status->callback([&ctx, f] { ctx.Select("dev status", [f] { return RunStatus(*f); }); });
}

}  // namespace granary::tools
