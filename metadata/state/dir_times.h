#pragma once
// DirTimes: lazily written folder mtime/ctime.
//
// Every create, unlink or rename changes its parent folder's times. Writing the
// parent inode in the same transaction would make a busy folder's inode the
// hottest key of the namespace: every create in it would conflict with every
// other (measured on etcd: 2,200 creates/s fall to 200/s). Instead the new time
// is kept here and written back by Flush(), which metad runs about once a second
// and at shutdown. Until then Overlay() shows it to every reader of this metad.
//
// Cost: a crash loses at most the last flush interval of folder time updates
// (never a namespace change). With several metads on etcd, another instance
// sees the new time after the next flush.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "common/proto/granary.pb.h"
#include "metadata/kv/kv_store.h"

namespace granary::metadata {

class DirTimes {
 public:
  explicit DirTimes(KvStore& kv) : kv_(kv) {}

  // Folder `dir` changed at `when`: its mtime and ctime become at least `when`.
  void Touch(uint64_t dir, const proto::Timespec& when);

  // Drops the pending time of `dir`: its mtime is being set explicitly
  // (utimens, as cp -a and rsync do after filling a folder) and must win.
  // Call before the transaction that sets it (see Flush).
  void Forget(uint64_t dir);

  // Applies a pending time newer than the inode's own. Any inode may be passed.
  void Overlay(proto::Inode* inode);

  // Writes pending times into the inode records (unsynced; a later synced
  // commit or the shutdown sync makes them durable). Folders deleted meanwhile
  // are skipped. Conflicts with concurrent changes are retried on the next call.
  Status Flush();

  size_t pending();

 private:
  KvStore& kv_;
  std::mutex mu_;
  std::unordered_map<uint64_t, proto::Timespec> pending_;
};

// a < b for timespecs.
bool TimeBefore(const proto::Timespec& a, const proto::Timespec& b);

}  // namespace granary::metadata
