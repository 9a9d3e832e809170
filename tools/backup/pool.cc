#include "tools/backup/pool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "common/buffer.h"
#include "common/checksum/xxh3.h"
#include "common/codec/zstd_ctx.h"

namespace granary::tools::backup {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'G', 'R', 'B', 'K', 'O', 'B', 'J', '1'};
constexpr size_t kHeaderBytes = 32;
// zstd level 1: the fastest level that still squeezes text and bf16-ish data;
// backups are bound by reading the cluster and by this compressor.
constexpr int kZstdLevel = 1;

Status Errno(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC) return Status::NoSpace(msg);
  return Status::IoError(msg);
}

void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

Status WriteAllFd(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("writing", path, errno);
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("creating", tmp, errno);
  Status st = WriteAllFd(fd, data, tmp);
  if (st.ok() && ::fdatasync(fd) != 0) st = Errno("syncing", tmp, errno);
  if (::close(fd) != 0 && st.ok()) st = Errno("closing", tmp, errno);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("renaming", tmp, errno);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

Status SyncFolder(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("opening folder", path, errno);
  Status st;
  if (::fsync(fd) != 0) st = Errno("syncing folder", path, errno);
  ::close(fd);
  return st;
}

Result<size_t> ReadLocalFileInto(const std::string& path, uint64_t max_bytes, Buffer& buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("opening", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("stat of", path, errno);
    ::close(fd);
    return s;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    return Status::Corruption(
        fmt::format("{} holds {} bytes, more than {} expected", path, size, max_bytes));
  }
  if (buf.size() < size) buf = Buffer(static_cast<size_t>(size));
  size_t done = 0;
  while (done < size) {
    ssize_t r = ::pread(fd, buf.data() + done, size - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status s = Errno("reading", path, errno);
      ::close(fd);
      return s;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  return done;
}

Result<std::string> ReadLocalFile(const std::string& path, uint64_t max_bytes) {
  Buffer buf;
  ASSIGN_OR_RETURN(size_t n, ReadLocalFileInto(path, max_bytes, buf));
  return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

Result<ChunkPool> ChunkPool::Open(std::string dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("creating " + dir + ": " + ec.message());
  return ChunkPool(std::move(dir));
}

std::string ChunkPool::ChunkObjectName(uint64_t chunk_id, uint64_t version) {
  // Sharded by the low byte of the id, so no folder holds every object.
  return fmt::format("{:02x}/c{}-v{}", chunk_id & 0xff, chunk_id, version);
}

std::string ChunkPool::InlineObjectName(std::string_view xxh128_hex) {
  return fmt::format("inline/{}", xxh128_hex);
}

Result<uint64_t> ChunkPool::StoredRawLength(const std::string& name) const {
  const std::string path = dir_ + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("opening object", path, errno);
  char header[kHeaderBytes];
  ssize_t r = ::pread(fd, header, sizeof(header), 0);
  ::close(fd);
  if (r != static_cast<ssize_t>(kHeaderBytes) || std::memcmp(header, kMagic, 8) != 0) {
    return Status::Corruption("object " + path + " has no valid header");
  }
  return GetU64(header + 8);
}

Result<uint64_t> ChunkPool::Put(const std::string& name, std::string_view raw) const {
  const std::string path = dir_ + "/" + name;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Status::IoError("creating folder for " + path + ": " + ec.message());
  // Kept per thread and only grown (Buffer is not zero-filled): see Get.
  thread_local Buffer buf;
  const size_t need = kHeaderBytes + ZSTD_compressBound(raw.size());
  if (buf.size() < need) buf = Buffer(need);
  char* obj = reinterpret_cast<char*>(buf.data());
  size_t n = ZSTD_compressCCtx(codec::ThreadCCtx(), obj + kHeaderBytes, need - kHeaderBytes,
                               raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(n)) {
    return Status::Internal(fmt::format("compressing {}: {}", name, ZSTD_getErrorName(n)));
  }
  std::memcpy(obj, kMagic, 8);
  PutU64(obj + 8, raw.size());
  PutU64(obj + 16, checksum::Xxh3(raw.data(), raw.size()));
  PutU64(obj + 24, checksum::Xxh3(obj + kHeaderBytes, n));
  RETURN_IF_ERROR(WriteFileAtomic(path, std::string_view(obj, kHeaderBytes + n)));
  return static_cast<uint64_t>(kHeaderBytes + n);
}

Result<std::string_view> ChunkPool::Get(const std::string& name) const {
  const std::string path = dir_ + "/" + name;
  // Per-thread buffers that only grow: Buffer is not zero-filled, and pages
  // touched once stay mapped for the next object.
  thread_local Buffer obj_buf;
  thread_local Buffer raw_buf;
  // A compressed object is at most the bound of its largest raw size.
  ASSIGN_OR_RETURN(const size_t size,
                   ReadLocalFileInto(path, kHeaderBytes + ZSTD_compressBound(kMaxObjectRawBytes),
                                     obj_buf));
  const char* obj = reinterpret_cast<const char*>(obj_buf.data());
  if (size < kHeaderBytes || std::memcmp(obj, kMagic, 8) != 0) {
    return Status::Corruption("object " + path + " has no valid header");
  }
  const uint64_t raw_len = GetU64(obj + 8);
  const uint64_t raw_sum = GetU64(obj + 16);
  const uint64_t packed_sum = GetU64(obj + 24);
  if (raw_len > kMaxObjectRawBytes) {
    return Status::Corruption(fmt::format("object {} claims {} raw bytes", path, raw_len));
  }
  const char* packed = obj + kHeaderBytes;
  const size_t packed_len = static_cast<size_t>(size - kHeaderBytes);
  if (checksum::Xxh3(packed, packed_len) != packed_sum) {
    return Status::Corruption("object " + path + ": checksum of the compressed bytes mismatches");
  }
  const unsigned long long frame = ZSTD_getFrameContentSize(packed, packed_len);
  if (frame != raw_len) {
    return Status::Corruption(fmt::format("object {}: frame holds {} bytes, header says {}", path,
                                          frame, raw_len));
  }
  if (raw_buf.size() < raw_len) raw_buf = Buffer(static_cast<size_t>(raw_len));
  char* raw = reinterpret_cast<char*>(raw_buf.data());
  size_t n = ZSTD_decompressDCtx(codec::ThreadDCtx(), raw, static_cast<size_t>(raw_len), packed,
                                 packed_len);
  if (ZSTD_isError(n) || n != raw_len) {
    return Status::Corruption("object " + path + ": the zstd frame does not decode");
  }
  if (checksum::Xxh3(raw, static_cast<size_t>(raw_len)) != raw_sum) {
    return Status::Corruption("object " + path + ": checksum of the decoded bytes mismatches");
  }
  return std::string_view(raw, static_cast<size_t>(raw_len));
}

Status ChunkPool::SyncFolders() const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.is_directory()) RETURN_IF_ERROR(SyncFolder(e.path().string()));
  }
  if (ec) return Status::IoError("listing " + dir_ + ": " + ec.message());
  return SyncFolder(dir_);
}

}  // namespace granary::tools::backup
