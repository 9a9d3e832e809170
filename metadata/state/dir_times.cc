#include "metadata/state/dir_times.h"

#include <vector>

#include "metadata/schema/records.h"

namespace granary::metadata {

bool TimeBefore(const proto::Timespec& a, const proto::Timespec& b) {
  return a.sec() != b.sec() ? a.sec() < b.sec() : a.nsec() < b.nsec();
}

void DirTimes::Touch(uint64_t dir, const proto::Timespec& when) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = pending_.try_emplace(dir, when);
  if (!inserted && TimeBefore(it->second, when)) it->second = when;
}

void DirTimes::Forget(uint64_t dir) {
  std::lock_guard lock(mu_);
  pending_.erase(dir);
}

void DirTimes::Overlay(proto::Inode* inode) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(inode->id());
  if (it == pending_.end()) return;
  if (TimeBefore(inode->mtime(), it->second)) *inode->mutable_mtime() = it->second;
  if (TimeBefore(inode->ctime(), it->second)) *inode->mutable_ctime() = it->second;
}

Status DirTimes::Flush() {
  // Copy, write, then forget only what was written: entries stay visible to
  // Overlay until their inode holds them, and newer touches are kept.
  std::vector<std::pair<uint64_t, proto::Timespec>> work;
  {
    std::lock_guard lock(mu_);
    work.assign(pending_.begin(), pending_.end());
  }
  Status first_error;
  for (const auto& [dir, when] : work) {
    Status st;
    // Held across the write: a Forget (an explicit mtime being set) either
    // comes first, and this entry is skipped, or waits until this write is
    // in, so the setattr's transaction conflicts with it and retries on top.
    std::lock_guard flush_lock(mu_);
    auto cur = pending_.find(dir);
    if (cur == pending_.end()) continue;  // forgotten meanwhile
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(kv_, dir));
    if (rec && (TimeBefore(rec->inode.mtime(), when) || TimeBefore(rec->inode.ctime(), when))) {
      proto::Inode updated = rec->inode;
      if (TimeBefore(updated.mtime(), when)) *updated.mutable_mtime() = when;
      if (TimeBefore(updated.ctime(), when)) *updated.mutable_ctime() = when;
      KvTxn txn;
      txn.ExpectEquals(InodeKey(dir), rec->raw);
      txn.Put(InodeKey(dir), SerializeInode(updated));
      st = kv_.Commit(txn, CommitOptions{.sync = false});
    }
    if (!st.ok()) {
      if (first_error.ok() && st.code() != proto::STALE_VERSION) first_error = st;
      continue;  // stays pending; retried next time
    }
    if (!TimeBefore(when, cur->second)) pending_.erase(cur);
  }
  return first_error;
}

size_t DirTimes::pending() {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace granary::metadata
