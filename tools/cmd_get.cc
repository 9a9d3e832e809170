// granary get SRC DST: download a file or folder tree; DST '-' is stdout.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <new>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "common/huge_pages.h"
#include "tools/command.h"
#include "tools/transfer.h"

namespace granary::tools {
namespace {

namespace fs = std::filesystem;

// Large ranges let the client fan one PRead out over many chunks and replicas.
constexpr size_t kReadBytes = 2 * kTransferBufferBytes;
// Ranges read at once per file: enough to keep the reader busy while one is
// written out, without holding much memory per file (4 x 16 MiB).
constexpr size_t kReadsInFlight = 4;
// Files up to this size are read in one go on the calling thread.
constexpr uint64_t kSmallFile = 4u << 20;

struct GetFlags {
  std::string src;
  std::string dst;
  size_t jobs = 4;
  bool fsync = false;
};

struct FileJob {
  std::string remote;
  std::string local;
  uint64_t size = 0;
  uint32_t mode = 0644;
};

Status LocalError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
}

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& name) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return LocalError("write", name, errno);
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Copies a remote file's contents to `fd` in large positional reads, a few
// in flight: while one range is written out, the next ones are being read,
// each straight into its own buffer (the reader's read-ahead is off, so no
// block is copied through its cache on the way).
Status Download(Client& client, const std::string& remote, int fd, const std::string& name,
                TransferProgress& progress) {
  ASSIGN_OR_RETURN(auto reader, client.Open(remote, ReadOptions{.readahead = false}));
  const uint64_t size = reader->size();
  if (size <= kSmallFile) {
    // One read on this thread: no helper threads, no huge pages to clear.
    Buffer buf(static_cast<size_t>(size));
    RETURN_IF_ERROR(ReadExactly(*reader, 0, buf.span()).WithContext(remote));
    RETURN_IF_ERROR(WriteAll(fd, buf.data(), buf.size(), name));
    progress.AddBytes(size);
    progress.FileDone();
    return Status::Ok();
  }
  const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kReadBytes, size));
  // Buffers in huge pages (common/huge_pages.h): first touch costs 8 faults
  // per range instead of 4096.
  struct Range {
    std::shared_ptr<uint8_t> buf;
    uint64_t offset = 0;
    std::future<Result<size_t>> done;
  };
  std::deque<Range> inflight;
  std::vector<std::shared_ptr<uint8_t>> spare;
  uint64_t next = 0;
  auto launch = [&]() -> Status {
    Range r;
    if (!spare.empty()) {
      r.buf = std::move(spare.back());
      spare.pop_back();
    } else {
      r.buf = MapHugePages(chunk);
      if (!r.buf) return Status::ResourceExhausted("cannot map a read buffer of " + FormatBytes(chunk));
    }
    r.offset = next;
    const size_t len = static_cast<size_t>(std::min<uint64_t>(chunk, size - next));
    next += len;
    FileReader* rd = reader.get();
    uint8_t* p = r.buf.get();
    r.done = std::async(std::launch::async, [rd, p, len, off = r.offset]() -> Result<size_t> {
      Status st = ReadExactly(*rd, off, MutableByteSpan(p, len));
      if (!st.ok()) return st;
      return len;
    });
    inflight.push_back(std::move(r));
    return Status::Ok();
  };
  Status result;
  while (true) {
    while (result.ok() && inflight.size() < kReadsInFlight && next < size) result = launch();
    if (inflight.empty()) break;
    Range r = std::move(inflight.front());
    inflight.pop_front();
    Result<size_t> n = r.done.get();  // every read is waited for, even after a failure
    if (!result.ok()) continue;
    if (!n.ok()) {
      result = n.status().WithContext(remote);
      continue;
    }
    result = WriteAll(fd, r.buf.get(), *n, name);
    if (result.ok()) progress.AddBytes(*n);
    spare.push_back(std::move(r.buf));
  }
  RETURN_IF_ERROR(result);
  progress.FileDone();
  return Status::Ok();
}

// Writes into a temporary file beside job.local, then renames it into place,
// so a failed download never leaves a truncated file under the real name.
// A destination that exists and is not a regular file (/dev/null, a FIFO, a
// terminal) is written in place: renaming over it would replace the device.
Status DownloadFile(Client& client, const FileJob& job, bool fsync, TransferProgress& progress) {
  struct stat st {};
  if (::stat(job.local.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    int fd = ::open(job.local.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return LocalError("open", job.local, errno);
    Status s = Download(client, job.remote, fd, job.local, progress);
    if (close(fd) != 0 && s.ok()) s = LocalError("close", job.local, errno);
    return s;
  }
  fs::path local(job.local);
  std::string tmp =
      (local.parent_path() / ("." + local.filename().string() + ".granary-XXXXXX")).string();
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return LocalError("create", tmp, errno);
  Status s = Download(client, job.remote, fd, job.local, progress);
  if (s.ok() && fchmod(fd, job.mode) != 0) s = LocalError("chmod", tmp, errno);
  if (s.ok() && fsync && ::fsync(fd) != 0) s = LocalError("fsync", tmp, errno);
  if (close(fd) != 0 && s.ok()) s = LocalError("close", tmp, errno);
  if (s.ok() && rename(tmp.c_str(), job.local.c_str()) != 0) s = LocalError("rename", tmp, errno);
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

Status EnsureLocalDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return Status::Ok();
  int err = errno;
  struct stat st {};
  if (err == EEXIST && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
  return LocalError("mkdir", path, err);
}

// Walks a remote tree, creating local folders (parents first) and collecting
// the files to fetch.
Status PlanTree(Client& client, const std::string& remote, const std::string& local,
                std::vector<FileJob>& jobs) {
  RETURN_IF_ERROR(EnsureLocalDir(local));
  ASSIGN_OR_RETURN(auto entries, client.ReadDir(remote));
  for (const DirEntryInfo& e : entries) {
    std::string r = JoinPath(remote, e.name);
    std::string l = local + "/" + e.name;
    if (e.info.type == FileType::kDirectory) {
      RETURN_IF_ERROR(PlanTree(client, r, l, jobs));
    } else if (e.info.type == FileType::kFile) {
      jobs.push_back({r, l, e.info.size, e.info.mode & 0777u});
    } else {
      std::fprintf(stderr, "granary: get: skipping %s (%s)\n", r.c_str(),
                   std::string(FileTypeName(e.info.type)).c_str());
    }
  }
  return Status::Ok();
}

Status RunGet(const GlobalOptions& global, const GetFlags& f) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  ASSIGN_OR_RETURN(std::string src, NormalizePath(f.src));
  ASSIGN_OR_RETURN(FileInfo info, client->Stat(src));
  bool is_dir = info.type == FileType::kDirectory;

  if (f.dst == "-") {
    if (is_dir) return Status::IsDirectory(src + " is a folder; cannot write it to stdout");
    TransferProgress progress("get", info.size, 1);
    Status s = Download(*client, src, STDOUT_FILENO, "stdout", progress);
    progress.Finish();
    std::fprintf(stderr, "%s\n", progress.Summary().c_str());
    return s;
  }
  // cp-style destination: into DST when it is an existing folder.
  std::string target = f.dst;
  struct stat st {};
  if (stat(f.dst.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::string name = RemoteBasename(src);
    if (!name.empty()) target = (fs::path(f.dst) / name).string();
  } else if (is_dir && stat(f.dst.c_str(), &st) == 0) {
    return Status::NotDirectory(f.dst + " exists and is not a folder");
  } else if (f.dst.ends_with('/') && !is_dir) {
    return Status::NotFound("folder " + f.dst + " does not exist");
  }

  std::vector<FileJob> jobs;
  if (is_dir) {
    RETURN_IF_ERROR(PlanTree(*client, src, target, jobs));
    std::sort(jobs.begin(), jobs.end(),
              [](const FileJob& a, const FileJob& b) { return a.size > b.size; });
  } else {
    jobs.push_back({src, target, info.size, info.mode & 0777u});
  }
  uint64_t total = 0;
  for (const FileJob& j : jobs) total += j.size;
  TransferProgress progress("get", total, jobs.size());
  Status s = RunParallel(f.jobs, jobs.size(), [&](size_t i) {
    return DownloadFile(*client, jobs[i], f.fsync, progress);
  });
  progress.Finish();
  std::fprintf(stderr, "%s\n", progress.Summary().c_str());
  return s;
}

}  // namespace

void RegisterGet(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<GetFlags>();
  CLI::App* cmd = app.add_subcommand(
      "get",
      "download a file or folder (recursively); DST '-' writes stdout. Into DST when "
      "DST is an existing folder, like cp");
  cmd->add_option("SRC", flags->src, "cluster path")->required();
  cmd->add_option("DST", flags->dst, "local file or folder, or '-'")->required();
  cmd->add_option("-j,--jobs", flags->jobs, "files downloaded in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--fsync", flags->fsync, "fsync each local file before renaming it into place");
  cmd->callback(
      [&ctx, flags] { ctx.Select("get", [&ctx, flags] { return RunGet(ctx.global(), *flags); }); });
}

}  // namespace granary::tools
