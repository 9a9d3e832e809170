#include "metadata/metad_options.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <asio/ip/address.hpp>
#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <toml++/toml.h>

#include "metadata/ops/op_util.h"

namespace granary::metadata {
namespace {

constexpr int kBadConfig = 2;

// "host:port" with an IP address host; port 0 = any free port. `key` names
// the setting in messages.
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text,
                                                       std::string_view key) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument(fmt::format("{} = '{}' is not host:port", key, text));
  }
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument(
        fmt::format("{} = '{}' has no valid port (0-65535, 0 = any free port)", key, text));
  }
  std::string_view host = text.substr(0, colon);
  // "[::1]:7000" -> "::1"
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  std::error_code ec_addr;
  asio::ip::make_address(std::string(host), ec_addr);
  if (ec_addr) {
    return Status::InvalidArgument(
        fmt::format("{} = '{}': the host must be an IP address", key, text));
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

Status ParseListen(std::string_view text, MetadOptions* o) {
  ASSIGN_OR_RETURN(auto hp, ParseHostPort(text, "listen"));
  o->listen_host = std::move(hp.first);
  o->listen_port = hp.second;
  return Status::Ok();
}

// Sets one configuration key from its TOML value.
using TomlSetter = std::function<Status(const toml::node&)>;

template <class T>
Status TomlInt(const toml::node& node, std::string_view key, T* out) {
  std::optional<int64_t> v = node.value<int64_t>();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) > std::numeric_limits<T>::max()) {
    return Status::InvalidArgument(fmt::format("{} must be a non-negative integer", key));
  }
  *out = static_cast<T>(*v);
  return Status::Ok();
}

Status TomlString(const toml::node& node, std::string_view key, std::string* out) {
  std::optional<std::string> v = node.value<std::string>();
  if (!v) return Status::InvalidArgument(fmt::format("{} must be a string", key));
  *out = std::move(*v);
  return Status::Ok();
}

// Every key of the [metad] table. The names match the flags with '_' for '-'.
std::map<std::string, TomlSetter, std::less<>> TomlKeys(MetadOptions* o) {
  std::map<std::string, TomlSetter, std::less<>> keys;
  auto text = [&](const char* k, std::string* field) {
    keys[k] = [k, field](const toml::node& n) { return TomlString(n, k, field); };
  };
  auto integer = [&](const char* k, auto* field) {
    keys[k] = [k, field](const toml::node& n) { return TomlInt(n, k, field); };
  };
  text("data_dir", &o->data_dir);
  text("log_level", &o->log_level);
  text("log_file", &o->log_file);
  text("port_file", &o->port_file);
  text("metrics_address", &o->metrics_address);
  text("cluster_key_file", &o->cluster_key_file);
  keys["listen"] = [o](const toml::node& n) {
    std::string s;
    RETURN_IF_ERROR(TomlString(n, "listen", &s));
    return ParseListen(s, o);
  };
  integer("default_replicas", &o->meta.default_replicas);
  integer("default_chunk_size", &o->meta.default_chunk_size);
  integer("node_timeout_ms", &o->meta.nodes.node_timeout_ms);
  integer("heartbeat_interval_ms", &o->meta.heartbeat_interval_ms);
  integer("lease_ms", &o->meta.lease_ms);
  integer("wal_sync_interval_ms", &o->meta.wal_sync_interval_ms);
  integer("orphan_ttl_ms", &o->meta.orphan_ttl_ms);
  integer("trash_ms", &o->meta.trash_ms);
  integer("backup_lease_ms", &o->meta.backup_lease_ms);
  integer("repair_delay_ms", &o->meta.repair.delay_ms);
  integer("repair_interval_ms", &o->meta.repair.interval_ms);
  integer("repair_full_scan_interval_ms", &o->meta.repair.full_scan_interval_ms);
  integer("repair_max_inflight", &o->meta.repair.max_inflight);
  integer("repair_copy_timeout_ms", &o->meta.repair.copy_timeout_ms);
  integer("rebalance_threshold_percent", &o->meta.repair.rebalance_threshold_percent);
  integer("rebalance_min_bytes", &o->meta.repair.rebalance_min_bytes);
  integer("rebalance_interval_ms", &o->meta.repair.rebalance_interval_ms);
  integer("orphan_sweep_interval_ms", &o->meta.repair.orphan_sweep_interval_ms);
  integer("io_threads", &o->io_threads);
  integer("kv_threads", &o->service.worker_threads);
  integer("min_free_bytes", &o->meta.placement.min_free_bytes);
  keys["min_free_percent"] = [o](const toml::node& n) {
    std::optional<double> v = n.value<double>();
    if (!v) return Status::InvalidArgument("min_free_percent must be a number");
    o->meta.placement.min_free_percent = *v;
    return Status::Ok();
  };
  return keys;
}

Status LoadToml(const std::string& path, MetadOptions* o) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(fmt::format("config {}:{}:{}: {}", path, where.line,
                                               where.column, e.description()));
  }
  const toml::node* section = root.get("metad");
  if (section == nullptr) return Status::Ok();  // other daemons' tables only
  const toml::table* table = section->as_table();
  if (table == nullptr) return Status::InvalidArgument("config " + path + ": [metad] is not a table");
  auto keys = TomlKeys(o);
  for (const auto& [k, node] : *table) {
    auto it = keys.find(k.str());
    if (it == keys.end()) {
      return Status::InvalidArgument(
          fmt::format("config {}: unknown key metad.{}", path, k.str()));
    }
    Status st = it->second(node);
    if (!st.ok()) return st.WithContext(fmt::format("config {}: metad", path));
  }
  return Status::Ok();
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseMetricsAddress(const MetadOptions& o) {
  return ParseHostPort(o.metrics_address, "metrics_address");
}

Status ValidateMetadOptions(const MetadOptions& o) {
  if (o.data_dir.empty()) {
    return Status::InvalidArgument("data_dir (--data-dir) is required");
  }
  if (!o.metrics_address.empty()) RETURN_IF_ERROR(ParseMetricsAddress(o).status());
  RETURN_IF_ERROR(ValidateReplicas(o.meta.default_replicas, "default_replicas"));
  RETURN_IF_ERROR(ValidateChunkSize(o.meta.default_chunk_size, "default_chunk_size"));
  auto positive = [](int64_t v, std::string_view key) {
    return v > 0 ? Status::Ok()
                 : Status::InvalidArgument(fmt::format("{} = {} must be positive", key, v));
  };
  RETURN_IF_ERROR(positive(o.meta.nodes.node_timeout_ms, "node_timeout_ms"));
  RETURN_IF_ERROR(positive(o.meta.heartbeat_interval_ms, "heartbeat_interval_ms"));
  RETURN_IF_ERROR(positive(o.meta.lease_ms, "lease_ms"));
  RETURN_IF_ERROR(positive(o.meta.wal_sync_interval_ms, "wal_sync_interval_ms"));
  RETURN_IF_ERROR(positive(o.meta.orphan_ttl_ms, "orphan_ttl_ms"));
  RETURN_IF_ERROR(positive(o.meta.repair.interval_ms, "repair_interval_ms"));
  RETURN_IF_ERROR(positive(o.meta.repair.full_scan_interval_ms, "repair_full_scan_interval_ms"));
  RETURN_IF_ERROR(positive(o.meta.repair.max_inflight, "repair_max_inflight"));
  RETURN_IF_ERROR(positive(o.meta.repair.copy_timeout_ms, "repair_copy_timeout_ms"));
  RETURN_IF_ERROR(positive(o.meta.repair.rebalance_interval_ms, "rebalance_interval_ms"));
  RETURN_IF_ERROR(positive(o.meta.repair.orphan_sweep_interval_ms, "orphan_sweep_interval_ms"));
  if (o.meta.repair.rebalance_threshold_percent < 0 || o.meta.repair.rebalance_min_bytes < 0) {
    return Status::InvalidArgument(
        "rebalance_threshold_percent and rebalance_min_bytes must not be negative");
  }
  if (o.meta.trash_ms < 0) return Status::InvalidArgument("trash_ms must not be negative");
  // The range a backup client may ask for (ops/backup_session.cc).
  if (o.meta.backup_lease_ms < 1000 || o.meta.backup_lease_ms > 600000) {
    return Status::InvalidArgument(
        fmt::format("backup_lease_ms = {} is outside 1000..600000", o.meta.backup_lease_ms));
  }
  if (o.meta.repair.delay_ms < 0) {
    return Status::InvalidArgument("repair_delay_ms must not be negative");
  }
  if (o.meta.heartbeat_interval_ms >= o.meta.nodes.node_timeout_ms) {
    return Status::InvalidArgument(fmt::format(
        "heartbeat_interval_ms = {} must be below node_timeout_ms = {} or nodes flap DOWN",
        o.meta.heartbeat_interval_ms, o.meta.nodes.node_timeout_ms));
  }
  if (o.io_threads < 1 || o.io_threads > 256) {
    return Status::InvalidArgument(fmt::format("io_threads = {} must be 1 to 256", o.io_threads));
  }
  if (o.service.worker_threads < 1 || o.service.worker_threads > 256) {
    return Status::InvalidArgument(
        fmt::format("kv_threads = {} must be 1 to 256", o.service.worker_threads));
  }
  double pct = o.meta.placement.min_free_percent;
  if (!(pct >= 0 && pct <= 100)) {
    return Status::InvalidArgument(fmt::format("min_free_percent = {} must be 0 to 100", pct));
  }
  return Status::Ok();
}

MetadArgs ParseMetadArgs(int argc, const char* const* argv) {
  CLI::App app{"granary-metad: the Granary metadata server (namespace, layouts, chunk servers)"};
  std::string config, listen, data_dir, log_level, log_file, port_file, metrics_address, key_file;
  uint32_t replicas = 0;
  uint64_t chunk_size = 0, min_free_bytes = 0;
  int64_t node_timeout = 0, heartbeat = 0, lease = 0, wal_sync = 0, orphan_ttl = 0,
          repair_delay = 0;
  int io_threads = 0, kv_threads = 0;
  double min_free_percent = 0;
  app.add_option("--config", config, "TOML file with a [metad] table; flags override it");
  auto* o_listen = app.add_option("--listen", listen, "host:port to serve on (port 0: any free)");
  auto* o_data = app.add_option("--data-dir", data_dir, "data folder; RocksDB in DIR/meta.db");
  auto* o_level = app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  auto* o_logf = app.add_option("--log-file", log_file, "log file (default stderr)");
  auto* o_port = app.add_option("--port-file", port_file, "write host:port here once listening");
  auto* o_metrics = app.add_option("--metrics-address", metrics_address,
                                   "host:port serving Prometheus metrics at /metrics (default off)");
  auto* o_key = app.add_option("--cluster-key-file", key_file,
                               "cluster key file: authenticate every connection");
  auto* o_rep = app.add_option("--default-replicas", replicas, "root replication factor (3)");
  auto* o_cs = app.add_option("--default-chunk-size", chunk_size, "root chunk size, bytes (64 MiB)");
  auto* o_nt = app.add_option("--node-timeout-ms", node_timeout, "silence before a node is DOWN");
  auto* o_hb = app.add_option("--heartbeat-interval-ms", heartbeat, "chunk server heartbeat period");
  auto* o_lease = app.add_option("--lease-ms", lease, "write lease lifetime without renewal");
  auto* o_wal = app.add_option("--wal-sync-interval-ms", wal_sync,
                               "WAL sync period after lazy commits (1000)");
  auto* o_orphan = app.add_option("--orphan-ttl-ms", orphan_ttl,
                                  "free an orphan not renewed by its client for this long (120000)");
  auto* o_rd = app.add_option("--repair-delay-ms", repair_delay,
                              "replace a DOWN node's replicas after this long (300000)");
  auto* o_io = app.add_option("--io-threads", io_threads, "network I/O threads (1)");
  auto* o_kv = app.add_option("--kv-threads", kv_threads, "metadata worker threads (16)");
  auto* o_mfb = app.add_option("--min-free-bytes", min_free_bytes,
                               "skip nodes with less free space (1 GiB)");
  auto* o_mfp = app.add_option("--min-free-percent", min_free_percent,
                               "skip nodes with less free space, % of capacity (1)");
  MetadArgs out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.message = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = kBadConfig;
    out.message = std::string(e.what()) + "\nRun with --help for the options.";
    return out;
  }

  MetadOptions opts;
  opts.config_file = config;
  if (!config.empty()) {
    Status st = LoadToml(config, &opts);
    if (!st.ok()) {
      out.exit_code = kBadConfig;
      out.message = st.message();
      return out;
    }
  }
  Status st;
  if (*o_listen) st = ParseListen(listen, &opts);
  if (*o_data) opts.data_dir = data_dir;
  if (*o_level) opts.log_level = log_level;
  if (*o_logf) opts.log_file = log_file;
  if (*o_port) opts.port_file = port_file;
  if (*o_metrics) opts.metrics_address = metrics_address;
  if (*o_key) opts.cluster_key_file = key_file;
  if (*o_rep) opts.meta.default_replicas = replicas;
  if (*o_cs) opts.meta.default_chunk_size = chunk_size;
  if (*o_nt) opts.meta.nodes.node_timeout_ms = node_timeout;
  if (*o_hb) opts.meta.heartbeat_interval_ms = heartbeat;
  if (*o_lease) opts.meta.lease_ms = lease;
  if (*o_wal) opts.meta.wal_sync_interval_ms = wal_sync;
  if (*o_orphan) opts.meta.orphan_ttl_ms = orphan_ttl;
  if (*o_rd) opts.meta.repair.delay_ms = repair_delay;
  if (*o_io) opts.io_threads = io_threads;
  if (*o_kv) opts.service.worker_threads = kv_threads;
  if (*o_mfb) opts.meta.placement.min_free_bytes = min_free_bytes;
  if (*o_mfp) opts.meta.placement.min_free_percent = min_free_percent;
  if (st.ok()) st = ValidateMetadOptions(opts);
  if (!st.ok()) {
    out.exit_code = kBadConfig;
    out.message = st.message();
    return out;
  }
  out.options = std::move(opts);
  return out;
}

}  // namespace granary::metadata
