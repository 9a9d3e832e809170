#pragma once

#include <memory>
#include <string>

#include "client/src/client_context.h"
#include "common/proto/granary.pb.h"

namespace granary::client {

// Writer of a file just created (and truncated) under write lease `lease_id`.
Result<std::unique_ptr<FileWriter>> MakeFileWriter(std::shared_ptr<ClientContext> ctx,
                                                   std::string path, const proto::Inode& inode,
                                                   uint64_t lease_id, bool fsync_on_close,
                                                   net::TraceId trace);

}  // namespace granary::client
