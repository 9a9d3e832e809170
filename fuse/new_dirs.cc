#include "fuse/new_dirs.h"

namespace granary::fuse {

void NewDirs::Expire(Clock::time_point now) {
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    it = now - it->second.created >= window_ ? dirs_.erase(it) : std::next(it);
  }
}

void NewDirs::Created(uint64_t dir) {
  if (window_.count() <= 0) return;
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  // Bounded: old folders go first; a flood of mkdirs within one window
  // simply forgets the oldest knowledge (lookups then ask metad).
  if (dirs_.size() >= 4096) Expire(now);
  if (dirs_.size() >= 4096) dirs_.clear();
  dirs_[dir] = Dir{now, {}};
}

void NewDirs::Added(uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(parent);
  if (it == dirs_.end()) return;
  // A very full folder stops being tracked rather than growing without bound.
  if (it->second.names.size() >= 100000) {
    dirs_.erase(it);
    return;
  }
  it->second.names.emplace(name);
}

void NewDirs::Removed(uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(parent);
  if (it != dirs_.end()) it->second.names.erase(std::string(name));
}

bool NewDirs::KnownAbsent(uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(parent);
  if (it == dirs_.end()) return false;
  if (Clock::now() - it->second.created >= window_) {
    dirs_.erase(it);
    return false;
  }
  return !it->second.names.contains(std::string(name));
}

}  // namespace granary::fuse
