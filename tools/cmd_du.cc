// granary du PATH [--json]: what a folder holds, per entry below it.
//
// Walks the tree with paged directory reads. Bytes are file sizes; "with
// replicas" multiplies each file's size by its replication factor (what it
// takes on the chunk servers before compression), which is where the space
// goes when a folder keeps more copies.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "tools/command.h"
#include "tools/json_out.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

struct Usage {
  uint64_t bytes = 0;
  uint64_t replicated_bytes = 0;
  uint64_t files = 0;
  uint64_t folders = 0;
};

// Adds what `path` (a folder) holds below it into `u`.
Status Walk(Client& c, const std::string& path, Usage& u, int depth) {
  if (depth > 4096) return Status::InvalidArgument(path + ": folders nested too deep");
  ASSIGN_OR_RETURN(std::vector<DirEntryInfo> entries, c.ReadDir(path));
  for (const DirEntryInfo& e : entries) {
    if (e.info.type == FileType::kDirectory) {
      ++u.folders;
      RETURN_IF_ERROR(Walk(c, JoinPath(path, e.name), u, depth + 1));
    } else {
      ++u.files;
      u.bytes += e.info.size;
      u.replicated_bytes += e.info.size * std::max<uint32_t>(e.info.replicas, 1);
    }
  }
  return Status::Ok();
}

nlohmann::json UsageJson(const std::string& path, const Usage& u) {
  return {{"path", path},   {"bytes", u.bytes}, {"replicated_bytes", u.replicated_bytes},
          {"files", u.files}, {"folders", u.folders}};
}

Status RunDu(const GlobalOptions& global, const std::string& raw_path, bool bytes) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(raw_path));
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(FileInfo top, client->Stat(path));
  std::vector<std::pair<std::string, Usage>> rows;
  Usage total;
  if (top.type == FileType::kDirectory) {
    ASSIGN_OR_RETURN(std::vector<DirEntryInfo> entries, client->ReadDir(path));
    for (const DirEntryInfo& e : entries) {
      Usage u;
      const std::string child = JoinPath(path, e.name);
      if (e.info.type == FileType::kDirectory) {
        u.folders = 1;
        RETURN_IF_ERROR(Walk(*client, child, u, 1));
      } else {
        u.files = 1;
        u.bytes = e.info.size;
        u.replicated_bytes = e.info.size * std::max<uint32_t>(e.info.replicas, 1);
      }
      total.bytes += u.bytes;
      total.replicated_bytes += u.replicated_bytes;
      total.files += u.files;
      total.folders += u.folders;
      rows.emplace_back(child, u);
    }
  } else {
    total = {top.size, top.size * std::max<uint32_t>(top.replicas, 1), 1, 0};
    rows.emplace_back(path, total);
  }
  // Largest first: the question is where the space went.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  if (global.json) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& [p, u] : rows) entries.push_back(UsageJson(p, u));
    nlohmann::json doc = UsageJson(path, total);
    doc["entries"] = std::move(entries);
    PrintJson(doc);
    return Status::Ok();
  }
  auto size = [bytes](uint64_t v) { return bytes ? std::to_string(v) : FormatBytes(v); };
  Table t({"SIZE", "WITH REPLICAS", "FILES", "FOLDERS", "PATH"}, {true, true, true, true, false});
  for (const auto& [p, u] : rows) {
    t.AddRow({size(u.bytes), size(u.replicated_bytes), std::to_string(u.files),
              std::to_string(u.folders), p});
  }
  t.AddRow({size(total.bytes), size(total.replicated_bytes), std::to_string(total.files),
            std::to_string(total.folders), "total"});
  std::fputs(t.Render().c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterDu(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string path = "/";
    bool bytes = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("du", "space used below a folder, per entry, largest first");
  cmd->add_option("PATH", flags->path, "cluster path (default /)");
  cmd->add_flag("--bytes", flags->bytes, "exact byte counts");
  cmd->callback([&ctx, flags] {
    ctx.Select("du", [&ctx, flags] { return RunDu(ctx.global(), flags->path, flags->bytes); });
  });
}

}  // namespace granary::tools
