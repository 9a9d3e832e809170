#pragma once
// GranaryFs: the state behind the libfuse3 low-level operations (fuse/ops_*.cc)
// of one mount: the client, the mount options, and what the kernel holds
// (InodeTable).
//
// Durability of a mount: namespace changes (create, mkdir, rename, unlink,
// chmod, ...) are committed to metad's write-ahead log before the call
// returns, so a crash of metad or of the mount loses none of them; they reach
// metad's disk within metad's WAL sync interval, or at once on fsync/fsyncdir,
// like a local file system's metadata. A file's data is published (visible to
// every client, on every replica) when it is closed, and durable on disk on
// every replica when fsync returns.
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <unordered_map>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "fuse/inode_table.h"
#include "fuse/mount_options.h"
#include "fuse/new_dirs.h"
#include "granary/client.h"

namespace granary::fuse {

class GranaryFs {
 public:
  GranaryFs(std::unique_ptr<Client> client, MountOptions options);
  ~GranaryFs();

  // The operation table; callbacks find this object through fuse_req_userdata.
  static const fuse_lowlevel_ops& Ops();

  Client& client() { return *client_; }
  const MountOptions& options() const { return options_; }
  InodeTable& inodes() { return inodes_; }
  NewDirs& new_dirs() { return new_dirs_; }

  // Starts renewing write leases and open-but-unlinked files every few
  // seconds, so an idle open file keeps both.
  void StartKeepAlive();
  // Flushes and closes every open file and releases orphans (unmount, SIGTERM).
  void CloseAll();

  // Attributes of `ino` as this mount sees them: a file open for writing here
  // shows its buffered size. Served from the attribute cache when it is
  // younger than attr_timeout.
  Result<FileInfo> Attr(uint64_t ino);
  // The attribute cache: what metad last said of an inode. The kernel drops
  // its own copy after every change it makes (a create invalidates the
  // folder's attributes, a write the file's), then asks again at once, for a
  // permission check or a size; answering from here saves a round trip each
  // time. Entries live attr_timeout, the staleness the kernel's own cache is
  // allowed anyway.
  //
  // Two races are closed here. A read of metad (getattr, lookup, a listing)
  // that started before a change of the same inode finished must not put its
  // older answer over the newer one: reads pass the AttrEpoch() they started
  // at, and lose to any change remembered or forgotten since. And a folder's
  // times move with every entry made or removed in it: a cached folder must
  // not show its old mtime after a create (rsync and cp -a decide from that
  // mtime whether to set it again).
  static constexpr uint64_t kChange = ~uint64_t{0};
  uint64_t AttrEpoch();
  // `info` as of a change this mount made (kChange) or of a read that started
  // at `epoch`.
  void Remember(const FileInfo& info, uint64_t epoch = kChange);
  void ForgetAttr(uint64_t ino);
  // An entry was made in folder `dir`: metad set the folder's mtime and ctime
  // to the new inode's ctime, and so does the cache.
  void EntryAdded(uint64_t dir, const FileInfo& child);
  // Folder `dir` changed at `sec`.`nsec` (as metad says): a cached copy of
  // its attributes gets that mtime and ctime when newer.
  void DirTouched(uint64_t dir, int64_t sec, uint32_t nsec);
  // Overlays what this mount knows (buffered size) on attributes from metad.
  FileInfo Overlay(FileInfo info);

 private:
  void KeepAliveLoop();

  struct CachedAttr {
    FileInfo info;
    std::chrono::steady_clock::time_point at;
    uint64_t seq = 0;    // attr_seq_ when stored
    bool valid = false;  // false: forgotten (kept so older reads lose to it)
  };

  std::unique_ptr<Client> client_;
  MountOptions options_;
  InodeTable inodes_;
  NewDirs new_dirs_;
  std::mutex attr_mu_;
  std::unordered_map<uint64_t, CachedAttr> attrs_;
  uint64_t attr_seq_ = 0;
  std::mutex keepalive_mu_;
  std::condition_variable keepalive_cv_;
  bool stopping_ = false;
  std::thread keepalive_;
};

// The GranaryFs of a request.
inline GranaryFs& Fs(fuse_req_t req) { return *static_cast<GranaryFs*>(fuse_req_userdata(req)); }

}  // namespace granary::fuse
