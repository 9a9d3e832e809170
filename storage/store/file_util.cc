#include "storage/store/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/codec/chunk_file_io.h"

namespace granary::storage::store {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Status ErrnoStatus(int err, std::string_view what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(std::move(msg));
    case ENOENT:
      return Status::NotFound(std::move(msg));
    default:
      return Status::IoError(std::move(msg));
  }
}

Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "open " + path);
  return UniqueFd(fd);
}

Status PWriteAll(int fd, ByteSpan data, uint64_t offset, std::string_view path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write " + std::string(path));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PReadAll(int fd, MutableByteSpan out, uint64_t offset, std::string_view path) {
  return codec::PReadExact(fd, out, offset, path);
}

Result<uint64_t> FileSize(int fd, std::string_view path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat " + std::string(path));
  return static_cast<uint64_t>(st.st_size);
}

Status DataSync(int fd, std::string_view path) {
  if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync " + std::string(path));
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync " + dir);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    ByteSpan bytes(reinterpret_cast<const uint8_t*>(contents.data()), contents.size());
    RETURN_IF_ERROR(PWriteAll(fd.get(), bytes, 0, tmp));
    if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync " + tmp);
  }
  RETURN_IF_ERROR(RenameFile(tmp, path));
  const size_t slash = path.find_last_of('/');
  return SyncDir(slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash)));
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, FileSize(fd.get(), path));
  if (size > max_bytes) {
    return Status::Corruption(path + " is " + std::to_string(size) + " bytes, expected at most " +
                              std::to_string(max_bytes));
  }
  std::string s(size, '\0');
  RETURN_IF_ERROR(
      PReadAll(fd.get(), MutableByteSpan(reinterpret_cast<uint8_t*>(s.data()), size), 0, path));
  return s;
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, "rename " + from + " to " + to);
  }
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove " + path);
  return Status::Ok();
}

}  // namespace granary::storage::store
