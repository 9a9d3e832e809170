#pragma once
// The backup-session calls of granary::Client (granary backup), one metadata
// request each, and the reader over one chunk version. ClientImpl forwards here.

#include <memory>
#include <string_view>

#include "client/src/client_context.h"
#include "granary/client.h"

namespace granary::client {

Result<BackupSession> BackupBeginAt(ClientContext& ctx, uint64_t lease_ms);
Status BackupRenewAt(ClientContext& ctx, uint64_t session);
Status BackupEndAt(ClientContext& ctx, uint64_t session);
Result<BackupPage> BackupListAt(ClientContext& ctx, uint64_t session, std::string_view path,
                                bool started, std::string_view after, uint32_t limit);
Result<MetadataPage> BackupMetadataAt(ClientContext& ctx, uint64_t session, bool started,
                                      std::string_view after_key, uint64_t max_bytes);
Result<std::unique_ptr<FileReader>> OpenChunkAt(std::shared_ptr<ClientContext> ctx,
                                                const ChunkLocation& chunk, uint64_t chunk_size);

}  // namespace granary::client
