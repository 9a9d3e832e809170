// Client: namespace operations over the metadata service.
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "client/src/backup_ops.h"
#include "client/src/warm_ops.h"
#include "client/src/client_context.h"
#include "common/codec/block.h"
#include "client/src/convert.h"
#include "client/src/file_reader.h"
#include "client/src/file_writer.h"
#include "client/src/inode_ops.h"
#include "client/src/open_file.h"

namespace granary {
namespace client {

ClientContext::ClientContext(ClientOptions options, std::shared_ptr<const net::ClusterKey> key)
    : options_(std::move(options)),
      work_(io_.get_executor()),
      encode_pool_(options_.encode_threads > 0 ? options_.encode_threads : 1),
      meta_pool_(io_.get_executor(), options_.rpc_timeout, 1, {}, key),
      chunk_pool_(io_.get_executor(), options_.rpc_timeout, options_.connections_per_server, {},
                  key),
      local_read_pool_(LocalReadsOn(options_) ? options_.local_read_threads : 1) {
  if (LocalReadsOn(options_)) local_chunks_ = std::make_unique<LocalChunks>();
  int n = options_.io_threads > 0 ? options_.io_threads : 1;
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
}

std::shared_ptr<ClientContext> ClientContext::Create(ClientOptions options,
                                                     std::shared_ptr<const net::ClusterKey> key) {
  return std::shared_ptr<ClientContext>(new ClientContext(std::move(options), std::move(key)),
                                        [](ClientContext* c) {
                                          if (c->OnOwnThread()) {
                                            std::thread([c] { delete c; }).detach();
                                          } else {
                                            delete c;
                                          }
                                        });
}

ClientContext::~ClientContext() {
  meta_pool_.CloseAll();
  chunk_pool_.CloseAll();
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  encode_pool_.join();
  local_read_pool_.join();
}

bool ClientContext::ResendSafe(proto::Method method) {
  switch (method) {
    case proto::META_RESOLVE:
    case proto::META_LOOKUP:
    case proto::META_GETATTR:
    case proto::META_READDIR:
    case proto::META_GET_LAYOUT:
    case proto::META_STATFS:
    case proto::META_GET_XATTR:
    case proto::META_LIST_XATTR:
    case proto::META_KEEP_ALIVE:
    case proto::META_LIST_NODES:
    case proto::META_REPAIR_STATUS:
    case proto::META_TRASH_LIST:
    case proto::META_LIST_QUOTAS:
    case proto::META_ALLOCATE_CHUNK:
    case proto::META_COMMIT_CHUNK:
    case proto::META_REPORT_REPLICAS:
      return true;
    default:
      return false;
  }
}

bool ClientContext::LocalReadsOn(const ClientOptions& o) {
  if (const char* env = std::getenv("GRANARY_LOCAL_READS"); env != nullptr && *env != '\0') {
    return std::string_view(env) != "0";
  }
  return o.local_reads && o.local_read_threads > 0;
}

namespace {

using net::Awaitable;

class ClientImpl final : public Client {
 public:
  explicit ClientImpl(std::shared_ptr<ClientContext> ctx) : ctx_(std::move(ctx)) {}

  Result<FileInfo> Stat(std::string_view path) override {
    ASSIGN_OR_RETURN(auto inode, ResolveSync(path));
    return ToFileInfo(inode);
  }

  Result<FileInfo> Mkdir(std::string_view path, uint32_t mode, bool parents) override {
    ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
    if (p == "/") {
      if (parents) return Stat("/");
      return Status::AlreadyExists("/ already exists");
    }
    ASSIGN_OR_RETURN(auto split, SplitParent(p));
    Result<proto::Inode> parent = ResolveSync(split.first);
    if (!parent.ok() && parents && parent.status().code() == proto::NOT_FOUND) {
      auto made = Mkdir(split.first, mode, true);
      if (!made.ok()) return made.status();
      parent = ResolveSync(split.first);
    }
    if (!parent.ok()) return parent.status();
    proto::MkdirRequest req;
    req.set_parent(parent->id());
    req.set_name(split.second);
    req.set_mode(mode);
    req.set_uid(getuid());
    req.set_gid(getgid());
    auto r = ctx_->RunSync(ctx_->Meta<proto::MkdirResponse>(proto::META_MKDIR, req));
    if (!r.ok()) {
      if (parents && r.status().code() == proto::ALREADY_EXISTS) {
        ASSIGN_OR_RETURN(auto existing, ResolveSync(p));
        if (existing.type() == proto::INODE_DIR) return ToFileInfo(existing);
      }
      return r.status().WithContext("mkdir " + p);
    }
    return ToFileInfo(r->inode());
  }

  Result<std::vector<DirEntryInfo>> ReadDir(std::string_view path) override {
    ASSIGN_OR_RETURN(auto dir, ResolveSync(path));
    if (dir.type() != proto::INODE_DIR) {
      return Status::NotDirectory(std::string(path) + " is not a folder");
    }
    std::vector<DirEntryInfo> out;
    proto::ReadDirRequest req;
    req.set_inode(dir.id());
    while (true) {
      auto r = ctx_->RunSync(ctx_->Meta<proto::ReadDirResponse>(proto::META_READDIR, req));
      if (!r.ok()) return r.status().WithContext("readdir " + std::string(path));
      for (const auto& e : r->entries()) out.push_back({e.name(), ToFileInfo(e.inode())});
      if (!r->has_more() || r->entries().empty()) break;
      req.set_start_after(r->entries().rbegin()->name());
    }
    return out;
  }

  Status Rename(std::string_view from, std::string_view to, bool no_replace) override {
    ASSIGN_OR_RETURN(auto src, ParentAndName(from));
    ASSIGN_OR_RETURN(auto dst, ParentAndName(to));
    proto::RenameRequest req;
    req.set_src_parent(src.first);
    req.set_src_name(src.second);
    req.set_dst_parent(dst.first);
    req.set_dst_name(dst.second);
    req.set_no_replace(no_replace);
    auto r = ctx_->RunSync(ctx_->Meta<proto::RenameResponse>(proto::META_RENAME, req));
    if (!r.ok()) {
      return r.status().WithContext("rename " + std::string(from) + " to " + std::string(to));
    }
    return Status::Ok();
  }

  Status Unlink(std::string_view path) override {
    return RemoveEntry<proto::UnlinkRequest, proto::UnlinkResponse>(proto::META_UNLINK, path,
                                                                    "unlink");
  }

  Status Rmdir(std::string_view path) override {
    return RemoveEntry<proto::RmdirRequest, proto::RmdirResponse>(proto::META_RMDIR, path,
                                                                  "rmdir");
  }

  Result<FileInfo> SetLayout(std::string_view path, const LayoutChanges& changes) override {
    proto::SetAttrRequest req;
    if (!changes.codec.empty()) {
      ASSIGN_OR_RETURN(codec::CodecPolicy policy, codec::ParseCodecPolicy(changes.codec));
      req.set_codec(static_cast<uint32_t>(policy));
    }
    ASSIGN_OR_RETURN(auto inode, ResolveSync(path));
    req.set_inode(inode.id());
    if (changes.replicas) req.set_replicas(changes.replicas);
    if (changes.chunk_size) req.set_chunk_size(changes.chunk_size);
    return SetAttr(req, path);
  }

  Result<FileInfo> Chmod(std::string_view path, uint32_t mode) override {
    ASSIGN_OR_RETURN(auto inode, ResolveSync(path));
    proto::SetAttrRequest req;
    req.set_inode(inode.id());
    req.set_mode(mode & 07777);
    return SetAttr(req, path);
  }

  Result<std::unique_ptr<FileWriter>> Create(std::string_view path,
                                             const CreateOptions& options) override {
    ASSIGN_OR_RETURN(auto pn, ParentAndName(path));
    proto::CreateRequest req;
    req.set_parent(pn.first);
    req.set_name(pn.second);
    req.set_mode(options.mode & 07777);
    req.set_uid(getuid());
    req.set_gid(getgid());
    req.set_exclusive(options.exclusive);
    req.set_truncate(true);
    req.set_open_for_write(true);
    req.set_replicas(options.replicas);
    req.set_chunk_size(options.chunk_size);
    req.set_client_id(ctx_->options().client_id);
    // One trace for the whole write, from this create to the close.
    const net::TraceId trace = net::NewTraceId();
    auto r = ctx_->RunSync(ctx_->Meta<proto::CreateResponse>(proto::META_CREATE, req, trace));
    if (!r.ok()) return r.status().WithContext("create " + std::string(path));
    return MakeFileWriter(ctx_, std::string(path), r->inode(), r->lease_id(),
                          options.fsync_on_close, trace);
  }

  using Client::Open;
  Result<std::unique_ptr<FileReader>> Open(std::string_view path,
                                           const ReadOptions& options) override {
    ASSIGN_OR_RETURN(auto inode, ResolveSync(path));
    if (inode.type() == proto::INODE_DIR) {
      return Status::IsDirectory(std::string(path) + " is a folder");
    }
    proto::OpenRequest req;
    req.set_inode(inode.id());
    req.set_client_id(ctx_->options().client_id);
    const net::TraceId trace = net::NewTraceId();
    auto r = ctx_->RunSync(ctx_->Meta<proto::OpenResponse>(proto::META_OPEN, req, trace));
    if (!r.ok()) return r.status().WithContext("open " + std::string(path));
    return MakeFileReader(ctx_, std::string(path), std::move(*r), options, trace);
  }

  Result<WarmStats> Warm(std::string_view path, const WarmOptions& options) override {
    return WarmPath(*this, *ctx_, path, options);
  }

  Result<std::vector<ChunkLocation>> GetLayout(std::string_view path) override {
    ASSIGN_OR_RETURN(auto inode, ResolveSync(path));
    proto::GetLayoutRequest req;
    req.set_inode(inode.id());
    auto r = ctx_->RunSync(ctx_->Meta<proto::GetLayoutResponse>(proto::META_GET_LAYOUT, req));
    if (!r.ok()) return r.status().WithContext("layout of " + std::string(path));
    std::vector<ChunkLocation> out;
    for (const auto& c : r->chunks()) out.push_back(ToChunkLocation(c));
    return out;
  }

  // Inode-level API (client/src/inode_ops.cc).
  Result<FileInfo> GetAttr(uint64_t inode) override { return GetAttrAt(*ctx_, inode); }
  Result<FileInfo> Lookup(uint64_t parent, std::string_view name) override {
    return LookupAt(*ctx_, parent, name);
  }
  Result<FileInfo> MkdirAt(uint64_t parent, std::string_view name, uint32_t mode,
                           Credentials cred, Durability d) override {
    return client::MkdirAt(*ctx_, parent, name, mode, cred, d);
  }
  Result<FileInfo> SymlinkAt(uint64_t parent, std::string_view name, std::string_view target,
                             Credentials cred, Durability d) override {
    return client::SymlinkAt(*ctx_, parent, name, target, cred, d);
  }
  Result<FileInfo> CreateAt(uint64_t parent, std::string_view name, uint32_t mode,
                            Credentials cred, bool exclusive, Durability d) override {
    return client::CreateAt(*ctx_, parent, name, mode, cred, exclusive, d);
  }
  Result<RemoveResult> UnlinkAt(uint64_t parent, std::string_view name, bool keep_orphan,
                                Durability d) override {
    return client::UnlinkAt(*ctx_, parent, name, keep_orphan, d);
  }
  Status RmdirAt(uint64_t parent, std::string_view name, Durability d) override {
    return client::RmdirAt(*ctx_, parent, name, d);
  }
  Result<RemoveResult> RenameAt(uint64_t src_parent, std::string_view src_name,
                                uint64_t dst_parent, std::string_view dst_name, RenameMode mode,
                                bool keep_orphan, Durability d) override {
    return client::RenameAt(*ctx_, src_parent, src_name, dst_parent, dst_name, mode, keep_orphan,
                            d);
  }
  Result<DirPage> ReadDirAt(uint64_t inode, std::string_view start_after,
                            uint32_t limit) override {
    return client::ReadDirAt(*ctx_, inode, start_after, limit);
  }
  Result<FileInfo> SetAttrAt(uint64_t inode, const AttrChanges& changes, Durability d) override {
    return client::SetAttrAt(*ctx_, inode, changes, d);
  }
  Status SetXattr(uint64_t inode, std::string_view name, ByteSpan value, XattrMode mode,
                  Durability d) override {
    return SetXattrAt(*ctx_, inode, name, value, mode, d);
  }
  Result<std::string> GetXattr(uint64_t inode, std::string_view name) override {
    return GetXattrAt(*ctx_, inode, name);
  }
  Result<std::vector<std::string>> ListXattr(uint64_t inode) override {
    return ListXattrAt(*ctx_, inode);
  }
  Status RemoveXattr(uint64_t inode, std::string_view name, Durability d) override {
    return RemoveXattrAt(*ctx_, inode, name, d);
  }
  Status ReleaseOrphan(uint64_t inode) override { return ReleaseOrphanAt(*ctx_, inode); }
  Status KeepAlive(const std::vector<LeaseRef>& leases,
                   const std::vector<uint64_t>& orphans) override {
    return KeepAliveAt(*ctx_, leases, orphans);
  }
  Status SyncMetadata() override { return SyncMetadataAt(*ctx_); }
  Result<std::vector<ChunkLocation>> GetLayoutAt(uint64_t inode) override {
    return GetLayoutOf(*ctx_, inode);
  }

  Result<std::unique_ptr<OpenFile>> OpenAt(uint64_t inode,
                                           const OpenFileOptions& options) override {
    return OpenFileAt(ctx_, inode, options);
  }

  Result<std::unique_ptr<OpenFile>> CreateOpenAt(uint64_t parent, std::string_view name,
                                                 uint32_t mode, Credentials cred, bool exclusive,
                                                 bool truncate, Durability d) override {
    return CreateOpenFile(ctx_, parent, name, mode, cred, exclusive, truncate, d);
  }

  const std::string& client_id() const override { return ctx_->options().client_id; }
  uint64_t LocalReadBytes() const override {
    const LocalChunks* local = ctx_->local_chunks();
    return local ? local->bytes_read() : 0;
  }

  Result<FsStats> StatFs() override {
    auto r = ctx_->RunSync(
        ctx_->Meta<proto::StatFsResponse>(proto::META_STATFS, proto::StatFsRequest{}));
    if (!r.ok()) return r.status();
    FsStats s;
    s.capacity_bytes = r->capacity_bytes();
    s.used_bytes = r->used_bytes();
    s.free_bytes = r->free_bytes();
    s.files = r->files();
    s.chunks = r->chunks();
    s.nodes_up = r->nodes_up();
    s.nodes_total = r->nodes_total();
    return s;
  }

  Result<std::vector<NodeStatus>> ListNodes() override {
    auto r = ctx_->RunSync(
        ctx_->Meta<proto::ListNodesResponse>(proto::META_LIST_NODES, proto::ListNodesRequest{}));
    if (!r.ok()) return r.status();
    std::vector<NodeStatus> out;
    for (const auto& n : r->nodes()) out.push_back(ToNodeStatus(n));
    return out;
  }

  Result<NodeStatus> NodeAdmin(std::string_view node_id, NodeAction action) override {
    proto::NodeAdminRequest req;
    req.set_node_id(std::string(node_id));
    switch (action) {
      case NodeAction::kStatus: req.set_action(proto::NodeAdminRequest::STATUS); break;
      case NodeAction::kDrain: req.set_action(proto::NodeAdminRequest::DRAIN); break;
      case NodeAction::kUndrain: req.set_action(proto::NodeAdminRequest::UNDRAIN); break;
      case NodeAction::kRemove: req.set_action(proto::NodeAdminRequest::REMOVE); break;
    }
    auto r = ctx_->RunSync(ctx_->Meta<proto::NodeAdminResponse>(proto::META_NODE_ADMIN, req));
    if (!r.ok()) return r.status();
    return ToNodeStatus(r->node());
  }

  Result<RepairStatusInfo> RepairStatus() override {
    auto r = ctx_->RunSync(ctx_->Meta<proto::RepairStatusResponse>(proto::META_REPAIR_STATUS,
                                                                   proto::RepairStatusRequest{}));
    if (!r.ok()) return r.status();
    RepairStatusInfo out;
    out.under_replicated = r->under_replicated();
    out.unrecoverable = r->unrecoverable();
    out.copies_in_flight = r->copies_in_flight();
    out.copies_done = r->copies_done();
    out.copies_failed = r->copies_failed();
    out.bytes_copied = r->bytes_copied();
    out.bad_replicas = r->bad_replicas();
    out.last_scan_ms = r->last_scan_ms();
    return out;
  }

  Result<uint64_t> StatReplica(const std::string& address, uint64_t chunk_id,
                               uint64_t version) override {
    proto::ChunkStatRequest req;
    req.set_chunk_id(chunk_id);
    req.set_version(version);
    auto r = ctx_->RunSync(ctx_->chunk_servers().Call<proto::ChunkStatResponse>(
        address, proto::CHUNK_STAT, req, ctx_->timeout()));
    if (!r.ok()) return r.status();
    return r->stored_length();
  }

  Result<std::vector<TrashItem>> TrashList() override {
    std::vector<TrashItem> out;
    proto::TrashListRequest req;
    for (;;) {
      auto r = ctx_->RunSync(ctx_->Meta<proto::TrashListResponse>(proto::META_TRASH_LIST, req));
      if (!r.ok()) return r.status();
      for (const auto& e : r->entries()) {
        out.push_back({e.inode(), e.parent(), e.name(), e.deleted_ms(), e.expires_ms(), e.size()});
      }
      if (!r->more() || r->entries().empty()) return out;
      req.set_start_after_inode(out.back().inode);
      req.set_start_after_expires_ms(out.back().expires_ms);
    }
  }

  Result<FileInfo> TrashRestore(uint64_t inode, std::string_view to) override {
    proto::TrashRestoreRequest req;
    req.set_inode(inode);
    if (!to.empty()) {
      ASSIGN_OR_RETURN(auto where, ParentAndName(to));
      req.set_parent(where.first);
      req.set_name(where.second);
    }
    auto r = ctx_->RunSync(ctx_->Meta<proto::TrashRestoreResponse>(proto::META_TRASH_RESTORE, req));
    if (!r.ok()) return r.status();
    return ToFileInfo(r->inode());
  }

  Result<QuotaStatus> SetQuota(std::string_view path, uint64_t max_bytes,
                               uint64_t max_files) override {
    proto::SetQuotaRequest req;
    ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
    req.set_path(p);
    req.set_max_bytes(max_bytes);
    req.set_max_files(max_files);
    auto r = ctx_->RunSync(ctx_->Meta<proto::SetQuotaResponse>(proto::META_SET_QUOTA, req));
    if (!r.ok()) return r.status().WithContext(p);
    return ToQuotaStatus(r->quota());
  }

  Result<std::vector<QuotaStatus>> ListQuotas() override {
    auto r = ctx_->RunSync(
        ctx_->Meta<proto::ListQuotasResponse>(proto::META_LIST_QUOTAS, proto::ListQuotasRequest{}));
    if (!r.ok()) return r.status();
    std::vector<QuotaStatus> out;
    for (const proto::QuotaInfo& q : r->quotas()) out.push_back(ToQuotaStatus(q));
    return out;
  }

  Result<uint64_t> TrashPurge(uint64_t inode, bool all) override {
    proto::TrashPurgeRequest req;
    req.set_inode(inode);
    req.set_all(all);
    auto r = ctx_->RunSync(ctx_->Meta<proto::TrashPurgeResponse>(proto::META_TRASH_PURGE, req));
    if (!r.ok()) return r.status();
    return r->purged();
  }

  // Backup sessions (client/src/backup_ops.cc).
  Result<BackupSession> BackupBegin(uint64_t lease_ms) override {
    return BackupBeginAt(*ctx_, lease_ms);
  }
  Status BackupRenew(uint64_t session) override { return BackupRenewAt(*ctx_, session); }
  Status BackupEnd(uint64_t session) override { return BackupEndAt(*ctx_, session); }
  Result<BackupPage> BackupList(uint64_t session, std::string_view path, bool started,
                                std::string_view after, uint32_t limit) override {
    return BackupListAt(*ctx_, session, path, started, after, limit);
  }
  Result<MetadataPage> BackupMetadata(uint64_t session, bool started, std::string_view after_key,
                                      uint64_t max_bytes) override {
    return BackupMetadataAt(*ctx_, session, started, after_key, max_bytes);
  }
  Result<std::unique_ptr<FileReader>> OpenChunk(const ChunkLocation& chunk,
                                                uint64_t chunk_size) override {
    return OpenChunkAt(ctx_, chunk, chunk_size);
  }

 private:
  static QuotaStatus ToQuotaStatus(const proto::QuotaInfo& q) {
    return {q.path(), q.inode(), q.max_bytes(), q.max_files(), q.used_bytes(), q.used_files()};
  }

  Result<proto::Inode> ResolveSync(std::string_view path) {
    ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
    proto::ResolveRequest req;
    req.set_path(p);
    auto r = ctx_->RunSync(ctx_->Meta<proto::ResolveResponse>(proto::META_RESOLVE, req));
    if (!r.ok()) return r.status();
    return r->inode();
  }

  // Resolves the parent folder of `path`: {parent inode id, name}.
  Result<std::pair<uint64_t, std::string>> ParentAndName(std::string_view path) {
    ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
    ASSIGN_OR_RETURN(auto split, SplitParent(p));
    ASSIGN_OR_RETURN(auto parent, ResolveSync(split.first));
    if (parent.type() != proto::INODE_DIR) {
      return Status::NotDirectory(split.first + " is not a folder");
    }
    return std::make_pair(parent.id(), split.second);
  }

  // Unlink and rmdir: the same request shape, {parent, name}.
  template <class Req, class Resp>
  Status RemoveEntry(proto::Method method, std::string_view path, const char* verb) {
    ASSIGN_OR_RETURN(auto pn, ParentAndName(path));
    Req req;
    req.set_parent(pn.first);
    req.set_name(pn.second);
    auto r = ctx_->RunSync(ctx_->Meta<Resp>(method, req));
    if (!r.ok()) return r.status().WithContext(std::string(verb) + " " + std::string(path));
    return Status::Ok();
  }

  Result<FileInfo> SetAttr(const proto::SetAttrRequest& req, std::string_view path) {
    auto r = ctx_->RunSync(ctx_->Meta<proto::SetAttrResponse>(proto::META_SETATTR, req));
    if (!r.ok()) return r.status().WithContext("setattr " + std::string(path));
    return ToFileInfo(r->inode());
  }

  std::shared_ptr<ClientContext> ctx_;
};

}  // namespace
}  // namespace client

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.meta_address.empty()) {
    return Status::InvalidArgument("no metadata service address given");
  }
  auto hp = net::SplitHostPort(options.meta_address);
  if (!hp.ok()) return hp.status();
  if (options.client_id.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    options.client_id = std::string(host) + ":" + std::to_string(getpid());
  }
  auto key = net::LoadClientKey(options.key_file);
  if (!key.ok()) return key.status();
  auto ctx = client::ClientContext::Create(std::move(options), std::move(*key));
  // Fail early, with the address in the message, when metad is unreachable.
  auto ping = ctx->RunSync(ctx->Meta<proto::PingResponse>(proto::PING, proto::PingRequest{}));
  if (!ping.ok()) {
    return ping.status().WithContext("cannot reach granary-metad at " + ctx->options().meta_address);
  }
  return std::unique_ptr<Client>(new client::ClientImpl(std::move(ctx)));
}

}  // namespace granary
