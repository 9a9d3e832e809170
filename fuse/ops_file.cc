// File data: create, open, read, write, flush, fsync, release.
//
// Every handle of an inode shares one OpenFile (InodeState::file), so all
// processes on this mount see each other's writes at once; it holds the write
// lease while any handle writes. flush (every close(2)) publishes what was
// written (close-to-open); release of the last handle gives the lease back
// and, for a file unlinked while open, frees its data.
#include <fcntl.h>

#include <vector>

#include "common/log.h"
#include "fuse/ops.h"

namespace granary::fuse {
namespace {

struct Handle {
  std::shared_ptr<InodeState> state;
  bool write = false;
};

Handle* H(fuse_file_info* fi) { return reinterpret_cast<Handle*>(fi->fh); }

bool WantsWrite(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

std::shared_ptr<OpenFile> FileOf(fuse_file_info* fi) {
  std::lock_guard lock(H(fi)->state->open_mu);
  return H(fi)->state->file;
}

// Opens `ino` for a new handle (state->open_mu held): reuses the shared
// OpenFile, upgrading it to a writer when needed; sets keep_cache.
Status OpenShared(GranaryFs& fs, uint64_t ino, InodeState& s, fuse_file_info* fi) {
  const bool write = WantsWrite(fi->flags);
  const bool trunc = write && (fi->flags & O_TRUNC);
  // A reader's attributes come from a read of metad; a writer's are its own.
  const uint64_t epoch = write ? GranaryFs::kChange : fs.AttrEpoch();
  if (s.file && (s.writable || !write)) {
    // Close-to-open: a file nobody writes here is re-read from metad.
    if (!s.writable) RETURN_IF_ERROR(s.file->Refresh());
  } else {
    if (s.file) (void)s.file->Close();  // a read-only handle becomes a writer
    ASSIGN_OR_RETURN(auto f, fs.client().OpenAt(ino, {.write = write, .truncate = false}));
    s.file = std::shared_ptr<OpenFile>(std::move(f));
    s.writable = write;
  }
  if (trunc) RETURN_IF_ERROR(s.file->Truncate(0));
  // The kernel keeps its page cache of this file when the version we saw at
  // the last open is still current.
  FileInfo info = s.file->info();
  fs.Remember(info, s.writable ? GranaryFs::kChange : epoch);
  // A read-only handle has nothing to publish at close: no FLUSH request
  // per close(2) (the kernel keeps POSIX locks itself and drops them on
  // close without it). Saves a FUSE round trip per small file read.
  fi->noflush = !write;
  fi->keep_cache = info.mtime_sec == s.cached_mtime_sec &&
                   info.mtime_nsec == s.cached_mtime_nsec && info.size == s.cached_size;
  s.cached_mtime_sec = info.mtime_sec;
  s.cached_mtime_nsec = info.mtime_nsec;
  s.cached_size = info.size;
  return Status::Ok();
}

// Drops one handle; the last one closes the shared OpenFile (publishing what
// was written and giving the lease back) and frees an unlinked file's data.
void ReleaseHandle(GranaryFs& fs, uint64_t ino, Handle* h) {
  auto s = h->state;
  delete h;
  Status st;
  bool release_orphan = false;
  {
    std::lock_guard lock(s->open_mu);
    if (fs.inodes().DropOpen(*s) == 0) {
      if (s->file) {
        st = s->file->Close();
        fs.Remember(s->file->info());  // what it published, for getattr
      }
      s->file.reset();
      s->writable = false;
      release_orphan = s->orphan;
      s->orphan = false;
    }
  }
  if (!st.ok()) LOG_ERROR("closing inode {}: {}", ino, st.ToString());
  if (release_orphan) {
    Status r = fs.client().ReleaseOrphan(ino);
    if (!r.ok()) LOG_WARN("{}", r.ToString());
  }
  fs.inodes().EraseIfIdle(ino);
}

// Opens `ino` for the kernel. `created` (from create): the new file's
// attributes, and `fresh`, when set, the file already open for writing.
void Open(fuse_req_t req, uint64_t ino, fuse_file_info* fi, const FileInfo* created,
          std::unique_ptr<OpenFile> fresh = nullptr) {
  GranaryFs& fs = Fs(req);
  auto s = fs.inodes().Get(ino);
  Status st;
  {
    std::lock_guard lock(s->open_mu);
    if (fresh && !s->file) {
      s->file = std::shared_ptr<OpenFile>(std::move(fresh));
      s->writable = true;
    } else if (fresh) {
      (void)fresh->Close();  // another handle of this mount opened it first
    }
    st = OpenShared(fs, ino, *s, fi);
    if (st.ok()) fs.inodes().AddOpen(*s);
  }
  if (!st.ok()) {
    fs.inodes().EraseIfIdle(ino);
    return ReplyStatus(req, st);
  }
  fi->fh = reinterpret_cast<uint64_t>(new Handle{s, WantsWrite(fi->flags)});
  if (created) {
    fuse_entry_param e;
    FillEntry(fs, *created, &e);
    fs.inodes().AddLookup(ino);
    if (fuse_reply_create(req, &e, fi) != 0) {
      fs.inodes().Forget(ino, 1);
      ReleaseHandle(fs, ino, H(fi));
    }
  } else if (fuse_reply_open(req, fi) != 0) {
    ReleaseHandle(fs, ino, H(fi));
  }
}

// The folder's cached times after a create. The kernel sends a create only
// for a name it just found absent, so the file is almost always new and metad
// stamped the folder with its ctime; an existing file (another client made it
// meanwhile) is told apart by its shape: new files are empty with mtime equal
// to ctime. A misjudged one shows the folder newer than it is until the cache
// entry expires (attr_timeout), never older.
void ParentOfCreate(GranaryFs& fs, uint64_t parent, const FileInfo& info, bool exclusive) {
  const bool looks_new = info.size == 0 && info.mtime_sec == info.ctime_sec &&
                         info.mtime_nsec == info.ctime_nsec;
  if (exclusive || looks_new) {
    fs.EntryAdded(parent, info);
  } else {
    fs.ForgetAttr(parent);
  }
}

}  // namespace

std::shared_ptr<OpenFile> WritableFileOf(GranaryFs& fs, fuse_ino_t ino) {
  auto s = fs.inodes().Find(ino);
  if (!s) return nullptr;
  std::lock_guard lock(s->open_mu);
  return s->writable ? s->file : nullptr;
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  GranaryFs& fs = Fs(req);
  const uint32_t perm = mode & 07777 & ~fuse_req_ctx(req)->umask;
  const bool excl = (fi->flags & O_EXCL) != 0;
  if (WantsWrite(fi->flags)) {
    // The usual case: create and take the write lease in one round trip.
    auto f = fs.client().CreateOpenAt(parent, name, perm, Caller(req), excl,
                                      (fi->flags & O_TRUNC) != 0, kMountDurability);
    if (f.ok()) {
      fs.new_dirs().Added(parent, name);
      FileInfo info = (*f)->info();
      ParentOfCreate(fs, parent, info, excl);
      fi->flags &= ~O_TRUNC;  // done
      return Open(req, info.inode, fi, &info, std::move(*f));
    }
    // LEASE_CONFLICT: an existing file that a handle of this mount already
    // writes; share that handle below.
    if (f.status().code() != proto::LEASE_CONFLICT) return ReplyStatus(req, f.status());
  }
  auto info = fs.client().CreateAt(parent, name, perm, Caller(req), excl, kMountDurability);
  if (!info.ok()) return ReplyStatus(req, info.status());
  fs.new_dirs().Added(parent, name);
  ParentOfCreate(fs, parent, *info, excl);
  if (info->type != FileType::kFile) return (void)fuse_reply_err(req, EISDIR);
  Open(req, info->inode, fi, &*info);
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Open(req, ino, fi, nullptr); }

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  auto file = FileOf(fi);
  if (!file) return (void)fuse_reply_err(req, EBADF);
  // Uninitialized: PRead fills every byte it reports.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size]);
  auto n = file->PRead(static_cast<uint64_t>(off), MutableByteSpan(buf.get(), size));
  if (!n.ok()) return ReplyStatus(req, n.status());
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.get()), *n);
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi) {
  auto file = FileOf(fi);
  if (!file || !H(fi)->write) return (void)fuse_reply_err(req, EBADF);
  Status st = file->PWrite(static_cast<uint64_t>(off),
                           ByteSpan(reinterpret_cast<const uint8_t*>(buf), size));
  if (!st.ok()) return ReplyStatus(req, st);
  fuse_reply_write(req, size);
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  GranaryFs& fs = Fs(req);
  auto file = FileOf(fi);
  Status st;
  if (file && H(fi)->write) {
    // The only handle: this close is almost surely the last, so the lease
    // goes back with the publish (one round trip instead of a second one at
    // release). A write through a dup of the descriptor takes it again.
    st = fs.inodes().Opens(*H(fi)->state) == 1 ? file->FlushAndRelease() : file->Flush();
  }
  if (file && H(fi)->write) fs.Remember(file->info());
  ReplyStatus(req, st);
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  auto file = FileOf(fi);
  Status st = file && H(fi)->write ? file->Fsync() : Status::Ok();
  ReplyStatus(req, st);
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  ReleaseHandle(Fs(req), ino, H(fi));
  fuse_reply_err(req, 0);
}

}  // namespace granary::fuse
