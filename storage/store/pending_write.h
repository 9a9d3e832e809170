#pragma once
// Internal to the chunk store: the state of one chunk version being written.

#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "storage/store/chunk_store.h"
#include "storage/store/file_util.h"

namespace granary::storage::store {

struct ChunkStore::PendingWrite {
  ChunkKey key;
  uint32_t folder = 0;
  std::string temp_path;  // unique per write attempt, so an aborted attempt
                          // and a new one for the same version never share it
  UniqueFd fd;
  uint64_t stamp = 0;  // ChunkStore::Stamp() when the write began

  // Shared by piece writes (concurrent pwrites to disjoint ranges); exclusive
  // for commit and abort, which must not overlap a pwrite in progress.
  std::shared_mutex io_mu;

  // Guards everything below. Lock order: io_mu, then mu.
  std::mutex mu;
  // Committed or aborted: the fd must not be written again.
  bool closed = false;
  // An I/O error hit a pwrite: the file's contents are unknown, so commit is
  // refused and the client writes a new version.
  Status poison;
  std::map<uint32_t, BlockEntry> blocks;  // received (or being written) blocks
  std::map<uint32_t, codec::BlockIndexEntry> index;  // their footer index entries
  std::chrono::steady_clock::time_point last_activity;
};

}  // namespace granary::storage::store
