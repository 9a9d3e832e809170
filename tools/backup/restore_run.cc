#include "tools/backup/restore_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <mutex>
#include <unordered_map>

#include "tools/backup/backup_run.h"
#include "tools/content_hash.h"
#include "tools/backup/manifest.h"
#include "tools/backup/pool.h"
#include "tools/cli_util.h"
#include "tools/transfer.h"

namespace granary::tools::backup {
namespace {

constexpr size_t kVerifyBytes = 16u << 20;

ByteSpan Bytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Target(const std::string& root, const std::string& rel) {
  return rel.empty() ? root : JoinPath(root, rel);
}

// Writes `count` zero bytes.
Status WriteZeros(FileWriter& w, uint64_t count) {
  static const std::string zeros(kTransferBufferBytes, '\0');
  while (count > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(count, zeros.size()));
    RETURN_IF_ERROR(w.Write(Bytes(std::string_view(zeros).substr(0, n))));
    count -= n;
  }
  return Status::Ok();
}

AttrChanges Attrs(const ManifestEntry& e, bool with_mode) {
  AttrChanges a;
  if (with_mode) a.mode = e.mode;
  a.uid = e.uid;
  a.gid = e.gid;
  a.atime = e.atime;
  a.mtime = e.mtime;
  return a;
}

Status SetXattrs(Client& client, uint64_t inode, const ManifestEntry& e) {
  for (const BackupXattr& x : e.xattrs) {
    RETURN_IF_ERROR(client.SetXattr(inode, x.name, Bytes(x.value), XattrMode::kAny,
                                    Durability::kSynced)
                        .WithContext("xattr " + x.name));
  }
  return Status::Ok();
}

// The file's bytes from the pool through the normal writer: chunks in order,
// holes and the tail past the last chunk as zeros.
Status WriteFile(Client& client, const ChunkPool& pool, const ManifestEntry& e,
                 const std::string& path, uint32_t replicas, const std::string& parent_codec,
                 bool force) {
  CreateOptions co;
  co.mode = e.mode;
  co.exclusive = !force;
  co.replicas = replicas;
  co.chunk_size = e.chunk_size;
  co.fsync_on_close = true;  // as granary put: restored data is on disk when the run reports it
  if (e.codec != parent_codec) {
    // The codec is inherited at create time: make the empty file, set its
    // codec, then open it again for the data.
    ASSIGN_OR_RETURN(auto w, client.Create(path, co));
    RETURN_IF_ERROR(w->Close());
    LayoutChanges lc;
    lc.codec = e.codec;
    RETURN_IF_ERROR(client.SetLayout(path, lc).status());
    co.exclusive = false;
  }
  ASSIGN_OR_RETURN(auto w, client.Create(path, co));
  uint64_t pos = 0;
  if (e.has_inline) {
    ASSIGN_OR_RETURN(std::string_view raw, pool.Get(e.inline_object));
    const uint64_t n = std::min<uint64_t>(raw.size(), e.size);
    RETURN_IF_ERROR(w->Write(Bytes(raw.substr(0, n))));
    pos = n;
  }
  for (const ManifestChunk& c : e.chunks) {
    const uint64_t start = c.index * e.chunk_size;
    if (start >= e.size) break;
    if (start < pos) return Status::Corruption("chunks out of order in the manifest");
    ASSIGN_OR_RETURN(std::string_view raw, pool.Get(c.object));
    if (raw.size() < std::min(c.length, e.size - start)) {
      return Status::Corruption(fmt::format("object {} holds {} bytes, the manifest needs {}",
                                            c.object, raw.size(), c.length));
    }
    RETURN_IF_ERROR(WriteZeros(*w, start - pos));
    const uint64_t n = std::min({static_cast<uint64_t>(raw.size()), c.length, e.size - start});
    RETURN_IF_ERROR(w->Write(Bytes(raw.substr(0, n))));
    pos = start + n;
  }
  RETURN_IF_ERROR(WriteZeros(*w, e.size - pos));
  return w->Close();
}

// Reads the restored file back from the cluster and compares its checksum.
Status VerifyFile(Client& client, const ManifestEntry& e, const std::string& path) {
  ASSIGN_OR_RETURN(auto reader, client.Open(path));
  if (reader->size() != e.size) {
    return Status::Corruption(
        fmt::format("restored size {} differs from the backup's {}", reader->size(), e.size));
  }
  ContentHasher h;
  std::string buf(static_cast<size_t>(std::min<uint64_t>(kVerifyBytes, std::max<uint64_t>(e.size, 1))),
                  '\0');
  while (h.fed() < e.size) {
    ASSIGN_OR_RETURN(size_t n, reader->PRead(h.fed(), MutableByteSpan(
                                                          reinterpret_cast<uint8_t*>(buf.data()),
                                                          buf.size())));
    if (n == 0) return Status::Corruption("restored file ends early");
    h.Update(std::string_view(buf.data(), n));
  }
  if (h.HexDigest() != e.xxh128) {
    return Status::Corruption("content checksum " + h.HexDigest() + " differs from the backup's " +
                              e.xxh128);
  }
  return Status::Ok();
}

}  // namespace

Result<RestoreReport> RunRestore(Client& client, const RestoreOptions& options) {
  RestoreReport report;
  // 1. The run and its manifest.
  ASSIGN_OR_RETURN(RunRef run, OpenRun(options.src, options.backup));
  report.backup = run.name;
  Manifest& m = run.manifest;
  if (m.metadata_only) {
    return Status::InvalidArgument("backup " + report.backup +
                                   " was taken with --metadata-only: it holds no file data "
                                   "(--metadata-to DIR loads its metadata into a new metad)");
  }
  ASSIGN_OR_RETURN(ChunkPool pool, ChunkPool::Open(options.src + "/pool"));
  ASSIGN_OR_RETURN(report.path, NormalizePath(options.path.empty() ? m.source_path : options.path));
  if (m.entries.empty() || !m.entries.front().path.empty()) {
    return Status::Corruption("manifest of " + report.backup + " does not start at its root");
  }

  // 2. Refuse to mix with what is there, unless --force.
  auto existing = client.Stat(report.path);
  if (existing.ok() && !options.force) {
    bool empty_dir = false;
    if (existing->type == FileType::kDirectory) {
      ASSIGN_OR_RETURN(auto listing, client.ReadDir(report.path));
      empty_dir = listing.empty();
    }
    if (!empty_dir || m.entries.front().type != FileType::kDirectory) {
      return Status::AlreadyExists(report.path +
                                   " exists and is not an empty folder (use --force to restore "
                                   "over it)");
    }
  } else if (!existing.ok() && existing.status().code() != proto::NOT_FOUND) {
    return existing.status();
  }
  if (report.path != "/") {
    ASSIGN_OR_RETURN(auto parent, SplitParent(report.path));
    if (parent.first != "/") {
      auto made = client.Mkdir(parent.first, 0755, /*parents=*/true);
      if (!made.ok() && made.status().code() != proto::ALREADY_EXISTS) return made.status();
    }
  }

  // A smaller cluster may have fewer servers than a file's replication
  // factor; such files get every server instead of failing.
  ASSIGN_OR_RETURN(std::vector<NodeStatus> nodes, client.ListNodes());
  const uint32_t up = static_cast<uint32_t>(
      std::count_if(nodes.begin(), nodes.end(), [](const NodeStatus& n) { return n.up && !n.draining; }));
  std::atomic<bool> capped{false};  // set from the file threads too
  auto replicas_for = [&](uint32_t r) {
    if (up > 0 && r > up) {
      capped = true;
      return up;
    }
    return r;
  };

  const auto write_start = std::chrono::steady_clock::now();
  std::mutex mu;
  auto fail = [&](const std::string& path, const Status& st) {
    std::lock_guard lock(mu);
    report.failures.push_back(path + ": " + st.ToString());
  };

  // 3. Folders (parents first) and symlinks, in manifest order. A folder's
  // layout settings are set before anything is created in it, so files
  // inherit them as they did in the source.
  std::unordered_map<std::string, const ManifestEntry*> by_path;
  for (const ManifestEntry& e : m.entries) by_path[e.path] = &e;
  auto parent_of = [](const std::string& rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
  };
  std::vector<const ManifestEntry*> files;
  for (const ManifestEntry& e : m.entries) {
    const std::string path = Target(report.path, e.path);
    if (e.type == FileType::kFile) {
      files.push_back(&e);
      continue;
    }
    Status st;
    if (e.type == FileType::kDirectory) {
      // The restore root may already be there (an empty folder, "/", or
      // anything with --force): reuse it.
      auto made = client.Stat(path);
      if (!made.ok() || made->type != FileType::kDirectory) made = client.Mkdir(path, e.mode);
      st = made.status();
      if (st.ok()) {
        LayoutChanges lc;
        lc.replicas = replicas_for(e.replicas);
        lc.chunk_size = e.chunk_size;
        lc.codec = e.codec;
        st = client.SetLayout(path, lc).status();
      }
      if (st.ok()) st = SetXattrs(client, made->inode, e);
      if (st.ok()) ++report.folders;
    } else {
      auto parent = SplitParent(path);
      st = parent.status();
      if (st.ok() && options.force) {
        auto old = client.Stat(path);
        if (old.ok()) st = client.Unlink(path);
      }
      Result<FileInfo> dir = st.ok() ? client.Stat(parent->first) : Result<FileInfo>(st);
      st = dir.status();
      if (st.ok()) {
        auto link = client.SymlinkAt(dir->inode, parent->second, e.symlink_target,
                                     Credentials{e.uid, e.gid}, Durability::kSynced);
        st = link.status();
        if (st.ok()) st = client.SetAttrAt(link->inode, Attrs(e, false), Durability::kSynced).status();
        if (st.ok()) st = SetXattrs(client, link->inode, e);
      }
      if (st.ok()) ++report.symlinks;
    }
    if (!st.ok()) {
      if (e.type == FileType::kDirectory) {
        // Nothing below a folder that could not be made can be restored.
        return st.WithContext("restoring folder " + path);
      }
      fail(path, st);
    }
  }

  // 4. Files in parallel: data, then owner, mode, times, attributes.
  TransferProgress progress("restore", m.summary.bytes, files.size());
  Status pst = RunParallel(options.jobs, files.size(), [&](size_t i) -> Status {
    const ManifestEntry& e = *files[i];
    const std::string path = Target(report.path, e.path);
    auto pit = by_path.find(parent_of(e.path));
    const std::string parent_codec =
        e.path.empty() || pit == by_path.end() ? e.codec : pit->second->codec;
    Status st = WriteFile(client, pool, e, path, replicas_for(e.replicas), parent_codec,
                          options.force);
    if (st.ok()) {
      auto info = client.Stat(path);
      st = info.status();
      if (st.ok()) st = client.SetAttrAt(info->inode, Attrs(e, true), Durability::kSynced).status();
      if (st.ok()) st = SetXattrs(client, info->inode, e);
    }
    progress.AddBytes(e.size);
    progress.FileDone();
    if (!st.ok()) {
      fail(path, st);
      return Status::Ok();  // the other files still get restored
    }
    std::lock_guard lock(mu);
    ++report.files;
    report.bytes += e.size;
    return Status::Ok();
  });
  progress.Finish();
  RETURN_IF_ERROR(pst);

  // 5. Folder attributes last, children before parents: creating entries
  // changes a folder's mtime, an explicit one set afterwards wins.
  for (auto it = m.entries.rbegin(); it != m.entries.rend(); ++it) {
    if (it->type != FileType::kDirectory) continue;
    const std::string path = Target(report.path, it->path);
    auto info = client.Stat(path);
    Status st = info.status();
    if (st.ok()) st = client.SetAttrAt(info->inode, Attrs(*it, true), Durability::kSynced).status();
    if (!st.ok()) fail(path, st);
  }
  report.write_seconds = SecondsSince(write_start);
  if (capped) report.replicas_capped_to = up;

  // 6. Read every restored file back and compare with the manifest.
  const auto verify_start = std::chrono::steady_clock::now();
  std::vector<std::string> failed_paths;
  {
    std::lock_guard lock(mu);
    for (const std::string& f : report.failures) failed_paths.push_back(f.substr(0, f.find(": ")));
  }
  RETURN_IF_ERROR(RunParallel(options.jobs, files.size(), [&](size_t i) -> Status {
    const ManifestEntry& e = *files[i];
    const std::string path = Target(report.path, e.path);
    if (std::find(failed_paths.begin(), failed_paths.end(), path) != failed_paths.end()) {
      return Status::Ok();  // already reported
    }
    Status st = VerifyFile(client, e, path);
    if (!st.ok()) {
      fail(path, st.WithContext("verifying"));
    } else {
      std::lock_guard lock(mu);
      ++report.verified;
    }
    return Status::Ok();
  }));
  report.verify_seconds = SecondsSince(verify_start);
  std::sort(report.failures.begin(), report.failures.end());
  return report;
}

}  // namespace granary::tools::backup
