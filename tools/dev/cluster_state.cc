#include "tools/dev/cluster_state.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace granary::dev {
namespace {

toml::table ToToml(const DaemonRecord& d) {
  toml::table t{{"name", d.name},
                {"binary", d.binary},
                {"pid", static_cast<int64_t>(d.pid)},
                {"address", d.address},
                {"dir", d.dir}};
  if (!d.failure_domain.empty()) t.insert("failure_domain", d.failure_domain);
  if (!d.metrics_address.empty()) t.insert("metrics_address", d.metrics_address);
  return t;
}

DaemonRecord FromToml(const toml::table& t) {
  DaemonRecord d;
  d.name = t["name"].value_or(std::string());
  d.binary = t["binary"].value_or(std::string());
  d.pid = static_cast<pid_t>(t["pid"].value_or(int64_t{0}));
  d.address = t["address"].value_or(std::string());
  d.dir = t["dir"].value_or(std::string());
  d.failure_domain = t["failure_domain"].value_or(std::string());
  d.metrics_address = t["metrics_address"].value_or(std::string());
  return d;
}

}  // namespace

std::string ClusterStatePath(const std::string& dir) { return dir + "/cluster.toml"; }

Result<ClusterState> ReadClusterState(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) return Status::NotFound(path + " does not exist");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::Corruption(path + ": " + std::string(e.description()));
  }
  ClusterState s;
  s.meta_address = root["meta_address"].value_or(std::string());
  s.key_file = root["key_file"].value_or(std::string());
  s.started_at = root["started_at"].value_or(int64_t{0});
  if (const toml::table* m = root["metad"].as_table()) s.metad = FromToml(*m);
  if (const toml::array* cs = root["chunkd"].as_array()) {
    for (const toml::node& n : *cs) {
      if (const toml::table* t = n.as_table()) s.chunkds.push_back(FromToml(*t));
    }
  }
  if (s.metad.binary.empty() || s.metad.dir.empty()) {
    return Status::Corruption(path + ": no [metad] section with binary and dir");
  }
  return s;
}

Status WriteClusterState(const std::string& path, const ClusterState& state) {
  toml::table root{{"meta_address", state.meta_address},
                   {"started_at", state.started_at},
                   {"metad", ToToml(state.metad)}};
  toml::array chunkds;
  for (const auto& c : state.chunkds) chunkds.push_back(ToToml(c));
  root.insert("chunkd", std::move(chunkds));
  if (!state.key_file.empty()) root.insert("key_file", state.key_file);

  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# Written by `granary dev up`; read by `granary dev down|status` and\n"
           "# by every granary command looking for the cluster.\n"
        << root << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError("rename " + tmp + " -> " + path);
  }
  return Status::Ok();
}

}  // namespace granary::dev
