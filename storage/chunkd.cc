#include "storage/chunkd.h"

#include <sys/resource.h>

#include <csignal>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics/http_server.h"
#include "common/metrics/rpc_metrics.h"
#include "common/net/cluster_key.h"
#include "common/net/rpc_client.h"
#include "common/net/rpc_server.h"
#include "storage/chunkd_metrics.h"
#include "storage/service/chunk_service.h"
#include "storage/service/heartbeat.h"
#include "storage/service/local_read_server.h"
#include "storage/service/scrubber.h"
#include "storage/store/chunk_store.h"
#include "storage/store/file_util.h"

namespace granary::storage {
namespace {

// Requests in flight at shutdown get this long to finish before the process
// stops serving them; unacknowledged writes are then simply not acked, which
// the client handles like any replica failure.
constexpr net::Millis kShutdownGrace{5000};

// Every chunk read through the file cache and every connection holds an fd;
// the default soft limit of 1024 is far too low for a server.
void RaiseFdLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) LOG_WARN("cannot raise the open file limit");
}

std::string JoinHostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Logs an exception that escaped a root coroutine; the process goes on.
auto LogRootFailure(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      LOG_ERROR("{} failed: {}", what, ex.what());
    }
  };
}

// Waits for requests in flight (up to the grace period), then stops the loop.
net::Awaitable<void> Drain(asio::io_context& io, const service::ChunkService& svc,
                           net::ConnectionPool& peers, net::ConnectionPool& meta) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = net::Clock::now() + kShutdownGrace;
  while (svc.inflight() > 0 && net::Clock::now() < deadline) {
    t.expires_after(net::Millis(10));
    co_await t.async_wait(net::kUseTuple);
  }
  if (svc.inflight() > 0) LOG_WARN("abandoning {} requests in flight", svc.inflight());
  peers.CloseAll();
  meta.CloseAll();
  io.stop();
}

}  // namespace

int RunChunkd(const ChunkdOptions& o) {
  RaiseFdLimit();
  auto listen = ParseListenAddress(o.listen);
  if (!listen.ok()) {
    LOG_ERROR("--listen: {}", listen.status().message());
    return 1;
  }
  store::StoreOptions store_opts;
  store_opts.data_dirs = o.data_dirs;
  store_opts.scan_threads = std::min(o.disk_threads, 16);
  store_opts.min_free_bytes = o.min_free_bytes;
  auto opened = store::ChunkStore::Open(store_opts);
  if (!opened.ok()) {
    LOG_ERROR("cannot open the data folders: {}", opened.status().ToString());
    return 1;
  }
  store::ChunkStore& store = **opened;
  std::string folders;
  for (const std::string& f : store.folder_paths()) folders += (folders.empty() ? "" : ", ") + f;
  Result<store::StoreUsage> usage = store.Usage();
  LOG_INFO("node {}: {} chunk versions in {}", store.node_id(), usage.ok() ? usage->chunk_count : 0,
           folders);

  // Cluster keys: the server accepts every key of the file; this server's
  // own calls (to metad, down the chain) use its cluster key.
  auto daemon_keys = net::LoadDaemonKeys(o.cluster_key_file);
  if (!daemon_keys.ok()) {
    LOG_ERROR("cluster_key_file: {}", daemon_keys.status().ToString());
    return 1;
  }
  std::shared_ptr<const net::KeyRing> keys = daemon_keys->ring;
  std::shared_ptr<const net::ClusterKey> own_key = daemon_keys->own;

  asio::thread_pool disk(static_cast<size_t>(o.disk_threads));
  asio::io_context io(o.io_threads);
  net::ConnectionPool peers(io.get_executor(), net::Millis(3000), 2, {}, own_key);
  net::ConnectionPool meta(io.get_executor(), net::Millis(2000), 1, {}, own_key);
  net::ServerOptions server_opts;
  server_opts.keys = keys;
  server_opts.name = "granary-chunkd";
  server_opts.host = listen->first;
  server_opts.port = listen->second;
  // Declared before everything its callbacks read; the HTTP server that
  // renders it is declared after them, so it stops first.
  metrics::Registry registry;
  server_opts.observer = std::make_shared<metrics::RpcMetrics>(registry);
  net::RpcServer server(io.get_executor(), server_opts);
  metrics::AddConnectionGauge(registry, server);
  service::ChunkService svc(store, disk.get_executor(), peers);
  svc.Register(server);
  Status st = server.Start();
  if (!st.ok()) {
    LOG_ERROR("{}", st.ToString());
    return 1;
  }
  const std::string bound = JoinHostPort(listen->first, server.port());
  const std::string advertise = o.advertise.empty() ? bound : o.advertise;
  if (o.advertise.empty() && (listen->first == "0.0.0.0" || listen->first == "::")) {
    LOG_WARN("listening on every interface without --advertise: peers will be told {}", bound);
  }
  LOG_INFO("listening on {}, advertised as {}", bound, advertise);

  service::LocalReadServer local_reads(io.get_executor(), disk.get_executor(), store, advertise);
  if (o.local_reads) {
    st = local_reads.Start();
    if (st.ok()) {
      LOG_INFO("local reads on for clients on this host");
    } else {
      LOG_WARN("{}", st.message());
    }
  }

  service::HeartbeatOptions hb_opts;
  hb_opts.meta_address = o.meta;
  hb_opts.advertise_address = advertise;
  hb_opts.failure_domain = o.failure_domain;
  service::Heartbeater hb(store, disk.get_executor(), meta, hb_opts);
  // Both loops sleep on a StopSignal, which needs a strand.
  asio::co_spawn(asio::make_strand(io), hb.Run(), LogRootFailure("heartbeats"));
  asio::co_spawn(asio::make_strand(io), svc.RunJanitor(), LogRootFailure("janitor"));
  service::ScrubOptions scrub_opts;
  scrub_opts.bytes_per_sec = static_cast<uint64_t>(o.scrub_mbps) * 1'000'000;
  scrub_opts.pass_interval = net::Millis(int64_t{o.scrub_pass_interval_s} * 1000);
  scrub_opts.initial_delay = net::Millis(int64_t{o.scrub_start_delay_s} * 1000);
  service::Scrubber scrubber(store, disk.get_executor(), scrub_opts);
  asio::co_spawn(asio::make_strand(io), scrubber.Run(), LogRootFailure("scrub"));

  AddChunkdMetrics(registry, store, scrubber, svc, local_reads);
  metrics::MetricsHttpServer metrics_http(registry);
  std::string metrics_bound;
  if (!o.metrics_address.empty()) {
    auto m = ParseListenAddress(o.metrics_address);  // validated with the options
    st = m.ok() ? metrics_http.Start(m->first, m->second) : m.status();
    if (!st.ok()) {
      LOG_ERROR("metrics: {}", st.ToString());
      return 1;
    }
    metrics_bound = JoinHostPort(m->first, metrics_http.port());
    LOG_INFO("metrics at http://{}/metrics", metrics_bound);
  }
  if (!o.port_file.empty()) {
    // Atomic (temp + rename): a launcher polling the file never reads half
    // of it. The metrics line comes second so readers of the first line
    // alone are unaffected.
    std::string text = advertise + "\n";
    if (!metrics_bound.empty()) text += "metrics " + metrics_bound + "\n";
    st = store::WriteFileAtomic(o.port_file, text);
    if (!st.ok()) {
      LOG_ERROR("port file: {}", st.ToString());
      return 1;
    }
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    LOG_INFO("signal {}: stopping", sig);
    server.Stop();
    local_reads.Stop();
    hb.Stop();
    scrubber.Stop();
    svc.Stop();
    asio::co_spawn(io, Drain(io, svc, peers, meta), LogRootFailure("shutdown"));
  });

  auto run = [&io] {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        LOG_ERROR("uncaught exception on an I/O thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < o.io_threads; ++i) threads.emplace_back(run);
  run();
  for (std::thread& t : threads) t.join();
  disk.join();  // disk work in flight finishes before the store goes away
  LOG_INFO("node {} stopped", store.node_id());
  return 0;
}

}  // namespace granary::storage
