#pragma once
// Client::Warm (granary warm): the files under a path, their layouts, and
// CHUNK_WARM requests to the servers holding the replicas, several at once.

#include <string_view>

#include "client/src/client_context.h"
#include "granary/client.h"

namespace granary::client {

Result<WarmStats> WarmPath(Client& client, ClientContext& ctx, std::string_view path,
                           const WarmOptions& options);

}  // namespace granary::client
