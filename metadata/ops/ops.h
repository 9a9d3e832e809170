#pragma once
// The metadata operations, one per RPC method, one file each (ops/<name>.cc).
//
// Each runs synchronously on the calling thread (KvStore calls block: run them
// on a worker pool, never on an I/O thread), validates every request field,
// and applies its change as one KvStore transaction, retried on conflicts.
// A client's mistake is an error value: INVALID_ARGUMENT naming the field,
// or the namespace codes below. Errors of the store pass through.
//
// Common errors:
//   NOT_FOUND       an inode, parent or name does not exist
//   NOT_DIRECTORY   a folder was expected (parent, lookup under a file, rmdir of a file)
//   IS_DIRECTORY    a file was expected (unlink / open / create over a folder)
//   ALREADY_EXISTS  mkdir, exclusive create, rename with no_replace
//   NOT_EMPTY       rmdir, or rename over a folder that has entries
//   NAME_TOO_LONG   a name over 255 bytes, a path over 4096, a symlink target
//                   over 4095, an attribute name over 255
//   NO_ATTRIBUTE    getxattr / removexattr / XATTR_REPLACE of a missing attribute
//   RESOURCE_EXHAUSTED an inode's attributes would exceed 1 MiB
//   LEASE_CONFLICT  another writer holds the file (the message names its client id)
//   LEASE_EXPIRED   a write call without the current lease id
//   STALE_VERSION   CommitChunk of a chunk version that is not the latest allocated
//   NOT_ENOUGH_NODES fewer eligible chunk servers than the file's replicas
//   UNAVAILABLE     too much contention on the same records; retry
//
// Semantics beyond POSIX (parent times, truncation, leases) are specified in
// docs/metadata_schema.md.

#include "common/proto/granary.pb.h"
#include "common/status.h"
#include "metadata/state/meta_state.h"

namespace granary::metadata {

// Namespace.
Status Resolve(MetaState& s, const proto::ResolveRequest& req, proto::ResolveResponse* resp);
Status Lookup(MetaState& s, const proto::LookupRequest& req, proto::LookupResponse* resp);
Status GetAttr(MetaState& s, const proto::GetAttrRequest& req, proto::GetAttrResponse* resp);
Status Mkdir(MetaState& s, const proto::MkdirRequest& req, proto::MkdirResponse* resp);
Status Create(MetaState& s, const proto::CreateRequest& req, proto::CreateResponse* resp);
Status Unlink(MetaState& s, const proto::UnlinkRequest& req, proto::UnlinkResponse* resp);
Status Rmdir(MetaState& s, const proto::RmdirRequest& req, proto::RmdirResponse* resp);
Status Rename(MetaState& s, const proto::RenameRequest& req, proto::RenameResponse* resp);
Status ReadDir(MetaState& s, const proto::ReadDirRequest& req, proto::ReadDirResponse* resp);
Status SetAttr(MetaState& s, const proto::SetAttrRequest& req, proto::SetAttrResponse* resp);
Status Symlink(MetaState& s, const proto::SymlinkRequest& req, proto::SymlinkResponse* resp);

// Extended attributes.
Status SetXattr(MetaState& s, const proto::SetXattrRequest& req, proto::SetXattrResponse* resp);
Status GetXattr(MetaState& s, const proto::GetXattrRequest& req, proto::GetXattrResponse* resp);
Status ListXattr(MetaState& s, const proto::ListXattrRequest& req,
                 proto::ListXattrResponse* resp);
Status RemoveXattr(MetaState& s, const proto::RemoveXattrRequest& req,
                   proto::RemoveXattrResponse* resp);

// File data: leases and chunk layout.
Status Open(MetaState& s, const proto::OpenRequest& req, proto::OpenResponse* resp);
Status AllocateChunk(MetaState& s, const proto::AllocateChunkRequest& req,
                     proto::AllocateChunkResponse* resp);
Status CommitChunk(MetaState& s, const proto::CommitChunkRequest& req,
                   proto::CommitChunkResponse* resp);
Status Close(MetaState& s, const proto::CloseRequest& req, proto::CloseResponse* resp);
Status GetLayout(MetaState& s, const proto::GetLayoutRequest& req,
                 proto::GetLayoutResponse* resp);
Status StatFs(MetaState& s, const proto::StatFsRequest& req, proto::StatFsResponse* resp);

// Clients: orphans (unlinked files still open), lease and orphan renewal,
// durability of lazy commits.
Status ReleaseOrphan(MetaState& s, const proto::ReleaseOrphanRequest& req,
                     proto::ReleaseOrphanResponse* resp);
Status KeepAlive(MetaState& s, const proto::KeepAliveRequest& req,
                 proto::KeepAliveResponse* resp);
Status Sync(MetaState& s, const proto::SyncRequest& req, proto::SyncResponse* resp);

// Chunk servers.
Status RegisterNode(MetaState& s, const proto::RegisterNodeRequest& req,
                    proto::RegisterNodeResponse* resp);
Status Heartbeat(MetaState& s, const proto::HeartbeatRequest& req,
                 proto::HeartbeatResponse* resp);
Status ListNodes(MetaState& s, const proto::ListNodesRequest& req,
                 proto::ListNodesResponse* resp);
Status ReportReplicas(MetaState& s, const proto::ReportReplicasRequest& req,
                      proto::ReportReplicasResponse* resp);
Status RepairStatus(MetaState& s, const proto::RepairStatusRequest& req,
                    proto::RepairStatusResponse* resp);
Status NodeAdmin(MetaState& s, const proto::NodeAdminRequest& req,
                 proto::NodeAdminResponse* resp);
Status TrashList(MetaState& s, const proto::TrashListRequest& req,
                 proto::TrashListResponse* resp);
Status TrashRestore(MetaState& s, const proto::TrashRestoreRequest& req,
                    proto::TrashRestoreResponse* resp);
Status SetQuota(MetaState& s, const proto::SetQuotaRequest& req, proto::SetQuotaResponse* resp);
Status ListQuotas(MetaState& s, const proto::ListQuotasRequest& req,
                  proto::ListQuotasResponse* resp);
Status TrashPurge(MetaState& s, const proto::TrashPurgeRequest& req,
                  proto::TrashPurgeResponse* resp);
// Backup sessions (docs/backup.md): a snapshot of the store with a lease, the
// namespace and the raw store as of that snapshot. NOT_FOUND: the session is
// unknown, ended or expired.
Status BackupBegin(MetaState& s, const proto::BackupBeginRequest& req,
                   proto::BackupBeginResponse* resp);
Status BackupRenew(MetaState& s, const proto::BackupRenewRequest& req,
                   proto::BackupRenewResponse* resp);
Status BackupEnd(MetaState& s, const proto::BackupEndRequest& req, proto::BackupEndResponse* resp);
Status BackupList(MetaState& s, const proto::BackupListRequest& req,
                  proto::BackupListResponse* resp);
Status BackupMetadata(MetaState& s, const proto::BackupMetadataRequest& req,
                      proto::BackupMetadataResponse* resp);
// Marks replicas of `node_id` bad (heartbeat lost_chunks, ReportReplicas).
Status MarkBadReplicas(MetaState& s, const std::string& node_id,
                       const google::protobuf::RepeatedPtrField<proto::ChunkRef>& chunks,
                       std::string_view reason);

// Upkeep (from MetaState::Maintain): frees every orphan not renewed for
// orphan_ttl_ms. Returns the first error; the other orphans are still tried.
Status ReleaseExpiredOrphans(MetaState& s);
// Frees trash entries past their expiry (a bounded batch per call; upkeep).
Status PurgeExpiredTrash(MetaState& s);

}  // namespace granary::metadata
