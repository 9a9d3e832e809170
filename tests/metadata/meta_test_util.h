#pragma once
// MetaTest: a MetaState over an in-memory (or RocksDB) KvStore with a manual
// clock, plus one-line wrappers around the operations for the tests.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "metadata/kv/inmem_kv.h"
#include "metadata/kv/rocksdb_kv.h"
#include "metadata/ops/ops.h"
#include "metadata/schema/keys.h"
#include "metadata/schema/records.h"
#include "metadata/state/meta_state.h"
#include "tests/testutil/status_matchers.h"

namespace granary::metadata::testing {

// A fresh folder under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class MetaTest : public ::testing::Test {
 protected:
  // Options used by Open(): a fixed seed and no free-space floor, so that tiny
  // fake nodes are eligible.
  static MetaOptions TestOptions();

  void SetUp() override;
  // (Re)creates the MetaState on the current store, as a restart would.
  void OpenState();

  // The operations, returning the interesting part of the response.
  Result<proto::Inode> Mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755);
  Result<proto::CreateResponse> Create(uint64_t parent, const std::string& name,
                                       proto::CreateRequest req = {});
  // Create with open_for_write for client "c1" unless `client` is given.
  Result<proto::CreateResponse> CreateForWrite(uint64_t parent, const std::string& name,
                                               const std::string& client = "c1");
  Status Unlink(uint64_t parent, const std::string& name);
  Status Rmdir(uint64_t parent, const std::string& name);
  Status Rename(uint64_t src_parent, const std::string& src_name, uint64_t dst_parent,
                const std::string& dst_name, bool no_replace = false);
  Result<proto::Inode> Lookup(uint64_t parent, const std::string& name);
  Result<proto::Inode> Stat(uint64_t inode);
  Result<proto::Inode> ResolvePath(const std::string& path);
  // Every entry name of a folder, following pages of `page` entries.
  Result<std::vector<std::string>> ListNames(uint64_t dir, uint32_t page = 0);
  Result<proto::OpenResponse> OpenFile(uint64_t inode, bool write = false,
                                       const std::string& client = "c1");
  Result<proto::ChunkInfo> Allocate(uint64_t inode, uint64_t lease, uint64_t index,
                                    std::vector<std::string> exclude = {});
  // Commits `chunk` as allocated, with `length` raw bytes.
  Status Commit(uint64_t inode, uint64_t lease, proto::ChunkInfo chunk, uint64_t length);
  Result<proto::Inode> CloseFile(uint64_t inode, uint64_t lease, uint64_t size,
                                 bool release = true);
  Result<std::vector<proto::ChunkInfo>> Layout(uint64_t inode);
  // Registers nodes n0..n{count-1} with `free_bytes` free of 1 TiB, domains
  // taken from `domains` when given.
  void AddNodes(int count, uint64_t free_bytes = 1ull << 39,
                const std::vector<std::string>& domains = {});
  // Heartbeats node `id` and returns the deletions it was handed.
  Result<std::vector<proto::ChunkRef>> Beat(const std::string& id);

  // Symlinks, extended attributes, orphans, inline data, exchange.
  Result<proto::Inode> Symlink(uint64_t parent, const std::string& name,
                               const std::string& target);
  Status SetXattr(uint64_t inode, const std::string& name, const std::string& value,
                  proto::XattrSetMode mode = proto::XATTR_ANY);
  Result<std::string> GetXattr(uint64_t inode, const std::string& name);
  Result<std::vector<std::string>> ListXattr(uint64_t inode);
  Status RemoveXattr(uint64_t inode, const std::string& name);
  // Unlink with keep_orphan for `client`; returns orphan_inode.
  Result<uint64_t> UnlinkKeep(uint64_t parent, const std::string& name,
                              const std::string& client = "c1");
  Status ReleaseOrphan(uint64_t inode, const std::string& client = "c1");
  Result<proto::Inode> CloseInline(uint64_t inode, uint64_t lease, const std::string& data,
                                   bool release = true);
  Status Exchange(uint64_t src_parent, const std::string& src_name, uint64_t dst_parent,
                  const std::string& dst_name);
  Result<proto::Inode> SetSize(uint64_t inode, uint64_t size);
  // Every key of the store starting with `prefix`.
  std::vector<std::string> KeysWithPrefix(const std::string& prefix);

  std::unique_ptr<KvStore> kv_ = std::make_unique<InMemKv>();
  ManualClock clock_;
  std::unique_ptr<MetaState> state_;
};

}  // namespace granary::metadata::testing
