// Inode-level namespace calls: one metadata request each, no path walking.
// The FUSE mount works on inode numbers the kernel hands it, so these skip
// the path resolution of the path-based calls in client_impl.cc.
#include "client/src/inode_ops.h"

#include "client/src/convert.h"

namespace granary::client {
namespace {

bool Lazy(Durability d) { return d == Durability::kLazy; }

std::string Entry(uint64_t parent, std::string_view name) {
  return "'" + std::string(name) + "' in folder " + std::to_string(parent);
}

template <class Resp, class Req>
Result<Resp> Call(ClientContext& ctx, proto::Method method, const Req& req) {
  return ctx.RunSync(ctx.Meta<Resp>(method, req));
}

proto::Timespec ToProto(TimeSpec t) {
  proto::Timespec p;
  p.set_sec(t.sec);
  p.set_nsec(t.nsec);
  return p;
}

}  // namespace

Result<FileInfo> GetAttrAt(ClientContext& ctx, uint64_t inode) {
  proto::GetAttrRequest req;
  req.set_inode(inode);
  auto r = Call<proto::GetAttrResponse>(ctx, proto::META_GETATTR, req);
  if (!r.ok()) return r.status();
  return ToFileInfo(r->inode());
}

Result<FileInfo> LookupAt(ClientContext& ctx, uint64_t parent, std::string_view name) {
  proto::LookupRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  auto r = Call<proto::LookupResponse>(ctx, proto::META_LOOKUP, req);
  if (!r.ok()) return r.status();
  return ToFileInfo(r->inode());
}

Result<FileInfo> MkdirAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                         uint32_t mode, Credentials cred, Durability d) {
  proto::MkdirRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  req.set_mode(mode & 07777);
  req.set_uid(cred.uid);
  req.set_gid(cred.gid);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::MkdirResponse>(ctx, proto::META_MKDIR, req);
  if (!r.ok()) return r.status().WithContext("mkdir " + Entry(parent, name));
  return ToFileInfo(r->inode());
}

Result<FileInfo> SymlinkAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                           std::string_view target, Credentials cred, Durability d) {
  proto::SymlinkRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  req.set_target(std::string(target));
  req.set_uid(cred.uid);
  req.set_gid(cred.gid);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::SymlinkResponse>(ctx, proto::META_SYMLINK, req);
  if (!r.ok()) return r.status().WithContext("symlink " + Entry(parent, name));
  return ToFileInfo(r->inode());
}

proto::CreateRequest MakeCreateRequest(ClientContext& ctx, uint64_t parent, std::string_view name,
                                       uint32_t mode, Credentials cred, bool exclusive,
                                       Durability d) {
  proto::CreateRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  req.set_mode(mode & 07777);
  req.set_uid(cred.uid);
  req.set_gid(cred.gid);
  req.set_exclusive(exclusive);
  req.set_client_id(ctx.options().client_id);
  req.set_lazy_sync(Lazy(d));
  return req;
}

Result<FileInfo> CreateAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                          uint32_t mode, Credentials cred, bool exclusive, Durability d) {
  proto::CreateRequest req = MakeCreateRequest(ctx, parent, name, mode, cred, exclusive, d);
  auto r = Call<proto::CreateResponse>(ctx, proto::META_CREATE, req);
  if (!r.ok()) return r.status().WithContext("create " + Entry(parent, name));
  return ToFileInfo(r->inode());
}

Result<RemoveResult> UnlinkAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                              bool keep_orphan, Durability d) {
  proto::UnlinkRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  req.set_keep_orphan(keep_orphan);
  if (keep_orphan) req.set_orphan_client(ctx.options().client_id);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::UnlinkResponse>(ctx, proto::META_UNLINK, req);
  if (!r.ok()) return r.status().WithContext("unlink " + Entry(parent, name));
  return RemoveResult{r->orphan_inode(), r->parent_time().sec(), r->parent_time().nsec()};
}

Status RmdirAt(ClientContext& ctx, uint64_t parent, std::string_view name, Durability d) {
  proto::RmdirRequest req;
  req.set_parent(parent);
  req.set_name(std::string(name));
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::RmdirResponse>(ctx, proto::META_RMDIR, req);
  if (!r.ok()) return r.status().WithContext("rmdir " + Entry(parent, name));
  return Status::Ok();
}

Result<RemoveResult> RenameAt(ClientContext& ctx, uint64_t src_parent, std::string_view src_name,
                              uint64_t dst_parent, std::string_view dst_name, RenameMode mode,
                              bool keep_orphan, Durability d) {
  proto::RenameRequest req;
  req.set_src_parent(src_parent);
  req.set_src_name(std::string(src_name));
  req.set_dst_parent(dst_parent);
  req.set_dst_name(std::string(dst_name));
  req.set_no_replace(mode == RenameMode::kNoReplace);
  req.set_exchange(mode == RenameMode::kExchange);
  req.set_keep_orphan(keep_orphan);
  if (keep_orphan) req.set_orphan_client(ctx.options().client_id);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::RenameResponse>(ctx, proto::META_RENAME, req);
  if (!r.ok()) {
    return r.status().WithContext("rename " + Entry(src_parent, src_name) + " to " +
                                  Entry(dst_parent, dst_name));
  }
  return RemoveResult{r->orphan_inode()};
}

Result<DirPage> ReadDirAt(ClientContext& ctx, uint64_t inode, std::string_view start_after,
                          uint32_t limit) {
  proto::ReadDirRequest req;
  req.set_inode(inode);
  req.set_start_after(std::string(start_after));
  req.set_limit(limit);
  auto r = Call<proto::ReadDirResponse>(ctx, proto::META_READDIR, req);
  if (!r.ok()) return r.status().WithContext("readdir of folder " + std::to_string(inode));
  DirPage page;
  page.entries.reserve(r->entries_size());
  for (const auto& e : r->entries()) page.entries.push_back({e.name(), ToFileInfo(e.inode())});
  page.has_more = r->has_more() && !page.entries.empty();
  return page;
}

Result<FileInfo> SetAttrAt(ClientContext& ctx, uint64_t inode, const AttrChanges& c,
                           Durability d) {
  proto::SetAttrRequest req;
  req.set_inode(inode);
  if (c.mode) req.set_mode(*c.mode & 07777);
  if (c.uid) req.set_uid(*c.uid);
  if (c.gid) req.set_gid(*c.gid);
  if (c.atime) *req.mutable_atime() = ToProto(*c.atime);
  if (c.mtime) *req.mutable_mtime() = ToProto(*c.mtime);
  if (c.size) req.set_size(*c.size);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::SetAttrResponse>(ctx, proto::META_SETATTR, req);
  if (!r.ok()) return r.status().WithContext("setattr of inode " + std::to_string(inode));
  return ToFileInfo(r->inode());
}

Status SetXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name, ByteSpan value,
                  XattrMode mode, Durability d) {
  proto::SetXattrRequest req;
  req.set_inode(inode);
  req.set_name(std::string(name));
  req.set_value(reinterpret_cast<const char*>(value.data()), value.size());
  req.set_mode(mode == XattrMode::kCreate    ? proto::XATTR_CREATE
               : mode == XattrMode::kReplace ? proto::XATTR_REPLACE
                                             : proto::XATTR_ANY);
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::SetXattrResponse>(ctx, proto::META_SET_XATTR, req);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> GetXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name) {
  proto::GetXattrRequest req;
  req.set_inode(inode);
  req.set_name(std::string(name));
  auto r = Call<proto::GetXattrResponse>(ctx, proto::META_GET_XATTR, req);
  if (!r.ok()) return r.status();
  return std::move(*r->mutable_value());
}

Result<std::vector<std::string>> ListXattrAt(ClientContext& ctx, uint64_t inode) {
  proto::ListXattrRequest req;
  req.set_inode(inode);
  auto r = Call<proto::ListXattrResponse>(ctx, proto::META_LIST_XATTR, req);
  if (!r.ok()) return r.status();
  return std::vector<std::string>(r->names().begin(), r->names().end());
}

Status RemoveXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name, Durability d) {
  proto::RemoveXattrRequest req;
  req.set_inode(inode);
  req.set_name(std::string(name));
  req.set_lazy_sync(Lazy(d));
  auto r = Call<proto::RemoveXattrResponse>(ctx, proto::META_REMOVE_XATTR, req);
  return r.ok() ? Status::Ok() : r.status();
}

Status ReleaseOrphanAt(ClientContext& ctx, uint64_t inode) {
  proto::ReleaseOrphanRequest req;
  req.set_inode(inode);
  req.set_client_id(ctx.options().client_id);
  auto r = Call<proto::ReleaseOrphanResponse>(ctx, proto::META_RELEASE_ORPHAN, req);
  if (!r.ok()) return r.status().WithContext("releasing unlinked inode " + std::to_string(inode));
  return Status::Ok();
}

Status KeepAliveAt(ClientContext& ctx, const std::vector<LeaseRef>& leases,
                   const std::vector<uint64_t>& orphans) {
  proto::KeepAliveRequest req;
  req.set_client_id(ctx.options().client_id);
  for (const auto& l : leases) {
    auto* p = req.add_leases();
    p->set_inode(l.inode);
    p->set_lease_id(l.lease_id);
  }
  for (uint64_t o : orphans) req.add_orphans(o);
  auto r = Call<proto::KeepAliveResponse>(ctx, proto::META_KEEP_ALIVE, req);
  if (!r.ok()) return r.status().WithContext("renewing leases");
  if (r->lost_leases_size() > 0) {
    std::string lost;
    for (const auto& l : r->lost_leases()) {
      if (!lost.empty()) lost += ", ";
      lost += std::to_string(l.inode());
    }
    return Status::FromCode(proto::LEASE_EXPIRED,
                            "metad no longer knows the write leases of inodes " + lost);
  }
  return Status::Ok();
}

Status SyncMetadataAt(ClientContext& ctx) {
  auto r = Call<proto::SyncResponse>(ctx, proto::META_SYNC, proto::SyncRequest{});
  return r.ok() ? Status::Ok() : r.status().WithContext("syncing metadata");
}

Result<std::vector<ChunkLocation>> GetLayoutOf(ClientContext& ctx, uint64_t inode) {
  proto::GetLayoutRequest req;
  req.set_inode(inode);
  auto r = Call<proto::GetLayoutResponse>(ctx, proto::META_GET_LAYOUT, req);
  if (!r.ok()) return r.status().WithContext("layout of inode " + std::to_string(inode));
  std::vector<ChunkLocation> out;
  for (const auto& c : r->chunks()) out.push_back(ToChunkLocation(c));
  return out;
}

}  // namespace granary::client
