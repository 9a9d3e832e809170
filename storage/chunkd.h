#pragma once
// RunChunkd: the granary-chunkd daemon around the store and the service.
//
// Startup: raise the fd limit, open the store (scan + index), listen, write
// the port file, register with metad in the background, serve. SIGTERM or
// SIGINT stops accepting, stops the background loops, lets requests in
// flight finish (bounded by a grace period) and returns 0. Startup errors
// are logged and return 1.

#include "storage/chunkd_options.h"

namespace granary::storage {

// Logging must be initialised by the caller. Blocks until shutdown.
int RunChunkd(const ChunkdOptions& options);

}  // namespace granary::storage
