// The local side of `granary migrate`: POSIX calls on paths, with
// nanosecond mtimes (std::filesystem rounds them through file_time_type).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tools/migrate/tree.h"

namespace granary::tools::migrate {
namespace {

Status Errno(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(msg);
    case ENOTDIR:
      return Status::NotDirectory(msg);
    case EISDIR:
      return Status::IsDirectory(msg);
    case EEXIST:
      return Status::AlreadyExists(msg);
    case ENOTEMPTY:
      return Status::NotEmpty(msg);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(msg);
    case ENOSPC:
      return Status::NoSpace(msg);
    default:
      return Status::IoError(msg);
  }
}

Entry FromStat(const struct stat& st) {
  Entry e;
  e.type = S_ISREG(st.st_mode)   ? EntryType::kFile
           : S_ISDIR(st.st_mode) ? EntryType::kDirectory
           : S_ISLNK(st.st_mode) ? EntryType::kSymlink
                                 : EntryType::kOther;
  e.size = static_cast<uint64_t>(st.st_size);
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime_sec = st.st_mtim.tv_sec;
  e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  return e;
}

Result<std::string> ReadLink(const std::string& path, size_t size_hint) {
  std::string target(size_hint + 1, '\0');
  while (true) {
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return Errno("readlink", path, errno);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);  // the link changed under us
  }
}

class LocalSource final : public FileSource {
 public:
  LocalSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~LocalSource() override { close(fd_); }
  Result<size_t> Read(MutableByteSpan out) override {
    while (true) {
      ssize_t n = read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Errno("read", path_, errno);
    }
  }

 private:
  int fd_;
  std::string path_;
};

class LocalSink final : public FileSink {
 public:
  LocalSink(int fd, std::string path, bool fsync) : fd_(fd), path_(std::move(path)), fsync_(fsync) {}
  ~LocalSink() override {
    if (fd_ >= 0) close(fd_);
  }
  Status Write(ByteSpan data) override {
    const uint8_t* p = data.data();
    size_t n = data.size();
    while (n > 0) {
      ssize_t w = write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("write", path_, errno);
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }
  Status Finish() override {
    if (fsync_ && ::fsync(fd_) != 0) return Errno("fsync", path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return Errno("close", path_, errno);
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
  bool fsync_;
};

class LocalTree final : public Tree {
 public:
  explicit LocalTree(bool fsync) : fsync_(fsync) {}

  std::string Describe(const std::string& path) const override { return path; }
  std::string Join(const std::string& dir, std::string_view name) const override {
    if (dir.ends_with('/')) return dir + std::string(name);
    return dir + "/" + std::string(name);
  }
  std::pair<std::string, std::string> Split(const std::string& path) const override {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
  }

  Result<Entry> Stat(const std::string& path) override {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) return Errno("stat", path, errno);
    Entry e = FromStat(st);
    if (e.type == EntryType::kSymlink) {
      ASSIGN_OR_RETURN(e.symlink_target, ReadLink(path, e.size));
    }
    return e;
  }

  Result<std::vector<Entry>> List(const std::string& dir) override {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return Errno("open folder", dir, errno);
    std::vector<Entry> out;
    Status s;
    errno = 0;
    while (dirent* de = readdir(d)) {
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      auto e = Stat(Join(dir, name));
      if (!e.ok() && e.status().code() == proto::NOT_FOUND) continue;  // removed meanwhile
      if (!e.ok()) {
        s = e.status();
        break;
      }
      e->name = std::move(name);
      out.push_back(std::move(*e));
      errno = 0;
    }
    if (s.ok() && errno != 0) s = Errno("read folder", dir, errno);
    closedir(d);
    if (!s.ok()) return s;
    return out;
  }

  Status MakeDir(const std::string& path) override {
    // 0700 until SetAttrs at the end gives the source's mode: files are
    // still being written into it.
    if (mkdir(path.c_str(), 0700) == 0) return Status::Ok();
    int err = errno;
    struct stat st {};
    if (err == EEXIST && stat(path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::Ok();
      return Status::NotDirectory(path + " exists and is not a folder");
    }
    return Errno("mkdir", path, err);
  }

  Status MakeSymlink(const std::string& path, const std::string& target,
                     const Attrs& attrs) override {
    if (symlink(target.c_str(), path.c_str()) != 0) return Errno("symlink", path, errno);
    return SetAttrs(path, EntryType::kSymlink, attrs);
  }

  Result<std::unique_ptr<FileSource>> OpenRead(const std::string& path) override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Errno("open", path, errno);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<FileSource>(new LocalSource(fd, path));
  }

  Result<std::unique_ptr<FileSink>> Create(const std::string& path) override {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Errno("create", path, errno);
    return std::unique_ptr<FileSink>(new LocalSink(fd, path, fsync_));
  }

  Status SetAttrs(const std::string& path, EntryType type, const Attrs& attrs) override {
    // Owner first: chown clears the set-id bits that chmod then restores.
    if (attrs.set_owner && lchown(path.c_str(), attrs.uid, attrs.gid) != 0) {
      return Errno("chown", path, errno);
    }
    if (type != EntryType::kSymlink && chmod(path.c_str(), attrs.mode & 07777) != 0) {
      return Errno("chmod", path, errno);
    }
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;  // atime: left as it is
    times[1].tv_sec = attrs.mtime_sec;
    times[1].tv_nsec = attrs.mtime_nsec;
    if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return Errno("set mtime of", path, errno);
    }
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return Errno("rename " + from + " to", to, errno);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return Errno("remove", path, errno);
    return Status::Ok();
  }

  Status RemoveDir(const std::string& path) override {
    if (rmdir(path.c_str()) != 0) return Errno("remove folder", path, errno);
    return Status::Ok();
  }

 private:
  const bool fsync_;
};

}  // namespace

std::unique_ptr<Tree> MakeLocalTree(bool fsync) { return std::make_unique<LocalTree>(fsync); }

}  // namespace granary::tools::migrate
