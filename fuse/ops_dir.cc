// Folder listing. An open folder keeps the entries fetched so far, so the
// kernel's offsets (an entry's position + 1, with "." and ".." first) stay
// valid however the reads are cut; pages of entries are fetched from metad
// as the kernel reads on.
#include <sys/stat.h>

#include <mutex>
#include <string>
#include <vector>

#include "fuse/ops.h"

namespace granary::fuse {
namespace {

constexpr uint32_t kPageEntries = 1024;

struct DirHandle {
  std::mutex mu;
  std::vector<DirEntryInfo> entries;  // entries[i] has offset i + 3
  std::vector<uint64_t> epochs;       // AttrEpoch() before entries[i] was fetched
  bool complete = false;
};

DirHandle* Dir(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

// Fetches pages until entry `index` is known or the listing is complete.
Status Ensure(GranaryFs& fs, fuse_ino_t ino, DirHandle& d, size_t index) {
  while (!d.complete && d.entries.size() <= index) {
    std::string after = d.entries.empty() ? "" : d.entries.back().name;
    const uint64_t epoch = fs.AttrEpoch();
    ASSIGN_OR_RETURN(DirPage page, fs.client().ReadDirAt(ino, after, kPageEntries));
    for (auto& e : page.entries) d.entries.push_back(std::move(e));
    d.epochs.resize(d.entries.size(), epoch);
    d.complete = !page.has_more;
  }
  return Status::Ok();
}

void List(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  GranaryFs& fs = Fs(req);
  DirHandle& d = *Dir(fi);
  // Unlocked before replying: once the kernel has the reply it may release
  // the folder (and free `d`) on another thread.
  std::unique_lock lock(d.mu);
  if (off == 0) {
    // A new pass (or rewinddir): list afresh.
    d.entries.clear();
    d.epochs.clear();
    d.complete = false;
  }
  std::vector<char> buf(size);
  size_t used = 0;
  for (off_t pos = off;; ++pos) {
    std::string name;
    fuse_entry_param e{};
    const DirEntryInfo* entry = nullptr;
    if (pos == 0 || pos == 1) {
      name = pos == 0 ? "." : "..";
      e.attr.st_ino = pos == 0 ? ino : 0;
      e.attr.st_mode = S_IFDIR;
    } else {
      const size_t i = static_cast<size_t>(pos - 2);
      Status st = Ensure(fs, ino, d, i);
      if (!st.ok()) {
        if (used == 0) {
          lock.unlock();
          return ReplyStatus(req, st);
        }
        break;
      }
      if (i >= d.entries.size()) break;
      entry = &d.entries[i];
      name = entry->name;
      if (plus) {
        fs.Remember(entry->info, d.epochs[i]);
        FillEntry(fs, fs.Overlay(entry->info), &e);
      } else {
        e.attr = ToStat(entry->info);
      }
    }
    size_t n;
    if (plus) {
      n = fuse_add_direntry_plus(req, buf.data() + used, size - used, name.c_str(), &e, pos + 1);
    } else {
      n = fuse_add_direntry(req, buf.data() + used, size - used, name.c_str(), &e.attr, pos + 1);
    }
    if (n > size - used) break;
    used += n;
    // readdirplus hands the kernel a reference to every real entry.
    if (plus && entry) fs.inodes().AddLookup(entry->info.inode);
  }
  lock.unlock();
  fuse_reply_buf(req, buf.data(), used);
}

}  // namespace

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  fi->fh = reinterpret_cast<uint64_t>(new DirHandle);
  fi->cache_readdir = 0;
  if (fuse_reply_open(req, fi) != 0) delete Dir(fi);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  List(req, ino, size, off, fi, /*plus=*/false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  List(req, ino, size, off, fi, /*plus=*/true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  delete Dir(fi);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  ReplyStatus(req, Fs(req).client().SyncMetadata());
}

}  // namespace granary::fuse
