#include "tools/backup/backup_run.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "tools/backup/checkpoint.h"
#include "tools/content_hash.h"
#include "tools/backup/pool.h"
#include "tools/cli_util.h"
#include "tools/transfer.h"

namespace granary::tools::backup {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kListPage = 1000;
constexpr uint64_t kMetadataPageBytes = 2u << 20;

// Renews the session every third of its lease on a thread of its own, so a
// slow copy never lets it lapse; remembers the first failure (the session
// is gone and deletions may have resumed: the run must fail).
class SessionKeeper {
 public:
  SessionKeeper(Client& client, BackupSession session)
      : client_(client), session_(session), thread_([this] { Loop(); }) {}
  ~SessionKeeper() { Stop(); }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    Status st = client_.BackupEnd(session_.id);
    std::lock_guard lock(mu_);
    if (!st.ok() && error_.ok()) error_ = st;
  }
  Status error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void Loop() {
    const auto period = std::chrono::milliseconds(std::max<uint64_t>(session_.lease_ms / 3, 100));
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      Status st = client_.BackupRenew(session_.id);
      lock.lock();
      if (!st.ok() && error_.ok()) error_ = st;
    }
  }

  Client& client_;
  const BackupSession session_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  Status error_;
  std::thread thread_;
};

std::string RunName(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(unix_ms % 1000));
}

TimeSpec Ts(int64_t sec, uint32_t nsec) { return TimeSpec{sec, nsec}; }

ManifestEntry ToManifestEntry(const BackupEntry& e) {
  ManifestEntry m;
  m.path = e.path;
  m.type = e.info.type;
  m.mode = e.info.mode;
  m.uid = e.info.uid;
  m.gid = e.info.gid;
  m.atime = Ts(e.info.atime_sec, e.info.atime_nsec);
  m.mtime = Ts(e.info.mtime_sec, e.info.mtime_nsec);
  m.ctime = Ts(e.info.ctime_sec, e.info.ctime_nsec);
  m.size = e.info.size;
  m.replicas = e.info.replicas;
  m.chunk_size = e.info.chunk_size;
  m.codec = e.info.codec;
  m.symlink_target = e.info.symlink_target;
  m.xattrs = e.xattrs;
  return m;
}

// What a file's contents depend on: equal signatures, equal contents (chunk
// versions are immutable), so a checksum from an earlier run can be reused.
std::string Signature(const ManifestEntry& e) {
  std::string s = fmt::format("{}|{}|{}", e.size, e.chunk_size, e.inline_object);
  for (const ManifestChunk& c : e.chunks) {
    s += fmt::format("|{}:{}:{}:{}", c.index, c.chunk_id, c.version, c.length);
  }
  return s;
}

// Checksums of the latest published run, by path and signature.
std::unordered_map<std::string, std::string> PreviousChecksums(const std::string& dest) {
  std::unordered_map<std::string, std::string> out;
  auto runs = ListRuns(dest);
  if (!runs.ok() || runs->empty()) return out;
  auto text = ReadLocalFile(dest + "/backups/" + runs->back() + "/manifest.json", 1ull << 32);
  if (!text.ok()) return out;
  auto m = ParseManifest(*text);
  if (!m.ok() || m->metadata_only) return out;
  for (const ManifestEntry& e : m->entries) {
    if (e.type == FileType::kFile && !e.xxh128.empty()) {
      out[e.path + "\n" + Signature(e)] = e.xxh128;
    }
  }
  return out;
}

// One chunk object to fill: the chunk as the snapshot names it.
struct CopyJob {
  std::string object;
  ChunkLocation chunk;
  uint64_t chunk_size = 0;
};

// Reads the chunk into `data`, a buffer each worker keeps: a fresh 64 MiB
// string per chunk cost a zero fill and a page fault per page, about half
// of a backup's time in a profile.
Status ReadChunk(Client& client, const CopyJob& job, std::string& data) {
  ASSIGN_OR_RETURN(auto reader, client.OpenChunk(job.chunk, job.chunk_size));
  data.resize(static_cast<size_t>(job.chunk.length));
  uint64_t done = 0;
  while (done < data.size()) {
    // The whole rest in one read: the client fans it out over the chunk's
    // blocks at once, each straight into `data` (no read-ahead cache).
    const size_t want = static_cast<size_t>(data.size() - done);
    ASSIGN_OR_RETURN(size_t n,
                     reader->PRead(done, MutableByteSpan(
                                             reinterpret_cast<uint8_t*>(data.data()) + done, want)));
    if (n == 0) break;
    done += n;
  }
  if (done != data.size()) {
    return Status::Corruption(fmt::format("chunk {} v{}: read {} of {} bytes", job.chunk.chunk_id,
                                          job.chunk.version, done, data.size()));
  }
  return Status::Ok();
}

// The XXH3-128 of a file's contents from the pool objects it names.
Result<std::string> ChecksumFromPool(const ChunkPool& pool, const ManifestEntry& e) {
  ContentHasher h;
  if (e.has_inline) {
    ASSIGN_OR_RETURN(std::string_view raw, pool.Get(e.inline_object));
    const uint64_t n = std::min<uint64_t>(raw.size(), e.size);
    h.Update(raw.substr(0, n));
  }
  for (const ManifestChunk& c : e.chunks) {
    const uint64_t start = c.index * e.chunk_size;
    if (start >= e.size) break;
    ASSIGN_OR_RETURN(std::string_view raw, pool.Get(c.object));
    if (start > h.fed()) h.UpdateZeros(start - h.fed());
    const uint64_t n = std::min({static_cast<uint64_t>(raw.size()), c.length, e.size - start});
    h.Update(raw.substr(0, n));
  }
  if (h.fed() < e.size) h.UpdateZeros(e.size - h.fed());
  return h.HexDigest();
}

}  // namespace

Result<std::vector<std::string>> ListRuns(const std::string& dest) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path dir = fs::path(dest) / "backups";
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    // Unpublished runs start with '.'.
    if (e.is_directory() && !name.starts_with(".")) out.push_back(name);
  }
  if (ec) return Status::IoError("listing " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<RunRef> OpenRun(const std::string& dest, const std::string& name) {
  RunRef run;
  run.name = name;
  if (run.name.empty()) {
    ASSIGN_OR_RETURN(std::vector<std::string> runs, ListRuns(dest));
    if (runs.empty()) return Status::NotFound("no backup under " + dest + "/backups");
    run.name = runs.back();
  }
  if (run.name.find('/') != std::string::npos) {
    return Status::InvalidArgument("--backup takes a run name, not a path: " + run.name);
  }
  run.dir = dest + "/backups/" + run.name;
  ASSIGN_OR_RETURN(std::string text, ReadLocalFile(run.dir + "/manifest.json", kMaxManifestBytes));
  ASSIGN_OR_RETURN(run.manifest, ParseManifest(text));
  return run;
}

Result<Manifest> RunBackup(Client& client, const BackupOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::string subtree, NormalizePath(options.path));
  ASSIGN_OR_RETURN(ChunkPool pool, ChunkPool::Open(options.dest + "/pool"));
  std::error_code ec;
  fs::create_directories(options.dest + "/backups", ec);
  if (ec) return Status::IoError("creating " + options.dest + "/backups: " + ec.message());
  const auto previous = PreviousChecksums(options.dest);

  ASSIGN_OR_RETURN(BackupSession session, client.BackupBegin(options.lease_ms));
  SessionKeeper keeper(client, session);

  Manifest m;
  m.name = RunName(session.snapshot_unix_ms);
  m.source_path = subtree;
  m.snapshot_unix_ms = session.snapshot_unix_ms;
  m.metadata_only = options.metadata_only;
  m.metadata_file = "metadata.ckpt";
  const std::string tmp_dir = options.dest + "/backups/." + m.name + ".tmp";
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec) return Status::IoError("creating " + tmp_dir + ": " + ec.message());

  // 1. The namespace as of the snapshot, and the inline contents.
  std::map<std::string, CopyJob> jobs;  // by object name: each chunk version once
  bool started = false;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(BackupPage page,
                     client.BackupList(session.id, subtree, started, after, kListPage));
    for (BackupEntry& e : page.entries) {
      ManifestEntry me = ToManifestEntry(e);
      if (e.info.type == FileType::kFile) {
        ++m.summary.files;
        m.summary.bytes += e.info.size;
        for (const ChunkLocation& c : e.chunks) {
          ManifestChunk mc{c.chunk_index, c.chunk_id, c.version, c.length, c.stored_length, {}, {}};
          for (const ReplicaInfo& r : c.replicas) mc.replicas.push_back(r.node_id);
          if (!options.metadata_only) {
            mc.object = ChunkPool::ChunkObjectName(c.chunk_id, c.version);
            CopyJob& job = jobs[mc.object];
            // The same version may be listed twice with different lengths
            // only after a truncate cut it: keep the longest.
            if (job.object.empty() || c.length > job.chunk.length) {
              job = CopyJob{mc.object, c, e.info.chunk_size};
            }
          }
          me.chunks.push_back(std::move(mc));
          ++m.summary.chunks;
        }
        if (e.has_inline_data && !options.metadata_only) {
          me.has_inline = true;
          me.inline_object = ChunkPool::InlineObjectName(Xxh128Hex(e.inline_data));
          if (!pool.StoredRawLength(me.inline_object).ok()) {
            ASSIGN_OR_RETURN(uint64_t written, pool.Put(me.inline_object, e.inline_data));
            ++m.summary.objects_copied;
            m.summary.bytes_copied += e.inline_data.size();
            m.summary.object_bytes_written += written;
          }
        }
      } else if (e.info.type == FileType::kDirectory) {
        ++m.summary.folders;
      } else if (e.info.type == FileType::kSymlink) {
        ++m.summary.symlinks;
      }
      m.entries.push_back(std::move(me));
    }
    if (!page.more) break;
    started = true;
    if (!page.entries.empty()) after = page.entries.back().path;
  }

  // 2. Chunk versions not yet in the pool, copied in parallel. An object that
  // exists is complete (renamed into place after fsync); it only needs a
  // rewrite if it holds fewer bytes than this snapshot names.
  std::vector<const CopyJob*> todo;
  for (const auto& [name, job] : jobs) {
    auto have = pool.StoredRawLength(name);
    if (have.ok() && *have >= job.chunk.length) {
      ++m.summary.objects_reused;
    } else {
      todo.push_back(&job);
    }
  }
  std::mutex mu;
  TransferProgress progress("backup", 0, todo.size());
  RETURN_IF_ERROR(RunParallel(options.jobs, todo.size(), [&](size_t i) -> Status {
    RETURN_IF_ERROR(keeper.error());
    const CopyJob& job = *todo[i];
    thread_local std::string data;
    RETURN_IF_ERROR(ReadChunk(client, job, data));
    ASSIGN_OR_RETURN(uint64_t written, pool.Put(job.object, data));
    progress.AddBytes(data.size());
    progress.FileDone();
    std::lock_guard lock(mu);
    ++m.summary.objects_copied;
    m.summary.bytes_copied += data.size();
    m.summary.object_bytes_written += written;
    return Status::Ok();
  }));
  progress.Finish();

  // 3. The metadata checkpoint, from the same snapshot.
  {
    ASSIGN_OR_RETURN(auto ckpt, CheckpointWriter::Create(tmp_dir + "/" + m.metadata_file));
    bool md_started = false;
    std::string after_key;
    for (;;) {
      ASSIGN_OR_RETURN(MetadataPage page, client.BackupMetadata(session.id, md_started, after_key,
                                                                kMetadataPageBytes));
      for (const auto& [k, v] : page.pairs) RETURN_IF_ERROR(ckpt->Add(k, v));
      if (!page.pairs.empty()) after_key = page.pairs.back().first;
      md_started = true;
      if (!page.more) break;
    }
    RETURN_IF_ERROR(ckpt->Close());
    m.summary.metadata_pairs = ckpt->records();
    m.summary.metadata_bytes = ckpt->bytes();
    m.metadata_xxh128 = ckpt->xxh128();
  }
  // Every read of the cluster is done: release the snapshot and the hold.
  keeper.Stop();
  RETURN_IF_ERROR(keeper.error());

  // 4. Content checksums, from the pool (what a restore will read), reusing
  // the last run's for files whose chunk versions did not change.
  if (!options.metadata_only) {
    std::vector<ManifestEntry*> files;
    for (ManifestEntry& e : m.entries) {
      if (e.type != FileType::kFile) continue;
      auto it = previous.find(e.path + "\n" + Signature(e));
      if (it != previous.end()) {
        e.xxh128 = it->second;
      } else {
        files.push_back(&e);
      }
    }
    RETURN_IF_ERROR(RunParallel(options.jobs, files.size(), [&](size_t i) -> Status {
      ASSIGN_OR_RETURN(files[i]->xxh128, ChecksumFromPool(pool, *files[i]));
      return Status::Ok();
    }));
  }

  // 5. Publish: objects durable, then the run folder renamed into place.
  // Two runs within one millisecond get distinct names.
  std::string final_dir = options.dest + "/backups/" + m.name;
  for (int n = 2; fs::exists(final_dir, ec); ++n) {
    final_dir = options.dest + "/backups/" + m.name + "-" + std::to_string(n);
  }
  m.name = fs::path(final_dir).filename().string();
  m.summary.seconds = SecondsSince(start);
  RETURN_IF_ERROR(pool.SyncFolders());
  RETURN_IF_ERROR(WriteFileAtomic(tmp_dir + "/manifest.json", ToJson(m)));
  RETURN_IF_ERROR(WriteFileAtomic(tmp_dir + "/summary.json", SummaryJson(m.summary)));
  RETURN_IF_ERROR(SyncFolder(tmp_dir));
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) return Status::IoError("publishing " + final_dir + ": " + ec.message());
  RETURN_IF_ERROR(SyncFolder(options.dest + "/backups"));
  return m;
}

}  // namespace granary::tools::backup
