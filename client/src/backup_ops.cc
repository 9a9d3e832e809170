#include "client/src/backup_ops.h"

#include "client/src/convert.h"
#include "client/src/file_reader.h"

namespace granary::client {
namespace {

proto::ChunkInfo FromChunkLocation(const ChunkLocation& l) {
  proto::ChunkInfo c;
  c.set_chunk_index(l.chunk_index);
  c.set_chunk_id(l.chunk_id);
  c.set_version(l.version);
  c.set_length(l.length);
  c.set_stored_length(l.stored_length);
  c.set_block_count(l.block_count);
  for (const ReplicaInfo& r : l.replicas) {
    proto::NodeAddress* a = c.add_replicas();
    a->set_node_id(r.node_id);
    a->set_address(r.address);
  }
  return c;
}

}  // namespace

Result<BackupSession> BackupBeginAt(ClientContext& ctx, uint64_t lease_ms) {
  proto::BackupBeginRequest req;
  req.set_client_id(ctx.options().client_id);
  req.set_lease_ms(lease_ms);
  auto r = ctx.RunSync(ctx.Meta<proto::BackupBeginResponse>(proto::META_BACKUP_BEGIN, req));
  if (!r.ok()) return r.status().WithContext("beginning a backup session");
  return BackupSession{r->session_id(), r->lease_ms(), r->snapshot_unix_ms()};
}

Status BackupRenewAt(ClientContext& ctx, uint64_t session) {
  proto::BackupRenewRequest req;
  req.set_session_id(session);
  auto r = ctx.RunSync(ctx.Meta<proto::BackupRenewResponse>(proto::META_BACKUP_RENEW, req));
  return r.ok() ? Status::Ok() : r.status().WithContext("renewing backup session");
}

Status BackupEndAt(ClientContext& ctx, uint64_t session) {
  proto::BackupEndRequest req;
  req.set_session_id(session);
  auto r = ctx.RunSync(ctx.Meta<proto::BackupEndResponse>(proto::META_BACKUP_END, req));
  return r.ok() ? Status::Ok() : r.status().WithContext("ending backup session");
}

Result<BackupPage> BackupListAt(ClientContext& ctx, uint64_t session, std::string_view path,
                                bool started, std::string_view after, uint32_t limit) {
  proto::BackupListRequest req;
  req.set_session_id(session);
  req.set_path(std::string(path));
  req.set_started(started);
  req.set_after(std::string(after));
  req.set_limit(limit);
  auto r = ctx.RunSync(ctx.Meta<proto::BackupListResponse>(proto::META_BACKUP_LIST, req));
  if (!r.ok()) return r.status().WithContext("listing backup snapshot");
  BackupPage page;
  page.more = r->more();
  page.entries.reserve(r->entries_size());
  for (const proto::BackupEntry& e : r->entries()) {
    BackupEntry out;
    out.path = e.path();
    out.info = ToFileInfo(e.inode());
    for (const proto::ChunkInfo& c : e.chunks()) out.chunks.push_back(ToChunkLocation(c));
    out.has_inline_data = e.has_inline_data();
    out.inline_data = e.inline_data();
    for (const proto::BackupXattr& x : e.xattrs()) out.xattrs.push_back({x.name(), x.value()});
    page.entries.push_back(std::move(out));
  }
  return page;
}

Result<MetadataPage> BackupMetadataAt(ClientContext& ctx, uint64_t session, bool started,
                                      std::string_view after_key, uint64_t max_bytes) {
  proto::BackupMetadataRequest req;
  req.set_session_id(session);
  req.set_started(started);
  req.set_after_key(std::string(after_key));
  req.set_max_bytes(max_bytes);
  auto r = ctx.RunSync(ctx.Meta<proto::BackupMetadataResponse>(proto::META_BACKUP_METADATA, req));
  if (!r.ok()) return r.status().WithContext("reading metadata checkpoint");
  MetadataPage page;
  page.more = r->more();
  page.pairs.reserve(r->pairs_size());
  for (const proto::BackupKv& kv : r->pairs()) page.pairs.emplace_back(kv.key(), kv.value());
  return page;
}

Result<std::unique_ptr<FileReader>> OpenChunkAt(std::shared_ptr<ClientContext> ctx,
                                                const ChunkLocation& chunk, uint64_t chunk_size) {
  if (chunk.length > chunk_size) {
    return Status::InvalidArgument("chunk " + std::to_string(chunk.chunk_id) + " holds " +
                                   std::to_string(chunk.length) + " bytes, past its chunk size " +
                                   std::to_string(chunk_size));
  }
  // A one-chunk file: the chunk sits at index 0, and the size is its length,
  // so the reader serves exactly the chunk's raw bytes.
  proto::OpenResponse open;
  open.mutable_inode()->set_type(proto::INODE_FILE);
  open.mutable_inode()->set_size(chunk.length);
  open.mutable_inode()->set_chunk_size(chunk_size);
  proto::ChunkInfo* c = open.add_chunks();
  *c = FromChunkLocation(chunk);
  c->set_chunk_index(0);
  return MakeFileReader(std::move(ctx),
                        "chunk " + std::to_string(chunk.chunk_id) + " v" +
                            std::to_string(chunk.version),
                        std::move(open));
}

}  // namespace granary::client
