#pragma once
// OrphanTable: when each orphan was last renewed by its client.
//
// An orphan is a file whose last name was removed while a client still had it
// open (unlink or rename over it with keep_orphan). Its inode, chunks and an
// "O" record naming the client stay in the store until the client releases it
// (ReleaseOrphan) or stops renewing it (KeepAlive) for orphan_ttl_ms; then
// upkeep frees it. The store holds who owns each orphan; this table holds
// only the renewal times, which are not worth a write per keep-alive. It is
// rebuilt at start from the "O" records, every orphan counted as renewed at
// that moment, so a restart of metad never frees an orphan early.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "metadata/kv/kv_store.h"
#include "metadata/state/clock.h"

namespace granary::metadata {

class OrphanTable {
 public:
  explicit OrphanTable(Clock& clock) : clock_(clock) {}

  // Reads every "O" record of `kv`; each counts as renewed now.
  Status Load(KvStore& kv);

  // Records `inode` as an orphan of `client_id`, renewed now.
  void Add(uint64_t inode, std::string client_id);
  // Renews `inode` when `client_id` owns it; false when it is unknown (never
  // an orphan, or already released) or another client's.
  bool Renew(uint64_t inode, std::string_view client_id);
  void Remove(uint64_t inode);

  // Orphans not renewed for `ttl_ms` or longer.
  std::vector<uint64_t> Expired(int64_t ttl_ms);
  bool IsExpired(uint64_t inode, int64_t ttl_ms);
  size_t size();

 private:
  struct Entry {
    std::string client_id;
    int64_t renewed_ms = 0;  // Clock::SteadyMs()
  };
  Clock& clock_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Entry> orphans_;
};

}  // namespace granary::metadata
