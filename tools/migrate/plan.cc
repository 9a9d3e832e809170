#include "tools/migrate/plan.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>

namespace granary::tools::migrate {
namespace {

constexpr std::string_view kTempMarker = ".granary-migrate.";

class Walker {
 public:
  Walker(Tree& src, Tree& dst, bool dry_run, bool extraneous, Plan& plan)
      : src_(src), dst_(dst), dry_run_(dry_run), extraneous_(extraneous), plan_(plan) {}

  // `dst_exists`: the destination folder is there (or was just created), so
  // it can be listed. In a dry run a missing folder is simply empty.
  void Folder(const std::string& rel, const std::string& s, const std::string& d,
              bool dst_exists) {
    auto entries = src_.List(s);
    if (!entries.ok()) {
      plan_.errors.push_back(entries.status().WithContext("reading source folder " + src_.Describe(s)));
      return;
    }
    std::map<std::string, Entry> there;
    if (dst_exists) {
      auto listed = dst_.List(d);
      if (!listed.ok()) {
        plan_.errors.push_back(listed.status().WithContext("reading " + dst_.Describe(d)));
        return;
      }
      for (Entry& e : *listed) {
        if (IsTempName(e.name) && e.type != EntryType::kDirectory) {
          plan_.stale_temps.push_back(dst_.Join(d, e.name));
          continue;
        }
        std::string name = e.name;
        there.emplace(std::move(name), std::move(e));
      }
    }
    if (extraneous_) {
      std::set<std::string> in_source;
      for (const Entry& e : *entries) in_source.insert(e.name);
      for (const auto& [name, e] : there) {
        if (in_source.count(name) == 0) {
          plan_.extraneous.push_back(
              {rel.empty() ? name : rel + "/" + name, dst_.Join(d, name), e.type});
        }
      }
    }
    for (Entry& e : *entries) {
      std::string child_rel = rel.empty() ? e.name : rel + "/" + e.name;
      std::string cs = src_.Join(s, e.name);
      std::string cd = dst_.Join(d, e.name);
      auto it = there.find(e.name);
      const Entry* existing = it == there.end() ? nullptr : &it->second;
      switch (e.type) {
        case EntryType::kDirectory: {
          if (existing != nullptr && existing->type != EntryType::kDirectory) {
            plan_.errors.push_back(Status::NotDirectory(
                dst_.Describe(cd) + " is not a folder, but the source " + src_.Describe(cs) +
                " is; not copying that folder"));
            break;
          }
          bool exists = existing != nullptr;
          if (!exists && !dry_run_) {
            Status made = dst_.MakeDir(cd);
            if (!made.ok()) {
              plan_.errors.push_back(made);
              break;
            }
            exists = true;
          }
          plan_.dirs.push_back({child_rel, cd, e});
          Folder(child_rel, cs, cd, exists);
          break;
        }
        case EntryType::kFile:
        case EntryType::kSymlink: {
          if (existing != nullptr && existing->type == EntryType::kDirectory) {
            plan_.errors.push_back(Status::IsDirectory(
                dst_.Describe(cd) + " is a folder, but the source " + src_.Describe(cs) +
                " is not; not copying it"));
            break;
          }
          FileItem item{child_rel, cs, cd, e, std::nullopt};
          if (existing != nullptr) item.existing = *existing;
          plan_.files.push_back(std::move(item));
          break;
        }
        case EntryType::kOther:
          std::fprintf(stderr, "granary: migrate: skipping %s (not a file, folder or symlink)\n",
                       src_.Describe(cs).c_str());
          break;
      }
    }
  }

 private:
  Tree& src_;
  Tree& dst_;
  const bool dry_run_;
  const bool extraneous_;
  Plan& plan_;
};

}  // namespace

Result<Plan> PlanTree(Tree& src, const std::string& src_root, const Entry& root, Tree& dst,
                      const std::string& dst_root, bool dry_run, bool extraneous) {
  Plan plan;
  auto existing = dst.Stat(dst_root);
  if (!existing.ok() && existing.status().code() != proto::NOT_FOUND) {
    return existing.status().WithContext("destination " + dst.Describe(dst_root));
  }
  if (root.type != EntryType::kDirectory) {
    if (existing.ok() && existing->type == EntryType::kDirectory) {
      return Status::IsDirectory("destination " + dst.Describe(dst_root) +
                                 " is a folder; cannot replace it with a file");
    }
    FileItem item{"", src_root, dst_root, root, std::nullopt};
    if (existing.ok()) item.existing = *existing;
    plan.files.push_back(std::move(item));
    // Temporaries of an interrupted copy of this one file.
    auto [parent, name] = dst.Split(dst_root);
    if (auto listed = dst.List(parent); listed.ok()) {
      for (const Entry& e : *listed) {
        if (IsTempName(e.name) && e.name.starts_with("." + name + std::string(kTempMarker))) {
          plan.stale_temps.push_back(dst.Join(parent, e.name));
        }
      }
    }
    return plan;
  }
  bool dst_exists = existing.ok();
  if (dst_exists && existing->type != EntryType::kDirectory) {
    return Status::NotDirectory("destination " + dst.Describe(dst_root) +
                                " exists and is not a folder, but the source " +
                                src.Describe(src_root) + " is");
  }
  if (!dst_exists && !dry_run) {
    Status made = dst.MakeDir(dst_root);
    if (!made.ok()) return made.WithContext("creating destination " + dst.Describe(dst_root));
    dst_exists = true;
  }
  plan.dirs.push_back({"", dst_root, root});
  Walker(src, dst, dry_run, extraneous, plan).Folder("", src_root, dst_root, dst_exists);
  return plan;
}

Status RemoveTree(Tree& tree, const std::string& path, EntryType type) {
  if (type != EntryType::kDirectory) return tree.Remove(path);
  ASSIGN_OR_RETURN(auto entries, tree.List(path));
  for (const Entry& e : entries) RETURN_IF_ERROR(RemoveTree(tree, tree.Join(path, e.name), e.type));
  return tree.RemoveDir(path);
}

std::string TempName(const std::string& name) {
  static std::atomic<uint64_t> seq{0};
  // Room for the suffix within the 255-byte name limit of both trees.
  std::string base = name.substr(0, 200);
  return "." + base + std::string(kTempMarker) + std::to_string(getpid()) + "." +
         std::to_string(seq.fetch_add(1));
}

bool IsTempName(const std::string& name) {
  return name.starts_with('.') && name.find(kTempMarker) != std::string::npos;
}

}  // namespace granary::tools::migrate
