#pragma once
// FileCache: a bounded LRU of open, validated chunk files, so a hot chunk is
// read with one pread instead of open + two footer reads + a checksum.
//
// Entries are shared_ptrs: an evicted or erased file stays open until the last
// reader drops it, so eviction never races with a read in progress.
// Thread safety: all methods may be called concurrently.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "storage/store/chunk_file.h"
#include "storage/store/chunk_format.h"

namespace granary::storage::store {

class FileCache {
 public:
  // `capacity` entries at most (each holds a file descriptor and the block
  // table: 32 bytes per block). 0 disables caching.
  explicit FileCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const ChunkFile> Get(const ChunkKey& key);
  void Put(const ChunkKey& key, std::shared_ptr<const ChunkFile> file);
  void Erase(const ChunkKey& key);
  size_t size() const;

 private:
  using Entry = std::pair<ChunkKey, std::shared_ptr<const ChunkFile>>;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<ChunkKey, std::list<Entry>::iterator, ChunkKeyHash> map_;
};

}  // namespace granary::storage::store
