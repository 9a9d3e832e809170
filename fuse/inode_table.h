#pragma once
// What the mount knows about each inode the kernel holds: the kernel's lookup
// count (so we know when it has forgotten the inode), open handles, the one
// OpenFile all handles of the inode share (so every process on this mount
// sees the others' writes at once), and the file version the kernel's page
// cache holds (keep_cache).
//
// Granary inode numbers are used as FUSE node ids directly; the root is 1 in
// both.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "granary/client.h"

namespace granary::fuse {

struct InodeState {
  uint64_t nlookup = 0;  // kernel references (lookup, create, readdirplus, ...)
  int opens = 0;         // open handles
  std::mutex open_mu;    // serializes opening/upgrading `file`
  std::shared_ptr<OpenFile> file;  // shared by every handle; null when none open
  bool writable = false;
  bool orphan = false;   // unlinked while open: released at the last close
  // Version (mtime, size) whose data the kernel cached at the last open.
  int64_t cached_mtime_sec = -1;
  uint32_t cached_mtime_nsec = 0;
  uint64_t cached_size = 0;
};

class InodeTable {
 public:
  // The state of `ino`, created if absent.
  std::shared_ptr<InodeState> Get(uint64_t ino);
  std::shared_ptr<InodeState> Find(uint64_t ino);
  void AddLookup(uint64_t ino, uint64_t n = 1);
  // Drops `n` kernel references; forgets idle inodes.
  void Forget(uint64_t ino, uint64_t n);
  // Leases and orphans to renew (KeepAlive).
  void Held(std::vector<LeaseRef>* leases, std::vector<uint64_t>* orphans);
  // Every open file (for the final flush at unmount).
  std::vector<std::shared_ptr<OpenFile>> OpenFiles();
  // Inodes unlinked while open here (released at unmount).
  std::vector<uint64_t> Orphans();
  // True when some file is open through this mount (unlink and rename then
  // check whether they remove an open file).
  bool AnyOpen();
  // Forgets `ino` when the kernel holds no reference and nothing is open.
  void EraseIfIdle(uint64_t ino);
  // Counts an open handle of `ino` / drops one; returns the opens left.
  int AddOpen(InodeState& s);
  int DropOpen(InodeState& s);
  int Opens(InodeState& s);

 private:
  std::mutex mu_;
  size_t open_inodes_ = 0;  // inodes with opens > 0 (see AnyOpen)
  std::unordered_map<uint64_t, std::shared_ptr<InodeState>> map_;
};

}  // namespace granary::fuse
