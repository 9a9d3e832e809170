// ChunkStore: opening, the startup scan, and the index. Writes live in
// chunk_store_write.cc, reads and deletes in chunk_store_read.cc.
#include "storage/store/chunk_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"
#include "storage/store/pending_write.h"

namespace granary::storage::store {

ChunkStore::~ChunkStore() {
  // Writes never committed are dropped now rather than left for the next
  // startup: nobody can commit them once the store is gone.
  std::lock_guard lock(pending_mu_);
  for (auto& [key, pw] : pending_) {
    Status st = RemoveFile(pw->temp_path);
    if (!st.ok()) LOG_WARN("{}", st.ToString());
  }
}

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const StoreOptions& options) {
  if (options.data_dirs.empty()) return Status::InvalidArgument("no data folder given");
  std::unique_ptr<ChunkStore> store(new ChunkStore(options));
  std::set<std::string> seen;
  for (const std::string& dir : options.data_dirs) {
    std::error_code ec;
    std::string canonical = std::filesystem::weakly_canonical(dir, ec).string();
    if (ec) return Status::InvalidArgument("data folder " + dir + ": " + ec.message());
    while (canonical.size() > 1 && canonical.back() == '/') canonical.pop_back();
    if (!seen.insert(canonical).second) {
      return Status::InvalidArgument("data folder " + dir + " is listed twice");
    }
    Result<std::unique_ptr<DataFolder>> folder = DataFolder::Open(dir);
    if (!folder.ok()) return folder.status();
    store->folders_.push_back(std::move(folder).value());
    store->folder_paths_.push_back(dir);
  }
  store->failed_ = std::vector<std::atomic<bool>>(store->folders_.size());
  RETURN_IF_ERROR(store->InitNodeId());
  RETURN_IF_ERROR(store->ScanFolders());
  return store;
}

std::vector<std::string> ChunkStore::CheckFolders() {
  std::vector<std::string> failed;
  for (uint32_t i = 0; i < folders_.size(); ++i) {
    if (failed_[i].load()) continue;
    // Reading the node id back touches the folder's file system: a disk that
    // vanished, was unmounted or returns I/O errors fails here.
    Result<std::optional<std::string>> id = folders_[i]->ReadNodeId();
    Status why;
    if (!id.ok()) {
      why = id.status();
    } else if (!*id || **id != node_id_) {
      why = Status::IoError("node id file missing or changed");
    }
    if (why.ok()) continue;
    FailFolder(i, why);
    failed.push_back(folders_[i]->path());
  }
  return failed;
}

std::vector<FolderStatus> ChunkStore::FolderStatuses() const {
  std::vector<FolderStatus> out(folders_.size());
  for (size_t i = 0; i < folders_.size(); ++i) {
    out[i].path = folders_[i]->path();
    out[i].in_service = !failed_[i].load();
    Result<FolderUsage> u = folders_[i]->Usage();
    out[i].usage_ok = u.ok();
    if (u.ok()) out[i].usage = *u;
  }
  return out;
}

size_t ChunkStore::failed_folders() const {
  size_t n = 0;
  for (const auto& f : failed_) n += f.load() ? 1 : 0;
  return n;
}

void ChunkStore::FailFolder(uint32_t folder, const Status& why) {
  if (failed_[folder].exchange(true)) return;
  std::vector<ChunkKey> lost;
  {
    std::unique_lock lock(index_mu_);
    for (auto it = index_.begin(); it != index_.end();) {
      for (auto v = it->second.begin(); v != it->second.end();) {
        if (v->second.folder == folder) {
          lost.push_back({it->first, v->first});
          chunk_bytes_ -= v->second.file_size;
          --chunk_count_;
          v = it->second.erase(v);
        } else {
          ++v;
        }
      }
      it = it->second.empty() ? index_.erase(it) : std::next(it);
    }
  }
  for (const ChunkKey& k : lost) cache_.Erase(k);
  LOG_ERROR("data folder {} taken out of service ({}): {} replicas reported lost, the other "
            "folders keep serving",
            folders_[folder]->path(), why.ToString(), lost.size());
  std::lock_guard lock(lost_mu_);
  lost_.insert(lost_.end(), lost.begin(), lost.end());
}

Status ChunkStore::InitNodeId() {
  // One id for the whole server. It is copied into every folder so each disk
  // says which server it belongs to; a disk from another server is refused
  // rather than silently merged.
  std::vector<bool> has_id(folders_.size(), false);
  for (size_t i = 0; i < folders_.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<std::string> id, folders_[i]->ReadNodeId());
    if (!id) continue;
    has_id[i] = true;
    if (node_id_.empty()) {
      node_id_ = *id;
    } else if (*id != node_id_) {
      return Status::InvalidArgument("data folder " + folders_[i]->path() + " belongs to node " +
                                     *id + ", the other folders to node " + node_id_);
    }
  }
  if (node_id_.empty()) {
    node_id_ = GenerateNodeId();
    LOG_INFO("new node id {}", node_id_);
  }
  for (size_t i = 0; i < folders_.size(); ++i) {
    if (!has_id[i]) RETURN_IF_ERROR(folders_[i]->WriteNodeId(node_id_));
  }
  return Status::Ok();
}

Status ChunkStore::ScanFolders() {
  // Subfolders are independent, so they are spread over a few threads: at
  // startup every chunk file's footer is read and checksummed.
  const size_t tasks = folders_.size() * kChunkSubdirs;
  std::vector<std::optional<Result<SubdirScan>>> results(tasks);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t t = next++; t < tasks; t = next++) {
      results[t].emplace(
          folders_[t / kChunkSubdirs]->ScanSubdir(static_cast<int>(t % kChunkSubdirs)));
    }
  };
  const size_t n =
      std::clamp<size_t>(static_cast<size_t>(std::max(options_.scan_threads, 1)), 1, tasks);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  SubdirScan total;
  std::unique_lock lock(index_mu_);
  for (size_t t = 0; t < tasks; ++t) {
    const Result<SubdirScan>& r = *results[t];
    if (!r.ok()) return r.status();
    const auto folder = static_cast<uint32_t>(t / kChunkSubdirs);
    for (const ScannedChunk& c : r->chunks) {
      auto& versions = index_[c.key.chunk_id];
      if (versions.count(c.key.version)) {
        LOG_WARN("{} exists in {} and {}; serving the first", c.key.ToString(),
                 folders_[versions[c.key.version].folder]->path(), folders_[folder]->path());
        continue;
      }
      versions[c.key.version] = {folder, c.block_count, c.total_raw, c.total_stored, c.file_size};
      ++chunk_count_;
      chunk_bytes_ += c.file_size;
    }
    total.temp_removed += r->temp_removed;
    total.quarantined += r->quarantined;
    total.corrupt_kept += r->corrupt_kept;
    total.unknown += r->unknown;
  }
  LOG_INFO(
      "indexed {} chunk versions ({} bytes) in {} folders; removed {} temp files, "
      "quarantined {}, {} quarantined earlier, {} unknown files",
      chunk_count_, chunk_bytes_, folders_.size(), total.temp_removed, total.quarantined,
      total.corrupt_kept, total.unknown);
  return Status::Ok();
}

bool ChunkStore::Lookup(const ChunkKey& key, IndexEntry* entry) const {
  std::shared_lock lock(index_mu_);
  auto it = index_.find(key.chunk_id);
  if (it == index_.end()) return false;
  auto v = it->second.find(key.version);
  if (v == it->second.end()) return false;
  *entry = v->second;
  return true;
}

Result<ChunkMeta> ChunkStore::Stat(const ChunkKey& key) const {
  IndexEntry e;
  if (!Lookup(key, &e)) return Status::ChunkNotFound(key.ToString() + " not found");
  return ChunkMeta{key,         e.block_count,
                   e.total_raw, e.total_stored,
                   e.file_size, folders_[e.folder]->ChunkPath(key)};
}

std::vector<ChunkKey> ChunkStore::List() const {
  std::vector<ChunkKey> out;
  {
    std::shared_lock lock(index_mu_);
    out.reserve(chunk_count_);
    for (const auto& [id, versions] : index_) {
      for (const auto& [version, e] : versions) out.push_back({id, version});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<StoreUsage> ChunkStore::Usage() const {
  StoreUsage u;
  std::set<uint64_t> counted;  // folders on one file system count once
  for (size_t i = 0; i < folders_.size(); ++i) {
    // A failed folder, or one failing right now (CheckFolders will take it
    // out), counts as no space: heartbeats must go on for the others.
    if (failed_[i].load()) continue;
    Result<FolderUsage> got = folders_[i]->Usage();
    if (!got.ok()) continue;
    const FolderUsage& f = *got;
    if (!counted.insert(f.fs_id).second) continue;
    u.capacity_bytes += f.capacity_bytes;
    u.used_bytes += f.used_bytes;
    u.free_bytes += f.free_bytes;
    if (f.free_bytes > options_.min_free_bytes) u.writable_bytes += f.free_bytes - options_.min_free_bytes;
  }
  {
    std::shared_lock lock(index_mu_);
    u.chunk_count = chunk_count_;
    u.chunk_bytes = chunk_bytes_;
  }
  std::lock_guard lock(pending_mu_);
  u.pending_writes = pending_.size();
  return u;
}

}  // namespace granary::storage::store
