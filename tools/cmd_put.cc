// granary put SRC DST: upload a local file, folder tree, or stdin.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/buffer.h"
#include "tools/command.h"
#include "tools/transfer.h"

namespace granary::tools {
namespace {

namespace fs = std::filesystem;

struct PutFlags {
  std::string src;
  std::string dst;
  size_t jobs = 4;
  bool no_fsync = false;
  uint32_t replicas = 0;
  std::string chunk_size;
};

struct FileJob {
  std::string local;
  std::string remote;
  uint64_t size = 0;
  uint32_t mode = 0644;
};

Status LocalError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
}

// Streams `fd` to a new remote file in kTransferBufferBytes writes.
Status Upload(Client& client, int fd, const std::string& remote, CreateOptions options,
              TransferProgress& progress) {
  ASSIGN_OR_RETURN(auto writer, client.Create(remote, options));
  Buffer buf(kTransferBufferBytes);
  bool eof = false;
  while (!eof) {
    size_t filled = 0;  // fill the buffer: pipes return short reads
    while (filled < buf.size()) {
      ssize_t n = read(fd, buf.data() + filled, buf.size() - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return LocalError("read", remote, errno);
      if (n == 0) {
        eof = true;
        break;
      }
      filled += static_cast<size_t>(n);
    }
    if (filled == 0) break;
    RETURN_IF_ERROR(writer->Write(ByteSpan(buf.data(), filled)).WithContext(remote));
    progress.AddBytes(filled);
  }
  RETURN_IF_ERROR(writer->Close().WithContext(remote));
  progress.FileDone();
  return Status::Ok();
}

Status UploadFile(Client& client, const FileJob& job, CreateOptions options,
                  TransferProgress& progress) {
  int fd = open(job.local.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return LocalError("open", job.local, errno);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  options.mode = job.mode;
  Status s = Upload(client, fd, job.remote, options, progress);
  close(fd);
  return s;
}

// Where SRC lands, cp-style: into DST when DST is an existing folder.
Result<std::string> Destination(Client& client, const std::string& dst, const std::string& name,
                                bool src_is_dir) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(dst));
  auto info = client.Stat(path);
  if (info.ok() && info->type == FileType::kDirectory) {
    if (name.empty()) {
      return Status::InvalidArgument("stdin needs a file name; " + path + " is a folder");
    }
    return JoinPath(path, name);
  }
  if (info.ok() && src_is_dir) return Status::NotDirectory(path + " exists and is not a folder");
  if (!info.ok() && info.status().code() != proto::NOT_FOUND) return info.status();
  if (info.ok() && dst.ends_with('/')) return Status::NotDirectory(path + " is not a folder");
  if (!info.ok() && dst.ends_with('/') && !src_is_dir) {
    return Status::NotFound("folder " + path + " does not exist");
  }
  return path;
}

// Creates `path` as a folder; an existing folder is fine (merge, like cp -r).
Status EnsureDir(Client& client, const std::string& path) {
  auto made = client.Mkdir(path);
  if (made.ok() || made.status().code() != proto::ALREADY_EXISTS) return made.status();
  ASSIGN_OR_RETURN(FileInfo info, client.Stat(path));
  if (info.type != FileType::kDirectory) return Status::NotDirectory(path + " is not a folder");
  return Status::Ok();
}

// Walks a local tree: creates its folders remotely (parents first) and
// returns its files. Symlinks to files are uploaded as files; others skipped.
Result<std::vector<FileJob>> PlanTree(Client& client, const fs::path& src,
                                      const std::string& root) {
  RETURN_IF_ERROR(EnsureDir(client, root));
  std::vector<FileJob> jobs;
  std::error_code ec;
  fs::recursive_directory_iterator it(src, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::string remote = JoinPath(root, e.path().lexically_relative(src).generic_string());
    fs::file_status st = e.status(ec);
    if (ec) break;
    if (e.is_symlink(ec) && st.type() != fs::file_type::regular) {
      std::fprintf(stderr, "granary: put: skipping symlink %s\n", e.path().c_str());
    } else if (st.type() == fs::file_type::directory) {
      RETURN_IF_ERROR(EnsureDir(client, remote));
    } else if (st.type() == fs::file_type::regular) {
      uint32_t mode = static_cast<uint32_t>(st.permissions()) & 0777;
      jobs.push_back({e.path().string(), remote, e.file_size(ec), mode});
    } else {
      std::fprintf(stderr, "granary: put: skipping special file %s\n", e.path().c_str());
    }
  }
  if (ec) return Status::IoError("reading " + src.string() + ": " + ec.message());
  // Largest first, so one big file does not start last and run alone.
  std::sort(jobs.begin(), jobs.end(),
            [](const FileJob& a, const FileJob& b) { return a.size > b.size; });
  return jobs;
}

Status RunPut(const GlobalOptions& global, const PutFlags& f) {
  CreateOptions options;
  options.fsync_on_close = !f.no_fsync;
  options.replicas = f.replicas;
  if (!f.chunk_size.empty()) {
    ASSIGN_OR_RETURN(options.chunk_size, ParseSize(f.chunk_size));
  }

  struct stat st {};
  bool from_stdin = f.src == "-";
  if (!from_stdin && stat(f.src.c_str(), &st) != 0) return LocalError("cannot read", f.src, errno);
  bool is_dir = !from_stdin && S_ISDIR(st.st_mode);
  if (!from_stdin && !is_dir && !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(f.src + " is not a regular file or folder");
  }
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  std::string name;
  if (!from_stdin) {
    fs::path p = fs::absolute(f.src).lexically_normal();  // "dir/." -> "/cwd/dir/"
    if (p.filename().empty()) p = p.parent_path();
    name = p.filename().string();
  }
  ASSIGN_OR_RETURN(std::string target, Destination(*client, f.dst, name, is_dir));

  std::vector<FileJob> jobs;
  if (from_stdin) {
    TransferProgress progress("put", 0, 1);
    RETURN_IF_ERROR(Upload(*client, STDIN_FILENO, target, options, progress));
    progress.Finish();
    std::fprintf(stderr, "%s\n", progress.Summary().c_str());
    return Status::Ok();
  }
  if (is_dir) {
    ASSIGN_OR_RETURN(jobs, PlanTree(*client, f.src, target));
  } else {
    jobs.push_back({f.src, target, static_cast<uint64_t>(st.st_size), st.st_mode & 0777u});
  }
  uint64_t total = 0;
  for (const FileJob& j : jobs) total += j.size;
  TransferProgress progress("put", total, jobs.size());
  Status s = RunParallel(f.jobs, jobs.size(),
                         [&](size_t i) { return UploadFile(*client, jobs[i], options, progress); });
  progress.Finish();
  std::fprintf(stderr, "%s\n", progress.Summary().c_str());
  return s;
}

}  // namespace

void RegisterPut(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<PutFlags>();
  CLI::App* cmd = app.add_subcommand(
      "put",
      "upload a file or folder (recursively); SRC '-' reads stdin. Into DST when DST "
      "is an existing folder, like cp");
  cmd->add_option("SRC", flags->src, "local file or folder, or '-'")->required();
  cmd->add_option("DST", flags->dst, "cluster path")->required();
  cmd->add_option("-j,--jobs", flags->jobs, "files uploaded in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--no-fsync", flags->no_fsync, "do not wait for data to reach disk on close");
  cmd->add_option("--replicas", flags->replicas, "replication factor (default: inherit)")
      ->check(CLI::Range(1, 16));
  cmd->add_option("--chunk-size", flags->chunk_size, "chunk size, e.g. 64M (default: inherit)");
  cmd->callback(
      [&ctx, flags] { ctx.Select("put", [&ctx, flags] { return RunPut(ctx.global(), *flags); }); });
}

}  // namespace granary::tools
