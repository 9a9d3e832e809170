#include "fuse/granary_fs.h"

#include <sys/stat.h>

#include <chrono>

#include "common/log.h"
#include "fuse/errno_map.h"
#include "fuse/ops.h"

namespace granary::fuse {

GranaryFs::GranaryFs(std::unique_ptr<Client> client, MountOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      new_dirs_(std::chrono::duration<double>(options_.negative_timeout)) {}

GranaryFs::~GranaryFs() {
  {
    std::lock_guard lock(keepalive_mu_);
    stopping_ = true;
  }
  keepalive_cv_.notify_all();
  if (keepalive_.joinable()) keepalive_.join();
}

void GranaryFs::StartKeepAlive() { keepalive_ = std::thread([this] { KeepAliveLoop(); }); }

void GranaryFs::KeepAliveLoop() {
  std::unique_lock lock(keepalive_mu_);
  while (!stopping_) {
    // metad's leases last 60 s and orphans 120 s by default; renewing every
    // 10 s survives a few lost renewals.
    keepalive_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    std::vector<LeaseRef> leases;
    std::vector<uint64_t> orphans;
    inodes_.Held(&leases, &orphans);
    if (!leases.empty() || !orphans.empty()) {
      Status st = client_->KeepAlive(leases, orphans);
      if (!st.ok()) LOG_WARN("keep-alive: {}", st.ToString());
    }
    lock.lock();
  }
}

void GranaryFs::CloseAll() {
  for (auto& f : inodes_.OpenFiles()) {
    Status st = f->Close();
    if (!st.ok()) LOG_ERROR("closing {} at unmount: {}", f->info().inode, st.ToString());
  }
  for (uint64_t ino : inodes_.Orphans()) {
    Status st = client_->ReleaseOrphan(ino);
    if (!st.ok()) LOG_WARN("{}", st.ToString());
  }
}

FileInfo GranaryFs::Overlay(FileInfo info) {
  if (auto s = inodes_.Find(info.inode)) {
    std::lock_guard lock(s->open_mu);
    if (s->file && s->writable) info.size = s->file->size();
  }
  return info;
}

Result<FileInfo> GranaryFs::Attr(uint64_t ino) {
  if (auto s = inodes_.Find(ino)) {
    // A file open here: its handle has the newest attributes (it published
    // them at its last flush) and its buffered size.
    std::lock_guard lock(s->open_mu);
    if (s->file && s->writable) return s->file->info();
  }
  if (options_.attr_timeout > 0) {
    std::lock_guard lock(attr_mu_);
    auto it = attrs_.find(ino);
    if (it != attrs_.end() && it->second.valid &&
        std::chrono::steady_clock::now() - it->second.at <
            std::chrono::duration<double>(options_.attr_timeout)) {
      return it->second.info;
    }
  }
  const uint64_t epoch = AttrEpoch();
  ASSIGN_OR_RETURN(FileInfo info, client_->GetAttr(ino));
  Remember(info, epoch);
  return Overlay(std::move(info));
}

uint64_t GranaryFs::AttrEpoch() {
  std::lock_guard lock(attr_mu_);
  return attr_seq_;
}

void GranaryFs::Remember(const FileInfo& info, uint64_t epoch) {
  if (options_.attr_timeout <= 0) return;
  std::lock_guard lock(attr_mu_);
  // Bounded: a full cache starts over (entries are short-lived anyway).
  if (attrs_.size() >= 200000) attrs_.clear();
  CachedAttr& c = attrs_[info.inode];
  if (epoch != kChange && c.seq > epoch) return;  // changed since this read began
  c = {info, std::chrono::steady_clock::now(), ++attr_seq_, true};
}

void GranaryFs::ForgetAttr(uint64_t ino) {
  if (options_.attr_timeout <= 0) return;
  std::lock_guard lock(attr_mu_);
  if (attrs_.size() >= 200000) attrs_.clear();
  attrs_[ino] = {{}, std::chrono::steady_clock::now(), ++attr_seq_, false};
}

void GranaryFs::EntryAdded(uint64_t dir, const FileInfo& child) {
  DirTouched(dir, child.ctime_sec, child.ctime_nsec);
}

void GranaryFs::DirTouched(uint64_t dir, int64_t sec, uint32_t nsec) {
  if (options_.attr_timeout <= 0) return;
  std::lock_guard lock(attr_mu_);
  auto it = attrs_.find(dir);
  if (it == attrs_.end()) return;
  CachedAttr& c = it->second;
  c.seq = ++attr_seq_;  // a read that began before this change is older
  if (!c.valid) return;
  auto before = [](int64_t s1, uint32_t n1, int64_t s2, uint32_t n2) {
    return s1 != s2 ? s1 < s2 : n1 < n2;
  };
  if (before(c.info.mtime_sec, c.info.mtime_nsec, sec, nsec)) {
    c.info.mtime_sec = sec;
    c.info.mtime_nsec = nsec;
  }
  if (before(c.info.ctime_sec, c.info.ctime_nsec, sec, nsec)) {
    c.info.ctime_sec = sec;
    c.info.ctime_nsec = nsec;
  }
}

// ------------------------------------------------------------- shared helpers

void ReplyStatus(fuse_req_t req, const Status& st) {
  int e = ToErrno(st);
  if (e == EIO) LOG_WARN("I/O error: {}", st.ToString());
  fuse_reply_err(req, e);
}

struct stat ToStat(const FileInfo& f) {
  struct stat st {};
  st.st_ino = f.inode;
  mode_t type = S_IFREG;
  if (f.type == FileType::kDirectory) type = S_IFDIR;
  if (f.type == FileType::kSymlink) type = S_IFLNK;
  st.st_mode = type | (f.mode & 07777);
  st.st_nlink = f.type == FileType::kDirectory ? std::max<uint32_t>(f.nlink, 2) : f.nlink;
  st.st_uid = f.uid;
  st.st_gid = f.gid;
  st.st_size = static_cast<off_t>(f.size);
  st.st_blocks = static_cast<blkcnt_t>((f.size + 511) / 512);
  // Large I/O units: cp and friends size their buffers from st_blksize.
  st.st_blksize = 1 << 20;
  st.st_atim = {f.atime_sec ? f.atime_sec : f.mtime_sec,
                static_cast<long>(f.atime_sec ? f.atime_nsec : f.mtime_nsec)};
  st.st_mtim = {f.mtime_sec, static_cast<long>(f.mtime_nsec)};
  st.st_ctim = {f.ctime_sec, static_cast<long>(f.ctime_nsec)};
  return st;
}

void FillEntry(GranaryFs& fs, const FileInfo& info, fuse_entry_param* e) {
  *e = fuse_entry_param{};
  e->ino = info.inode;
  e->generation = 1;  // inode numbers are never reused
  e->attr = ToStat(info);
  e->attr_timeout = fs.options().attr_timeout;
  e->entry_timeout = fs.options().entry_timeout;
}

void ReplyEntry(fuse_req_t req, const FileInfo& info, uint64_t epoch) {
  GranaryFs& fs = Fs(req);
  fs.Remember(info, epoch);
  fuse_entry_param e;
  FillEntry(fs, fs.Overlay(info), &e);
  fs.inodes().AddLookup(info.inode);
  if (fuse_reply_entry(req, &e) != 0) fs.inodes().Forget(info.inode, 1);  // interrupted
}

Credentials Caller(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  return {c->uid, c->gid};
}

}  // namespace granary::fuse
