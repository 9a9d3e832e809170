// granary migrate SRC DST: copy a tree between local folders and clusters,
// verified, resumable, in parallel, with a bandwidth cap. The pieces are in
// tools/migrate/; docs/migrate.md describes the tool.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>

#include "tools/command.h"
#include "tools/migrate/copy_job.h"
#include "tools/migrate/location.h"
#include "tools/migrate/plan.h"
#include "tools/migrate/rate_limiter.h"
#include "tools/migrate/tree.h"
#include "tools/transfer.h"

namespace granary::tools {
namespace {

using namespace migrate;

struct MigrateFlags {
  std::string src;
  std::string dst;
  size_t jobs = 4;
  std::string bwlimit;
  bool checksum = false;
  bool dry_run = false;
  bool progress = false;
  bool no_fsync = false;
  bool delete_extraneous = false;
};

Result<std::unique_ptr<Tree>> OpenTree(const GlobalOptions& global, const Location& loc,
                                       bool fsync) {
  if (loc.kind == Location::Kind::kLocal) return MakeLocalTree(fsync);
  std::string meta = loc.meta;
  if (meta.empty()) {
    ASSIGN_OR_RETURN(meta, ResolveMetaAddress(global));
  }
  ClientOptions options;
  options.meta_address = meta;
  auto client = Client::Connect(options);
  if (!client.ok()) return client.status().WithContext("cannot reach cluster granary://" + meta);
  // Connect may not talk to metad yet; one Stat tells an unreachable cluster
  // here rather than as a failure of every file.
  auto root = (*client)->Stat("/");
  if (!root.ok()) return root.status().WithContext("cannot reach cluster granary://" + meta);
  return MakeClusterTree(std::move(*client), meta, fsync);
}

// Where the source root lands. A folder becomes DST itself (its contents are
// merged into DST), so a rerun lands in the same place as the first run; a
// file goes into DST when DST is a folder or ends with '/'.
Result<std::string> DestinationRoot(Tree& src, const Location& s, const Entry& root, Tree& dst,
                                    const Location& d) {
  if (root.type == EntryType::kDirectory) return d.path;
  auto existing = dst.Stat(d.path);
  bool is_dir = existing.ok() && existing->type == EntryType::kDirectory;
  if (!is_dir && d.trailing_slash) {
    return Status::NotFound("destination folder " + dst.Describe(d.path) + " does not exist");
  }
  if (!is_dir) return d.path;
  return dst.Join(d.path, src.Split(s.path).second);
}

struct Tally {
  std::atomic<uint64_t> copied{0};
  std::atomic<uint64_t> skipped{0};
  std::atomic<uint64_t> failed{0};
  std::mutex mu;
  Status first_error;

  void Fail(const Status& s) {
    failed.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    std::fprintf(stderr, "granary: migrate: FAILED: %s\n", s.ToString().c_str());
    if (first_error.ok()) first_error = s;
  }
};

Status RunMigrate(const GlobalOptions& global, const MigrateFlags& f) {
  ASSIGN_OR_RETURN(Location s, ParseLocation(f.src));
  ASSIGN_OR_RETURN(Location d, ParseLocation(f.dst));
  uint64_t rate = 0;
  if (!f.bwlimit.empty()) {
    auto parsed = ParseSize(f.bwlimit);
    if (!parsed.ok()) return parsed.status().WithContext("--bwlimit");
    rate = *parsed;
  }
  bool fsync = !f.no_fsync;
  ASSIGN_OR_RETURN(auto src, OpenTree(global, s, fsync));
  ASSIGN_OR_RETURN(auto dst, OpenTree(global, d, fsync));

  auto root = src->Stat(s.path);
  if (!root.ok()) {
    if (root.status().code() == proto::NOT_FOUND) {
      return Status::NotFound("source " + src->Describe(s.path) + " does not exist");
    }
    return root.status().WithContext("source " + src->Describe(s.path));
  }
  if (root->type == EntryType::kOther) {
    return Status::InvalidArgument("source " + src->Describe(s.path) +
                                   " is not a file, folder or symlink");
  }
  ASSIGN_OR_RETURN(std::string dst_root, DestinationRoot(*src, s, *root, *dst, d));
  ASSIGN_OR_RETURN(Plan plan, PlanTree(*src, s.path, *root, *dst, dst_root, f.dry_run,
                                                f.delete_extraneous));

  Tally tally;
  for (const Status& e : plan.errors) tally.Fail(e);
  if (!f.dry_run) {
    for (const std::string& t : plan.stale_temps) (void)dst->Remove(t);
  }
  uint64_t total_bytes = 0, total_files = 0;
  for (const FileItem& item : plan.files) {
    if (!CopyJob::LooksComplete(item)) {
      total_bytes += item.source.size;
      ++total_files;
    }
  }
  TransferProgress progress("migrate", total_bytes, total_files, f.progress);
  RateLimiter limiter(rate);
  CopyOptions options{f.checksum, f.dry_run, geteuid() == 0};
  CopyJob job(*src, *dst, limiter, progress, options);
  std::mutex out_mu;

  // Every file is attempted; failures are reported as they happen and
  // counted, and the exit status says whether any occurred.
  (void)RunParallel(f.jobs, plan.files.size(), [&](size_t i) {
    const FileItem& item = plan.files[i];
    auto r = job.Copy(item);
    if (!r.ok()) {
      tally.Fail(r.status().WithContext("copying " + src->Describe(item.src) + " to " +
                                        dst->Describe(item.dst)));
      return Status::Ok();
    }
    (*r == Outcome::kCopied ? tally.copied : tally.skipped).fetch_add(1);
    if (f.dry_run) {
      std::lock_guard<std::mutex> lock(out_mu);
      std::string what = item.rel.empty() ? dst->Describe(item.dst) : item.rel;
      if (item.source.type == EntryType::kSymlink) what += " -> " + item.source.symlink_target;
      std::printf("%s %s\n", *r == Outcome::kCopied ? "copy" : "skip", what.c_str());
    }
    return Status::Ok();
  });
  // Only after the copies: a failed run must not have removed anything yet
  // whose replacement it did not write. (Names are removed even when some
  // copy failed: they are not in the source either way.)
  uint64_t deleted = 0;
  for (const Plan::Extra& x : plan.extraneous) {
    if (f.dry_run) {
      std::printf("delete %s%s\n", x.rel.c_str(), x.type == EntryType::kDirectory ? "/" : "");
      ++deleted;
      continue;
    }
    Status st = RemoveTree(*dst, x.dst, x.type);
    if (!st.ok()) {
      tally.Fail(st.WithContext("deleting " + dst->Describe(x.dst)));
    } else {
      ++deleted;
    }
  }
  // Children before parents: writing into a folder changes its mtime.
  for (auto it = plan.dirs.rbegin(); it != plan.dirs.rend(); ++it) {
    Status st = job.FinishDir(*it);
    if (!st.ok()) tally.Fail(st.WithContext("folder " + dst->Describe(it->dst)));
  }
  progress.Finish();
  double secs = progress.seconds();
  std::string deletions =
      f.delete_extraneous ? fmt::format(", {} deleted", deleted) : std::string();
  std::fprintf(stderr, "migrate%s: %lu copied, %lu skipped, %lu failed%s; %s in %.2f s (%s)\n",
               f.dry_run ? " (dry run)" : "", static_cast<unsigned long>(tally.copied.load()),
               static_cast<unsigned long>(tally.skipped.load()),
               static_cast<unsigned long>(tally.failed.load()), deletions.c_str(),
               FormatBytes(progress.bytes()).c_str(), secs,
               FormatRate(progress.bytes(), secs).c_str());
  if (tally.failed.load() > 0) {
    return Status::FromCode(tally.first_error.code(),
                            fmt::format("{} failed; the first: {}", tally.failed.load(),
                                        tally.first_error.message()));
  }
  return Status::Ok();
}

}  // namespace

void RegisterMigrate(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<MigrateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "migrate",
      "copy a file or folder tree between local paths, this cluster (granary:/PATH) and "
      "another cluster (granary://HOST:PORT/PATH); verified by checksum, resumable");
  cmd->add_option("SRC", flags->src, "local path, granary:/PATH or granary://HOST:PORT/PATH")
      ->required();
  cmd->add_option("DST", flags->dst,
                  "the same kinds; a folder SRC becomes DST (merged into it when it exists)")
      ->required();
  cmd->add_option("-j,--jobs", flags->jobs, "files copied in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--bwlimit", flags->bwlimit,
                  "bytes per second over all jobs, e.g. 50M (binary multiples; default: none)");
  cmd->add_flag("--checksum", flags->checksum,
                "skip a file only when its content checksum matches (default: size and mtime)");
  cmd->add_flag("-n,--dry-run", flags->dry_run, "list what would be copied or skipped; change nothing");
  cmd->add_flag("--progress", flags->progress, "show progress even when stderr is not a terminal");
  cmd->add_flag("--delete", flags->delete_extraneous,
                "remove what the destination folder holds and the source does not");
  cmd->add_flag("--no-fsync", flags->no_fsync,
                "do not make each file durable before it is renamed into place");
  cmd->callback([&ctx, flags] {
    ctx.Select("migrate", [&ctx, flags] { return RunMigrate(ctx.global(), *flags); });
  });
}

}  // namespace granary::tools
