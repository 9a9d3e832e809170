#include "storage/store/file_cache.h"

namespace granary::storage::store {

std::shared_ptr<const ChunkFile> FileCache::Get(const ChunkKey& key) {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void FileCache::Put(const ChunkKey& key, std::shared_ptr<const ChunkFile> file) {
  if (capacity_ == 0) return;
  // The evicted file is released after the lock: closing an fd is a syscall.
  std::shared_ptr<const ChunkFile> evicted;
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second->second = std::move(file);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(file));
  map_[key] = lru_.begin();
  if (lru_.size() > capacity_) {
    evicted = std::move(lru_.back().second);
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void FileCache::Erase(const ChunkKey& key) {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return;
  lru_.erase(it->second);
  map_.erase(it);
}

size_t FileCache::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace granary::storage::store
