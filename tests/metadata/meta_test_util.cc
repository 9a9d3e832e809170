#include "tests/metadata/meta_test_util.h"

#include <unistd.h>

#include <atomic>

namespace granary::metadata::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  auto base = std::filesystem::temp_directory_path();
  path_ = (base / ("granary-meta-test-" + std::to_string(::getpid()) + "-" +
                   std::to_string(counter++)))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

MetaOptions MetaTest::TestOptions() {
  MetaOptions o;
  o.seed = 42;
  o.placement.min_free_bytes = 0;
  o.placement.min_free_percent = 0;
  o.id_batch = 16;  // small, so that tests cross batch boundaries
  return o;
}

void MetaTest::SetUp() { OpenState(); }

void MetaTest::OpenState() {
  state_.reset();
  Result<std::unique_ptr<MetaState>> st = MetaState::Open(*kv_, clock_, TestOptions());
  ASSERT_OK(st);
  state_ = std::move(st).value();
}

Result<proto::Inode> MetaTest::Mkdir(uint64_t parent, const std::string& name, uint32_t mode) {
  proto::MkdirRequest req;
  req.set_parent(parent);
  req.set_name(name);
  req.set_mode(mode);
  proto::MkdirResponse resp;
  Status st = metadata::Mkdir(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Result<proto::CreateResponse> MetaTest::Create(uint64_t parent, const std::string& name,
                                               proto::CreateRequest req) {
  req.set_parent(parent);
  req.set_name(name);
  if (req.mode() == 0) req.set_mode(0644);
  proto::CreateResponse resp;
  Status st = metadata::Create(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp;
}

Result<proto::CreateResponse> MetaTest::CreateForWrite(uint64_t parent, const std::string& name,
                                                       const std::string& client) {
  proto::CreateRequest req;
  req.set_open_for_write(true);
  req.set_client_id(client);
  return Create(parent, name, req);
}

Status MetaTest::Unlink(uint64_t parent, const std::string& name) {
  proto::UnlinkRequest req;
  req.set_parent(parent);
  req.set_name(name);
  proto::UnlinkResponse resp;
  return metadata::Unlink(*state_, req, &resp);
}

Status MetaTest::Rmdir(uint64_t parent, const std::string& name) {
  proto::RmdirRequest req;
  req.set_parent(parent);
  req.set_name(name);
  proto::RmdirResponse resp;
  return metadata::Rmdir(*state_, req, &resp);
}

Status MetaTest::Rename(uint64_t src_parent, const std::string& src_name, uint64_t dst_parent,
                        const std::string& dst_name, bool no_replace) {
  proto::RenameRequest req;
  req.set_src_parent(src_parent);
  req.set_src_name(src_name);
  req.set_dst_parent(dst_parent);
  req.set_dst_name(dst_name);
  req.set_no_replace(no_replace);
  proto::RenameResponse resp;
  return metadata::Rename(*state_, req, &resp);
}

Result<proto::Inode> MetaTest::Lookup(uint64_t parent, const std::string& name) {
  proto::LookupRequest req;
  req.set_parent(parent);
  req.set_name(name);
  proto::LookupResponse resp;
  Status st = metadata::Lookup(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Result<proto::Inode> MetaTest::Stat(uint64_t inode) {
  proto::GetAttrRequest req;
  req.set_inode(inode);
  proto::GetAttrResponse resp;
  Status st = metadata::GetAttr(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Result<proto::Inode> MetaTest::ResolvePath(const std::string& path) {
  proto::ResolveRequest req;
  req.set_path(path);
  proto::ResolveResponse resp;
  Status st = metadata::Resolve(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Result<std::vector<std::string>> MetaTest::ListNames(uint64_t dir, uint32_t page) {
  std::vector<std::string> names;
  std::string after;
  for (int pages = 0; pages < 100000; ++pages) {
    proto::ReadDirRequest req;
    req.set_inode(dir);
    req.set_start_after(after);
    req.set_limit(page);
    proto::ReadDirResponse resp;
    Status st = metadata::ReadDir(*state_, req, &resp);
    if (!st.ok()) return st;
    for (const proto::DirEntry& e : resp.entries()) names.push_back(e.name());
    if (!resp.has_more()) return names;
    if (resp.entries_size() == 0) return Status::Internal("has_more with an empty page");
    after = resp.entries(resp.entries_size() - 1).name();
  }
  return Status::Internal("readdir did not end");
}

Result<proto::OpenResponse> MetaTest::OpenFile(uint64_t inode, bool write,
                                               const std::string& client) {
  proto::OpenRequest req;
  req.set_inode(inode);
  req.set_write(write);
  req.set_client_id(client);
  proto::OpenResponse resp;
  Status st = metadata::Open(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp;
}

Result<proto::ChunkInfo> MetaTest::Allocate(uint64_t inode, uint64_t lease, uint64_t index,
                                            std::vector<std::string> exclude) {
  proto::AllocateChunkRequest req;
  req.set_inode(inode);
  req.set_lease_id(lease);
  req.set_chunk_index(index);
  for (std::string& e : exclude) req.add_exclude_nodes(std::move(e));
  proto::AllocateChunkResponse resp;
  Status st = metadata::AllocateChunk(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.chunk();
}

Status MetaTest::Commit(uint64_t inode, uint64_t lease, proto::ChunkInfo chunk, uint64_t length) {
  proto::CommitChunkRequest req;
  req.set_inode(inode);
  req.set_lease_id(lease);
  chunk.set_length(length);
  chunk.set_stored_length(length + 64);
  chunk.set_block_count(static_cast<uint32_t>((length + (1 << 20) - 1) >> 20));
  *req.mutable_chunk() = std::move(chunk);
  proto::CommitChunkResponse resp;
  return metadata::CommitChunk(*state_, req, &resp);
}

Result<proto::Inode> MetaTest::CloseFile(uint64_t inode, uint64_t lease, uint64_t size,
                                         bool release) {
  proto::CloseRequest req;
  req.set_inode(inode);
  req.set_lease_id(lease);
  req.set_size(size);
  req.set_release(release);
  proto::CloseResponse resp;
  Status st = metadata::Close(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Result<std::vector<proto::ChunkInfo>> MetaTest::Layout(uint64_t inode) {
  proto::GetLayoutRequest req;
  req.set_inode(inode);
  proto::GetLayoutResponse resp;
  Status st = metadata::GetLayout(*state_, req, &resp);
  if (!st.ok()) return st;
  return std::vector<proto::ChunkInfo>(resp.chunks().begin(), resp.chunks().end());
}

void MetaTest::AddNodes(int count, uint64_t free_bytes, const std::vector<std::string>& domains) {
  for (int i = 0; i < count; ++i) {
    proto::RegisterNodeRequest req;
    proto::NodeInfo* n = req.mutable_node();
    n->set_node_id("n" + std::to_string(i));
    n->set_address("127.0.0.1:" + std::to_string(9000 + i));
    if (i < static_cast<int>(domains.size())) n->set_failure_domain(domains[i]);
    n->set_capacity_bytes(1ull << 40);
    n->set_free_bytes(free_bytes);
    n->set_used_bytes((1ull << 40) - free_bytes);
    proto::RegisterNodeResponse resp;
    ASSERT_OK(metadata::RegisterNode(*state_, req, &resp));
  }
}

Result<std::vector<proto::ChunkRef>> MetaTest::Beat(const std::string& id) {
  proto::HeartbeatRequest req;
  req.mutable_node()->set_node_id(id);
  req.mutable_node()->set_capacity_bytes(1ull << 40);
  req.mutable_node()->set_free_bytes(1ull << 39);
  proto::HeartbeatResponse resp;
  Status st = metadata::Heartbeat(*state_, req, &resp);
  if (!st.ok()) return st;
  if (resp.reregister()) return Status::NotFound("reregister requested for " + id);
  return std::vector<proto::ChunkRef>(resp.delete_chunks().begin(), resp.delete_chunks().end());
}

Result<proto::Inode> MetaTest::Symlink(uint64_t parent, const std::string& name,
                                      const std::string& target) {
  proto::SymlinkRequest req;
  req.set_parent(parent);
  req.set_name(name);
  req.set_target(target);
  proto::SymlinkResponse resp;
  Status st = metadata::Symlink(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Status MetaTest::SetXattr(uint64_t inode, const std::string& name, const std::string& value,
                          proto::XattrSetMode mode) {
  proto::SetXattrRequest req;
  req.set_inode(inode);
  req.set_name(name);
  req.set_value(value);
  req.set_mode(mode);
  proto::SetXattrResponse resp;
  return metadata::SetXattr(*state_, req, &resp);
}

Result<std::string> MetaTest::GetXattr(uint64_t inode, const std::string& name) {
  proto::GetXattrRequest req;
  req.set_inode(inode);
  req.set_name(name);
  proto::GetXattrResponse resp;
  Status st = metadata::GetXattr(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.value();
}

Result<std::vector<std::string>> MetaTest::ListXattr(uint64_t inode) {
  proto::ListXattrRequest req;
  req.set_inode(inode);
  proto::ListXattrResponse resp;
  Status st = metadata::ListXattr(*state_, req, &resp);
  if (!st.ok()) return st;
  return std::vector<std::string>(resp.names().begin(), resp.names().end());
}

Status MetaTest::RemoveXattr(uint64_t inode, const std::string& name) {
  proto::RemoveXattrRequest req;
  req.set_inode(inode);
  req.set_name(name);
  proto::RemoveXattrResponse resp;
  return metadata::RemoveXattr(*state_, req, &resp);
}

Result<uint64_t> MetaTest::UnlinkKeep(uint64_t parent, const std::string& name,
                                      const std::string& client) {
  proto::UnlinkRequest req;
  req.set_parent(parent);
  req.set_name(name);
  req.set_keep_orphan(true);
  req.set_orphan_client(client);
  proto::UnlinkResponse resp;
  Status st = metadata::Unlink(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.orphan_inode();
}

Status MetaTest::ReleaseOrphan(uint64_t inode, const std::string& client) {
  proto::ReleaseOrphanRequest req;
  req.set_inode(inode);
  req.set_client_id(client);
  proto::ReleaseOrphanResponse resp;
  return metadata::ReleaseOrphan(*state_, req, &resp);
}

Result<proto::Inode> MetaTest::CloseInline(uint64_t inode, uint64_t lease,
                                           const std::string& data, bool release) {
  proto::CloseRequest req;
  req.set_inode(inode);
  req.set_lease_id(lease);
  req.set_size(data.size());
  req.set_release(release);
  req.set_inline_data(data);
  proto::CloseResponse resp;
  Status st = metadata::Close(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

Status MetaTest::Exchange(uint64_t src_parent, const std::string& src_name, uint64_t dst_parent,
                          const std::string& dst_name) {
  proto::RenameRequest req;
  req.set_src_parent(src_parent);
  req.set_src_name(src_name);
  req.set_dst_parent(dst_parent);
  req.set_dst_name(dst_name);
  req.set_exchange(true);
  proto::RenameResponse resp;
  return metadata::Rename(*state_, req, &resp);
}

Result<proto::Inode> MetaTest::SetSize(uint64_t inode, uint64_t size) {
  proto::SetAttrRequest req;
  req.set_inode(inode);
  req.set_size(size);
  proto::SetAttrResponse resp;
  Status st = metadata::SetAttr(*state_, req, &resp);
  if (!st.ok()) return st;
  return resp.inode();
}

std::vector<std::string> MetaTest::KeysWithPrefix(const std::string& prefix) {
  std::vector<std::string> keys;
  auto pairs = kv_->Scan(KeyRange::Prefix(prefix), 0);
  EXPECT_OK(pairs);
  if (pairs.ok()) {
    for (const KvPair& p : *pairs) keys.push_back(p.key);
  }
  return keys;
}

}  // namespace granary::metadata::testing
