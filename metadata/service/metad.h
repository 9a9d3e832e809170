#pragma once
// RunMetad: the whole granary-metad process after option parsing.
//
// Opens <data_dir>/meta.db, creates the root folder on first start, serves the
// metadata RPCs until SIGTERM or SIGINT, then stops accepting, lets running
// operations finish, writes back in-memory state (folder times, node usage),
// syncs and closes RocksDB. Returns the process exit code: 0 after a clean
// stop, 1 when startup or shutdown failed (the reason is logged).

#include "metadata/metad_options.h"

namespace granary::metadata {

int RunMetad(const MetadOptions& options);

// Writes "host:port\n" to `path` through a temporary file and a rename, so a
// reader never sees a partial line. A non-empty `metrics` ("host:port" of
// the metrics endpoint) adds a second line "metrics host:port".
Status WritePortFile(const std::string& path, const std::string& host, uint16_t port,
                     const std::string& metrics = "");

}  // namespace granary::metadata
