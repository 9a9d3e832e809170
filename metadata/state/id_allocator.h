#pragma once
// IdAllocator: hands out unique, increasing u64 ids (inodes, chunks).
//
// The persistent counter (`key`, a big-endian u64: the first id not yet
// reserved) is advanced by `batch` ids per transaction, and ids are then handed
// out from memory. That keeps the counter key from being written on every
// create, which would make it the hottest key of the namespace, and lets
// several metads (on etcd) each reserve their own ranges. Ids reserved but not
// handed out before a restart are skipped; ids are never reused.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>

#include "metadata/kv/kv_store.h"

namespace granary::metadata {

class IdAllocator {
 public:
  // `first_id`: the first id ever handed out when the counter is absent.
  IdAllocator(KvStore& kv, std::string key, uint64_t first_id, uint64_t batch);

  // A fresh id, or the store's error when a new range could not be reserved.
  Result<uint64_t> Next();

 private:
  Status Reserve();

  KvStore& kv_;
  const std::string key_;
  const uint64_t first_id_;
  const uint64_t batch_;
  std::mutex mu_;
  uint64_t next_ = 0;   // next id to hand out
  uint64_t limit_ = 0;  // end of the reserved range (exclusive)
};

}  // namespace granary::metadata
