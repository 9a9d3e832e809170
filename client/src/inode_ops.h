#pragma once
// The inode-level namespace calls of granary::Client (what the FUSE mount
// uses), one metadata request each. ClientImpl forwards to these.

#include <string>
#include <string_view>
#include <vector>

#include "client/src/client_context.h"
#include "granary/client.h"

namespace granary::client {

Result<FileInfo> GetAttrAt(ClientContext& ctx, uint64_t inode);
Result<FileInfo> LookupAt(ClientContext& ctx, uint64_t parent, std::string_view name);
Result<FileInfo> MkdirAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                         uint32_t mode, Credentials cred, Durability d);
Result<FileInfo> SymlinkAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                           std::string_view target, Credentials cred, Durability d);
// The create request of `name` in `parent` (CreateAt, CreateOpenFile).
proto::CreateRequest MakeCreateRequest(ClientContext& ctx, uint64_t parent, std::string_view name,
                                       uint32_t mode, Credentials cred, bool exclusive,
                                       Durability d);
Result<FileInfo> CreateAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                          uint32_t mode, Credentials cred, bool exclusive, Durability d);
Result<RemoveResult> UnlinkAt(ClientContext& ctx, uint64_t parent, std::string_view name,
                              bool keep_orphan, Durability d);
Status RmdirAt(ClientContext& ctx, uint64_t parent, std::string_view name, Durability d);
Result<RemoveResult> RenameAt(ClientContext& ctx, uint64_t src_parent, std::string_view src_name,
                              uint64_t dst_parent, std::string_view dst_name, RenameMode mode,
                              bool keep_orphan, Durability d);
Result<DirPage> ReadDirAt(ClientContext& ctx, uint64_t inode, std::string_view start_after,
                          uint32_t limit);
Result<FileInfo> SetAttrAt(ClientContext& ctx, uint64_t inode, const AttrChanges& changes,
                           Durability d);
Status SetXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name, ByteSpan value,
                  XattrMode mode, Durability d);
Result<std::string> GetXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name);
Result<std::vector<std::string>> ListXattrAt(ClientContext& ctx, uint64_t inode);
Status RemoveXattrAt(ClientContext& ctx, uint64_t inode, std::string_view name, Durability d);
Status ReleaseOrphanAt(ClientContext& ctx, uint64_t inode);
Status KeepAliveAt(ClientContext& ctx, const std::vector<LeaseRef>& leases,
                   const std::vector<uint64_t>& orphans);
Status SyncMetadataAt(ClientContext& ctx);
Result<std::vector<ChunkLocation>> GetLayoutOf(ClientContext& ctx, uint64_t inode);

}  // namespace granary::client
