#include "storage/store/data_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/log.h"
#include "storage/store/chunk_file.h"

namespace granary::storage::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kCorruptSuffix = ".corrupt";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status MakeDir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IoError("create folder " + path + ": " + ec.message());
  return Status::Ok();
}

// Validates one committed chunk file found by the scan.
Result<ScannedChunk> CheckChunkFile(const std::string& path, const ChunkKey& named,
                                    uint8_t subdir) {
  ASSIGN_OR_RETURN(auto file, OpenChunkFile(path));
  if (file->footer.key != named) {
    return Status::Corruption("footer names " + file->footer.key.ToString() +
                              ", the file name says " + named.ToString());
  }
  if ((named.chunk_id & 0xff) != subdir) {
    return Status::Corruption("chunk file is in the wrong subfolder");
  }
  const ChunkFooter& f = file->footer;
  return ScannedChunk{named, static_cast<uint32_t>(f.blocks.size()), f.total_raw, f.total_stored,
                      f.file_size()};
}

}  // namespace

Result<std::unique_ptr<DataFolder>> DataFolder::Open(const std::string& path) {
  RETURN_IF_ERROR(MakeDir(path + "/chunks"));
  ASSIGN_OR_RETURN(UniqueFd lock, OpenFile(path + "/LOCK", O_RDWR | O_CREAT));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::Unavailable("data folder " + path + " is in use by another process");
    }
    return ErrnoStatus(errno, "lock " + path + "/LOCK");
  }
  return std::unique_ptr<DataFolder>(new DataFolder(path, std::move(lock)));
}

Status DataFolder::EnsureSubdir(uint64_t chunk_id) const {
  std::atomic<bool>& ready = subdir_ready_[chunk_id & 0xff];
  if (ready.load(std::memory_order_acquire)) return Status::Ok();
  // Racing creators are harmless: mkdir of an existing folder succeeds here.
  RETURN_IF_ERROR(MakeDir(SubdirPath(chunk_id)));
  RETURN_IF_ERROR(SyncDir(path_ + "/chunks"));
  ready.store(true, std::memory_order_release);
  return Status::Ok();
}

std::string DataFolder::SubdirPath(uint64_t chunk_id) const {
  return path_ + "/chunks/" + ChunkSubdirName(chunk_id);
}

std::string DataFolder::ChunkPath(const ChunkKey& key) const {
  return SubdirPath(key.chunk_id) + "/" + ChunkFileName(key);
}

Result<FolderUsage> DataFolder::Usage() const {
  struct statvfs st;
  if (::statvfs(path_.c_str(), &st) != 0) return ErrnoStatus(errno, "statvfs " + path_);
  FolderUsage u;
  u.capacity_bytes = uint64_t{st.f_blocks} * st.f_frsize;
  u.used_bytes = uint64_t{st.f_blocks - st.f_bfree} * st.f_frsize;
  u.free_bytes = uint64_t{st.f_bavail} * st.f_frsize;
  u.fs_id = st.f_fsid;
  return u;
}

Result<std::optional<std::string>> DataFolder::ReadNodeId() const {
  const std::string file = path_ + "/node_id";
  Result<std::string> s = ReadSmallFile(file, 64);
  if (!s.ok()) {
    if (s.status().code() == proto::NOT_FOUND) return std::optional<std::string>();
    return s.status();
  }
  std::string id = *s;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (!IsValidNodeId(id)) {
    return Status::Corruption(file + " does not hold a node id (16 hex digits)");
  }
  return std::optional<std::string>(id);
}

Status DataFolder::WriteNodeId(const std::string& node_id) const {
  return WriteFileAtomic(path_ + "/node_id", node_id + "\n");
}

Result<SubdirScan> DataFolder::ScanSubdir(int subdir) const {
  SubdirScan out;
  const std::string dir = SubdirPath(static_cast<uint64_t>(subdir));
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;  // never used
  if (!ec) subdir_ready_[subdir & 0xff].store(true, std::memory_order_release);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string path = dir + "/" + name;
    if (EndsWith(name, kTempSuffix)) {
      // A write that never committed: nobody acknowledged it, drop it.
      Status st = RemoveFile(path);
      if (!st.ok()) return st;
      ++out.temp_removed;
      continue;
    }
    if (EndsWith(name, kCorruptSuffix)) {
      ++out.corrupt_kept;
      continue;
    }
    std::optional<ChunkKey> key = ParseChunkFileName(name);
    if (!key) {
      LOG_WARN("ignoring unexpected file {}", path);
      ++out.unknown;
      continue;
    }
    Result<ScannedChunk> chunk = CheckChunkFile(path, *key, static_cast<uint8_t>(subdir));
    if (chunk.ok()) {
      out.chunks.push_back(*chunk);
    } else if (chunk.status().code() == proto::CORRUPTION) {
      QuarantineFile(path, chunk.status());
      ++out.quarantined;
    } else {
      return chunk.status();  // an I/O error is the disk's problem, not the file's
    }
  }
  if (ec) return Status::IoError("list " + dir + ": " + ec.message());
  return out;
}

bool IsValidNodeId(std::string_view id) {
  if (id.size() != 16) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string GenerateNodeId() {
  std::random_device rd;
  uint64_t v = (uint64_t{rd()} << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace granary::storage::store
