#include "storage/chunkd_options.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

namespace granary::storage {
namespace {

Status KeyError(std::string_view source, std::string_view key, std::string_view what) {
  return Status::InvalidArgument(std::string(source) + ": [chunkd] " + std::string(key) + " " +
                                 std::string(what));
}

Status GetString(const toml::node& node, std::string_view source, std::string_view key,
                 std::string* out) {
  std::optional<std::string> v = node.value<std::string>();
  if (!v || !node.is_string()) return KeyError(source, key, "must be a string");
  *out = *v;
  return Status::Ok();
}

Status GetInt(const toml::node& node, std::string_view source, std::string_view key, int* out,
              int64_t min = 1, int64_t max = 1024) {
  if (!node.is_integer()) return KeyError(source, key, "must be an integer");
  const int64_t v = *node.value<int64_t>();
  if (v < min || v > max) {
    return KeyError(source, key,
                    "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status GetStrings(const toml::node& node, std::string_view source, std::string_view key,
                  std::vector<std::string>* out) {
  const toml::array* arr = node.as_array();
  if (!arr) return KeyError(source, key, "must be an array of strings");
  out->clear();
  for (const toml::node& e : *arr) {
    if (!e.is_string()) return KeyError(source, key, "must be an array of strings");
    out->push_back(*e.value<std::string>());
  }
  return Status::Ok();
}

}  // namespace

Status ApplyToml(std::string_view toml_text, std::string_view source, ChunkdOptions* o) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status::InvalidArgument(msg.str());
  }
  const toml::node* section = doc.get("chunkd");
  if (section == nullptr) return Status::Ok();
  const toml::table* t = section->as_table();
  if (t == nullptr)
    return Status::InvalidArgument(std::string(source) + ": chunkd must be a table");
  // Every [chunkd] key and the field it sets.
  static const std::pair<std::string_view, std::string ChunkdOptions::*> kStrings[] = {
      {"listen", &ChunkdOptions::listen},       {"advertise", &ChunkdOptions::advertise},
      {"meta", &ChunkdOptions::meta},           {"failure_domain", &ChunkdOptions::failure_domain},
      {"log_level", &ChunkdOptions::log_level}, {"log_file", &ChunkdOptions::log_file},
      {"port_file", &ChunkdOptions::port_file}, {"metrics_address", &ChunkdOptions::metrics_address},
      {"cluster_key_file", &ChunkdOptions::cluster_key_file},
  };
  static const std::pair<std::string_view, int ChunkdOptions::*> kInts[] = {
      {"io_threads", &ChunkdOptions::io_threads},
      {"disk_threads", &ChunkdOptions::disk_threads},
  };
  // Scrub settings may be 0 (off, at once, back to back).
  static const std::pair<std::string_view, int ChunkdOptions::*> kScrubInts[] = {
      {"scrub_mbps", &ChunkdOptions::scrub_mbps},
      {"scrub_pass_interval_s", &ChunkdOptions::scrub_pass_interval_s},
      {"scrub_start_delay_s", &ChunkdOptions::scrub_start_delay_s},
  };
  for (const auto& [k, node] : *t) {
    const std::string_view key = k.str();
    auto s = std::find_if(std::begin(kStrings), std::end(kStrings),
                          [&](const auto& e) { return e.first == key; });
    auto i = std::find_if(std::begin(kInts), std::end(kInts),
                          [&](const auto& e) { return e.first == key; });
    auto scrub = std::find_if(std::begin(kScrubInts), std::end(kScrubInts),
                              [&](const auto& e) { return e.first == key; });
    if (s != std::end(kStrings)) {
      RETURN_IF_ERROR(GetString(node, source, key, &(o->*(s->second))));
    } else if (i != std::end(kInts)) {
      RETURN_IF_ERROR(GetInt(node, source, key, &(o->*(i->second))));
    } else if (scrub != std::end(kScrubInts)) {
      RETURN_IF_ERROR(GetInt(node, source, key, &(o->*(scrub->second)), 0, 1'000'000'000));
    } else if (key == "local_reads") {
      std::optional<bool> v = node.value<bool>();
      if (!v || !node.is_boolean()) return KeyError(source, key, "must be true or false");
      o->local_reads = *v;
    } else if (key == "min_free_bytes") {
      std::optional<int64_t> v = node.value<int64_t>();
      if (!v || !node.is_integer() || *v < 0) {
        return KeyError(source, key, "must be a non-negative integer (bytes)");
      }
      o->min_free_bytes = static_cast<uint64_t>(*v);
    } else if (key == "data_dirs") {
      RETURN_IF_ERROR(GetStrings(node, source, key, &o->data_dirs));
    } else {
      return KeyError(source, key, "is not a known setting");
    }
  }
  return Status::Ok();
}

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("'" + std::string(address) + "' is not host:port");
  }
  std::string host(address.substr(0, colon));
  // "[::1]:7100" -> "::1"
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return Status::InvalidArgument("'" + std::string(address) + "' has no valid port");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Status ValidateOptions(const ChunkdOptions& o) {
  auto named = [](std::string_view what, const Status& st) {
    return Status::InvalidArgument(std::string(what) + ": " + st.message());
  };
  Result<std::pair<std::string, uint16_t>> listen = ParseListenAddress(o.listen);
  if (!listen.ok()) return named("--listen", listen.status());
  if (!o.advertise.empty()) {
    auto adv = ParseListenAddress(o.advertise);
    if (!adv.ok()) return named("--advertise", adv.status());
    if (adv->second == 0) return Status::InvalidArgument("--advertise: port 0 cannot be dialled");
  }
  if (!o.metrics_address.empty()) {
    auto m = ParseListenAddress(o.metrics_address);
    if (!m.ok()) return named("--metrics-address", m.status());
  }
  auto meta = ParseListenAddress(o.meta);
  if (!meta.ok()) return named("--meta", meta.status());
  if (meta->second == 0) return Status::InvalidArgument("--meta: port 0 cannot be dialled");
  if (o.data_dirs.empty()) {
    return Status::InvalidArgument("no data folder: give --data-dir or [chunkd] data_dirs");
  }
  for (const std::string& d : o.data_dirs) {
    if (d.empty()) return Status::InvalidArgument("--data-dir: empty path");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), o.log_level) == std::end(kLevels)) {
    return Status::InvalidArgument("--log-level: unknown level '" + o.log_level +
                                   "' (trace, debug, info, warn, error, off)");
  }
  if (o.io_threads < 1 || o.io_threads > 1024) {
    return Status::InvalidArgument("--io-threads must be between 1 and 1024");
  }
  if (o.scrub_mbps < 0 || o.scrub_pass_interval_s < 0 || o.scrub_start_delay_s < 0) {
    return Status::InvalidArgument("scrub_mbps, scrub_pass_interval_s, scrub_start_delay_s: "
                                   "must not be negative");
  }
  if (o.disk_threads < 1 || o.disk_threads > 1024) {
    return Status::InvalidArgument("--disk-threads must be between 1 and 1024");
  }
  return Status::Ok();
}

std::optional<ChunkdOptions> ParseChunkdFlags(int argc, char** argv, int* exit_code) {
  CLI::App app{"granary-chunkd: the Granary chunk server", "granary-chunkd"};
  ChunkdOptions flags;  // flag values; applied only when given
  std::string config;
  app.add_option("--config", config, "TOML config file ([chunkd] table); flags override it");
  auto* listen = app.add_option("--listen", flags.listen, "host:port to listen on (port 0 = any)");
  auto* advertise = app.add_option("--advertise", flags.advertise,
                                   "host:port others dial (default: listen host + bound port)");
  auto* meta = app.add_option("--meta", flags.meta, "granary-metad host:port");
  auto* dirs = app.add_option("--data-dir", flags.data_dirs, "data folder (repeatable)");
  auto* fd = app.add_option("--failure-domain", flags.failure_domain, "placement label");
  auto* level = app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error|off");
  auto* log_file = app.add_option("--log-file", flags.log_file, "log here instead of stderr");
  auto* port_file =
      app.add_option("--port-file", flags.port_file, "write \"host:port\\n\" here once listening");
  auto* metrics = app.add_option("--metrics-address", flags.metrics_address,
                                 "host:port serving Prometheus metrics at /metrics (default off)");
  auto* key_file = app.add_option("--cluster-key-file", flags.cluster_key_file,
                                  "cluster key file: authenticate every connection");
  auto* io = app.add_option("--io-threads", flags.io_threads, "network threads (default 2)");
  auto* disk = app.add_option("--disk-threads", flags.disk_threads, "file I/O threads (default 8)");
  bool no_local_reads = false;
  app.add_flag("--no-local-reads", no_local_reads,
               "do not hand replica files to clients on this host");
  dirs->take_all();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    std::cerr << "granary-chunkd: " << e.what() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }

  ChunkdOptions opts;
  if (!config.empty()) {
    std::ifstream in(config);
    std::stringstream text;
    if (!in || !(text << in.rdbuf())) {
      std::cerr << "granary-chunkd: cannot read config file " << config << "\n";
      *exit_code = 2;
      return std::nullopt;
    }
    Status st = ApplyToml(text.str(), config, &opts);
    if (!st.ok()) {
      std::cerr << "granary-chunkd: " << st.message() << "\n";
      *exit_code = 2;
      return std::nullopt;
    }
  }
  if (listen->count()) opts.listen = flags.listen;
  if (advertise->count()) opts.advertise = flags.advertise;
  if (meta->count()) opts.meta = flags.meta;
  if (dirs->count()) opts.data_dirs = flags.data_dirs;
  if (fd->count()) opts.failure_domain = flags.failure_domain;
  if (level->count()) opts.log_level = flags.log_level;
  if (log_file->count()) opts.log_file = flags.log_file;
  if (port_file->count()) opts.port_file = flags.port_file;
  if (metrics->count()) opts.metrics_address = flags.metrics_address;
  if (key_file->count()) opts.cluster_key_file = flags.cluster_key_file;
  if (io->count()) opts.io_threads = flags.io_threads;
  if (disk->count()) opts.disk_threads = flags.disk_threads;
  if (no_local_reads) opts.local_reads = false;
  Status st = ValidateOptions(opts);
  if (!st.ok()) {
    std::cerr << "granary-chunkd: " << st.message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  *exit_code = 0;
  return opts;
}

}  // namespace granary::storage
