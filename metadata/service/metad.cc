#include "metadata/service/metad.h"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics/http_server.h"
#include "common/metrics/rpc_metrics.h"
#include "common/net/cluster_key.h"
#include "common/net/rpc_server.h"
#include "metadata/kv/rocksdb_kv.h"
#include "metadata/service/meta_service.h"
#include "metadata/service/metad_metrics.h"

namespace granary::metadata {

Status WritePortFile(const std::string& path, const std::string& host, uint16_t port,
                     const std::string& metrics) {
  std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  std::string line = host + ":" + std::to_string(port) + "\n";
  if (!metrics.empty()) line += "metrics " + metrics + "\n";
  bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    return Status::IoError("cannot write " + path + ": " + reason);
  }
  return Status::Ok();
}

int RunMetad(const MetadOptions& options) {
  Result<std::unique_ptr<RocksDbKv>> kv = RocksDbKv::Open({.path = options.data_dir + "/meta.db"});
  if (!kv.ok()) {
    LOG_ERROR("{}", kv.status().ToString());
    return 1;
  }
  SystemClock clock;
  Result<std::unique_ptr<MetaState>> state = MetaState::Open(**kv, clock, options.meta);
  if (!state.ok()) {
    LOG_ERROR("loading metadata: {}", state.status().ToString());
    return 1;
  }
  LOG_INFO("metadata in {}: {} inodes, {} chunks, {} chunk servers known", (*kv)->path(),
           (*state)->inode_count.load(), (*state)->chunk_count.load(),
           (*state)->nodes().List().size());

  // Cluster keys: every key of the file is accepted; metad's own calls to
  // chunk servers use its cluster key.
  auto daemon_keys = net::LoadDaemonKeys(options.cluster_key_file);
  if (!daemon_keys.ok()) {
    LOG_ERROR("cluster_key_file: {}", daemon_keys.status().ToString());
    return 1;
  }
  std::shared_ptr<const net::KeyRing> keys = daemon_keys->ring;
  MetaServiceOptions service_options = options.service;
  service_options.cluster_key = daemon_keys->own;

  int exit_code = 0;
  {
    asio::io_context io(options.io_threads);
    MetaService service(**state, service_options);
    net::ServerOptions server_options;
    server_options.keys = keys;
    server_options.name = "granary-metad";
    server_options.host = options.listen_host;
    server_options.port = options.listen_port;
    // The registry outlives the server it observes; the HTTP server that
    // renders it is declared last, so it stops first.
    metrics::Registry registry;
    server_options.observer = std::make_shared<metrics::RpcMetrics>(registry);
    net::RpcServer server(io.get_executor(), server_options);
    service.RegisterHandlers(server);
    metrics::AddConnectionGauge(registry, server);
    AddMetadMetrics(registry, **state, service);
    metrics::MetricsHttpServer metrics_http(registry);
    // Signals are caught from before the port opens: a launcher's early
    // SIGTERM must still close RocksDB cleanly.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code& ec, int signo) {
      if (ec) return;
      LOG_INFO("signal {}: stopping", signo);
      server.Stop();
      io.stop();
    });
    Status st = server.Start();
    if (!st.ok()) {
      LOG_ERROR("{}", st.ToString());
      return 1;  // the service's destructor writes back and the KV closes
    }
    LOG_INFO("granary-metad listening on {}:{}", options.listen_host, server.port());
    // Before the metrics endpoint opens: its callbacks read the repair loop
    // that Start creates.
    service.Start();
    std::string metrics_bound;
    if (!options.metrics_address.empty()) {
      auto m = ParseMetricsAddress(options);  // validated with the options
      st = m.ok() ? metrics_http.Start(m->first, m->second) : m.status();
      if (!st.ok()) {
        LOG_ERROR("metrics: {}", st.ToString());
        server.Stop();
        return 1;
      }
      const bool v6 = m->first.find(':') != std::string::npos;
      metrics_bound = (v6 ? "[" + m->first + "]" : m->first) + ":" + std::to_string(metrics_http.port());
      LOG_INFO("metrics at http://{}/metrics", metrics_bound);
    }
    if (!options.port_file.empty()) {
      st = WritePortFile(options.port_file, options.listen_host, server.port(), metrics_bound);
      if (!st.ok()) {
        LOG_ERROR("{}", st.ToString());
        server.Stop();
        return 1;
      }
    }

    std::vector<std::thread> threads;
    for (int i = 1; i < options.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (std::thread& t : threads) t.join();

    // Operations still running finish on the pool; then in-memory state is
    // written back before the store closes.
    st = service.Stop();
    if (!st.ok()) {
      LOG_ERROR("writing back metadata state: {}", st.ToString());
      exit_code = 1;
    }
  }
  state->reset();
  Status closed = (*kv)->Close();
  if (!closed.ok()) {
    LOG_ERROR("{}", closed.ToString());
    exit_code = 1;
  }
  LOG_INFO("granary-metad stopped");
  return exit_code;
}

}  // namespace granary::metadata
