// granary fsck [PATH]: files whose chunks have fewer good replicas than
// their replication factor (under-replicated) or none at all (missing). A
// replica is good while its chunk server is up and, unless --no-replica-check,
// that server still holds it with the recorded size (CHUNK_STAT): a replica
// its scrub quarantined as corrupt, or one lost with its disk, is counted as
// corrupt. Exits 1 while any exist, so scripts and monitoring can act on it.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <vector>

#include "tools/command.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

struct FsckTotals {
  uint64_t files = 0, chunks = 0, under = 0, missing = 0, corrupt = 0;
  std::vector<std::vector<std::string>> rows;  // problem files
};

Status CheckFile(Client& client, const std::string& path, const FileInfo& info,
                 const std::map<std::string, bool>& up, bool check_replicas, FsckTotals* t) {
  ++t->files;
  ASSIGN_OR_RETURN(auto chunks, client.GetLayout(path));
  uint64_t under = 0, missing = 0, corrupt = 0;
  uint32_t fewest = info.replicas;
  for (const ChunkLocation& c : chunks) {
    ++t->chunks;
    uint32_t live = 0;
    for (const ReplicaInfo& r : c.replicas) {
      auto it = up.find(r.node_id);
      if (it == up.end() || !it->second) continue;
      if (check_replicas) {
        Result<uint64_t> stored = client.StatReplica(r.address, c.chunk_id, c.version);
        if (!stored.ok() && stored.status().code() != proto::CHUNK_NOT_FOUND) {
          return stored.status().WithContext("asking " + r.address + " about " + path);
        }
        if (!stored.ok() || *stored != c.stored_length) {
          ++corrupt;
          continue;
        }
      }
      ++live;
    }
    fewest = std::min(fewest, live);
    if (live == 0) {
      ++missing;
    } else if (live < info.replicas) {
      ++under;
    }
  }
  t->under += under;
  t->missing += missing;
  t->corrupt += corrupt;
  if (under || missing) {
    t->rows.push_back({missing ? "MISSING" : "UNDER-REPLICATED", std::to_string(missing),
                       std::to_string(under), std::to_string(corrupt),
                       fmt::format("{}/{}", fewest, info.replicas), path});
  }
  return Status::Ok();
}

Status Walk(Client& client, const std::string& path, const FileInfo& info,
            const std::map<std::string, bool>& up, bool check_replicas, FsckTotals* t) {
  if (info.type == FileType::kFile) return CheckFile(client, path, info, up, check_replicas, t);
  if (info.type != FileType::kDirectory) return Status::Ok();
  ASSIGN_OR_RETURN(auto entries, client.ReadDir(path));
  for (const auto& e : entries) {
    const std::string child = JoinPath(path, e.name);
    Status st = Walk(client, child, e.info, up, check_replicas, t);
    // A file removed while we walk is not a problem of the cluster.
    if (!st.ok() && st.code() != proto::NOT_FOUND) return st;
  }
  return Status::Ok();
}

Status RunFsck(const GlobalOptions& global, const std::string& arg, bool check_replicas) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(arg));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(auto nodes, client->ListNodes());
  std::map<std::string, bool> up;
  int down = 0;
  for (const NodeStatus& n : nodes) {
    up[n.node_id] = n.up;
    down += n.up ? 0 : 1;
  }
  ASSIGN_OR_RETURN(FileInfo root, client->Stat(path));
  FsckTotals t;
  RETURN_IF_ERROR(Walk(*client, path, root, up, check_replicas, &t));
  if (!t.rows.empty()) {
    Table table({"STATE", "MISSING", "UNDER", "CORRUPT", "FEWEST/R", "PATH"},
                {false, true, true, true, true, false});
    for (auto& r : t.rows) table.AddRow(std::move(r));
    std::fputs(table.Render().c_str(), stdout);
  }
  std::printf("%s: %llu files, %llu chunks; %llu chunks under-replicated, %llu missing; "
              "%llu corrupt or lost replicas on live servers%s; %d of %zu chunk servers down\n",
              path.c_str(), static_cast<unsigned long long>(t.files),
              static_cast<unsigned long long>(t.chunks), static_cast<unsigned long long>(t.under),
              static_cast<unsigned long long>(t.missing),
              static_cast<unsigned long long>(t.corrupt),
              check_replicas ? "" : " (not checked)", down, nodes.size());
  if (t.under || t.missing) {
    return Status::Corruption(fmt::format("{} file(s) with missing or under-replicated chunks",
                                          t.rows.size()));
  }
  return Status::Ok();
}

}  // namespace

void RegisterFsck(CLI::App& app, CommandContext& ctx) {
  auto path = std::make_shared<std::string>("/");
  auto no_check = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "fsck",
      "list files with missing, under-replicated or corrupt chunks; exit 1 while any exist");
  cmd->add_option("PATH", *path, "folder or file to check (default /)");
  cmd->add_flag("--no-replica-check", *no_check,
                "trust metad's map: do not ask chunk servers whether each replica is there");
  cmd->callback([&ctx, path, no_check] {
    ctx.Select("fsck", [&ctx, path, no_check] { return RunFsck(ctx.global(), *path, !*no_check); });
  });
}

}  // namespace granary::tools
