#pragma once
// InMemKv: a KvStore in a std::map, for unit tests and tools that need a
// scratch namespace. Same semantics as RocksDbKv, nothing survives the object.
// Thread-safe: one mutex around everything.

#include <map>
#include <mutex>

#include "metadata/kv/kv_store.h"

namespace granary::metadata {

class InMemKv final : public KvStore {
 public:
  InMemKv() = default;

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) override;
  Status Commit(const KvTxn& txn, const CommitOptions& options) override;
  // Nothing to make durable; counted for tests.
  Status Sync() override;
  // A copy of the whole map: unit-test namespaces are small.
  Result<std::shared_ptr<KvSnapshot>> NewSnapshot() override;

  // Test hooks: how many Commit calls were applied, and how many asked for sync.
  uint64_t commits() const;
  uint64_t synced_commits() const;
  uint64_t syncs() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;
  uint64_t commits_ = 0;
  uint64_t synced_commits_ = 0;
  uint64_t syncs_ = 0;
};

}  // namespace granary::metadata
