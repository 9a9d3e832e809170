// Names and attributes: lookup, forget, getattr, setattr, mkdir, mknod,
// symlink, readlink, link, unlink, rmdir, rename, statfs.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <cstring>

#include "common/log.h"
#include "fuse/ops.h"

namespace granary::fuse {
namespace {

TimeSpec Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return {ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
}

TimeSpec FromTimespec(const timespec& t) { return {t.tv_sec, static_cast<uint32_t>(t.tv_nsec)}; }

// Whether removing `name` from `parent` would drop a file open here; then
// metad keeps it as this client's orphan until the last close. Costs a
// lookup only while some file is open through this mount.
bool RemovesOpenFile(GranaryFs& fs, uint64_t parent, const char* name) {
  if (!fs.inodes().AnyOpen()) return false;
  auto info = fs.client().Lookup(parent, name);
  if (!info.ok() || info->type != FileType::kFile) return false;
  auto s = fs.inodes().Find(info->inode);
  if (!s) return false;
  std::lock_guard lock(s->open_mu);
  return s->file != nullptr;
}

void MarkOrphan(GranaryFs& fs, uint64_t orphan) {
  if (orphan == 0) return;
  auto s = fs.inodes().Get(orphan);
  std::lock_guard lock(s->open_mu);
  s->orphan = true;
  if (!s->file) {
    // Closed in the meantime: nobody will release it at the last close.
    s->orphan = false;
    Status st = fs.client().ReleaseOrphan(orphan);
    if (!st.ok()) LOG_WARN("{}", st.ToString());
  }
}

}  // namespace

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  GranaryFs& fs = Fs(req);
  const uint64_t epoch = fs.AttrEpoch();
  auto info = fs.new_dirs().KnownAbsent(parent, name)
                  ? Result<FileInfo>(Status::NotFound(name))
                  : fs.client().Lookup(parent, name);
  if (!info.ok()) {
    if (info.status().code() == proto::NOT_FOUND && fs.options().negative_timeout > 0) {
      // A negative entry: the kernel remembers the miss for a while.
      fuse_entry_param e{};
      e.entry_timeout = fs.options().negative_timeout;
      fuse_reply_entry(req, &e);
      return;
    }
    ReplyStatus(req, info.status());
    return;
  }
  ReplyEntry(req, *info, epoch);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req).inodes().Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Fs(req).inodes().Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  GranaryFs& fs = Fs(req);
  auto info = fs.Attr(ino);
  if (!info.ok()) return ReplyStatus(req, info.status());
  struct stat st = ToStat(*info);
  fuse_reply_attr(req, &st, fs.options().attr_timeout);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  GranaryFs& fs = Fs(req);
  AttrChanges c;
  if (to_set & FUSE_SET_ATTR_MODE) c.mode = attr->st_mode & 07777;
  if (to_set & FUSE_SET_ATTR_UID) c.uid = attr->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) c.gid = attr->st_gid;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) c.atime = Now();
  else if (to_set & FUSE_SET_ATTR_ATIME) c.atime = FromTimespec(attr->st_atim);
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) c.mtime = Now();
  else if (to_set & FUSE_SET_ATTR_MTIME) c.mtime = FromTimespec(attr->st_mtim);
  if (to_set & FUSE_SET_ATTR_SIZE) {
    const uint64_t size = static_cast<uint64_t>(attr->st_size);
    if (auto file = WritableFileOf(fs, ino)) {
      // Open for writing here: the handle cuts its buffers too, and the new
      // size is published with its next flush.
      Status st = file->Truncate(size);
      if (!st.ok()) return ReplyStatus(req, st);
    } else {
      c.size = size;
    }
  }
  if (c.mtime || c.atime) {
    // Publish buffered writes first: their flush stamps mtime with the time
    // of the flush, which must not win over the time set here (cp -a, touch).
    if (auto file = WritableFileOf(fs, ino)) {
      Status st = file->Flush();
      if (!st.ok()) return ReplyStatus(req, st);
    }
  }
  const bool any = c.mode || c.uid || c.gid || c.atime || c.mtime || c.size;
  if (!any) fs.ForgetAttr(ino);  // a truncate of an open file: ask afresh
  Result<FileInfo> info = any ? fs.client().SetAttrAt(ino, c, kMountDurability) : fs.Attr(ino);
  if (!info.ok()) return ReplyStatus(req, info.status());
  fs.Remember(*info);
  struct stat st = ToStat(fs.Overlay(*info));
  fuse_reply_attr(req, &st, fs.options().attr_timeout);
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  GranaryFs& fs = Fs(req);
  auto info = fs.client().MkdirAt(parent, name, mode & ~fuse_req_ctx(req)->umask, Caller(req),
                                  kMountDurability);
  if (!info.ok()) return ReplyStatus(req, info.status());
  fs.new_dirs().Added(parent, name);
  fs.new_dirs().Created(info->inode);
  fs.EntryAdded(parent, *info);
  ReplyEntry(req, *info);
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  // Only regular files: devices, fifos and sockets have no place in a
  // storage cluster.
  if (!S_ISREG(mode)) return (void)fuse_reply_err(req, EPERM);
  GranaryFs& fs = Fs(req);
  auto info = fs.client().CreateAt(parent, name, mode & 07777, Caller(req), /*exclusive=*/true,
                                   kMountDurability);
  if (!info.ok()) return ReplyStatus(req, info.status());
  fs.new_dirs().Added(parent, name);
  fs.EntryAdded(parent, *info);
  ReplyEntry(req, *info);
}

void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  GranaryFs& fs = Fs(req);
  auto info = fs.client().SymlinkAt(parent, name, target, Caller(req), kMountDurability);
  if (!info.ok()) return ReplyStatus(req, info.status());
  fs.new_dirs().Added(parent, name);
  fs.EntryAdded(parent, *info);
  ReplyEntry(req, *info);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  auto info = Fs(req).client().GetAttr(ino);
  if (!info.ok()) return ReplyStatus(req, info.status());
  if (info->type != FileType::kSymlink) return (void)fuse_reply_err(req, EINVAL);
  fuse_reply_readlink(req, info->symlink_target.c_str());
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  // A file has one name in Granary (its inode records its parent).
  fuse_reply_err(req, EPERM);
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  GranaryFs& fs = Fs(req);
  const bool keep = RemovesOpenFile(fs, parent, name);
  auto r = fs.client().UnlinkAt(parent, name, keep, kMountDurability);
  if (!r.ok()) return ReplyStatus(req, r.status());
  fs.new_dirs().Removed(parent, name);
  // The reply carries the folder's new times: the kernel's GETATTR of the
  // folder that follows every unlink (its attributes are invalidated) is
  // then answered here instead of costing a second round trip to metad.
  if (r->parent_time_sec != 0) {
    fs.DirTouched(parent, r->parent_time_sec, r->parent_time_nsec);
  } else {
    fs.ForgetAttr(parent);  // metad gave the folder a new time we do not know
  }
  MarkOrphan(fs, r->orphan_inode);
  fuse_reply_err(req, 0);
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  GranaryFs& fs = Fs(req);
  Status st = fs.client().RmdirAt(parent, name, kMountDurability);
  if (st.ok()) {
    fs.new_dirs().Removed(parent, name);
    fs.ForgetAttr(parent);
  }
  ReplyStatus(req, st);
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags) {
  GranaryFs& fs = Fs(req);
  RenameMode mode = RenameMode::kReplace;
  if (flags & RENAME_NOREPLACE) mode = RenameMode::kNoReplace;
  if (flags & RENAME_EXCHANGE) mode = RenameMode::kExchange;
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0 ||
      ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))) {
    return (void)fuse_reply_err(req, EINVAL);  // RENAME_WHITEOUT and unknown flags
  }
  const bool keep = mode == RenameMode::kReplace && RemovesOpenFile(fs, newparent, newname);
  auto r = fs.client().RenameAt(parent, name, newparent, newname, mode, keep, kMountDurability);
  if (!r.ok()) return ReplyStatus(req, r.status());
  fs.ForgetAttr(parent);
  fs.ForgetAttr(newparent);
  if (mode != RenameMode::kExchange) {
    fs.new_dirs().Removed(parent, name);
    fs.new_dirs().Added(newparent, newname);
  }
  MarkOrphan(fs, r->orphan_inode);
  fuse_reply_err(req, 0);
}

void OpStatfs(fuse_req_t req, fuse_ino_t ino) {
  auto s = Fs(req).client().StatFs();
  if (!s.ok()) return ReplyStatus(req, s.status());
  struct statvfs v {};
  constexpr uint64_t kUnit = 4096;
  v.f_bsize = 1 << 20;
  v.f_frsize = kUnit;
  v.f_blocks = s->capacity_bytes / kUnit;
  v.f_bfree = s->free_bytes / kUnit;
  v.f_bavail = v.f_bfree;
  // Inodes are not a limited resource; report plenty free.
  v.f_files = s->files + (1ull << 32);
  v.f_ffree = 1ull << 32;
  v.f_favail = v.f_ffree;
  v.f_namemax = 255;
  fuse_reply_statfs(req, &v);
}

}  // namespace granary::fuse
